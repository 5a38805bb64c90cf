"""Reverse geocoding of answer coordinates to gazetteer IDs (offline, reverse_geocode)."""

import pytest

pytest.importorskip("reverse_geocode", reason="reverse geocoding needs reverse_geocode (extra 'eval')")

from seekworld.eval.reverse import coverage, reverse, reverse_many
from seekworld.eval.scoring import evaluate_response


@pytest.mark.parametrize(
    "lat,lon,country,place",
    [
        (30.66, 104.06, "CN", "CN-SC"),  # Chengdu -> China / Sichuan
        (23.13, 113.26, "CN", "CN-GD"),  # Guangzhou
        (48.14, 11.58, "DE", "DE-BY"),  # Munich: GeoNames says "Bavaria"
        (40.71, -74.00, "US", "US-NY"),  # New York City
        (-33.87, 151.21, "AU", "AU-NSW"),  # Sydney
        (34.69, 135.50, "JP", "JP-27"),  # Osaka
        (-12.97, -38.50, "BR", "BR-BA"),  # Salvador, Bahia
        (22.28, 114.16, "HK", None),  # Hong Kong: a country ID; its districts are not level-1 places
    ],
)
def test_known_points(lat, lon, country, place):
    hit = reverse(lat, lon)
    assert (hit.country_id, hit.place_id) == (country, place)


def test_many_at_once():
    hits = reverse_many([(30.66, 104.06), (48.14, 11.58)])
    assert [h.place_id for h in hits] == ["CN-SC", "DE-BY"]
    assert reverse_many([]) == []


def test_region_accuracy_of_coordinate_answers():
    gold = {"country": "China", "region": "Sichuan", "lat": 30.57, "lon": 104.07}
    inside = evaluate_response("<think>x</think><answer>30.66, 104.06</answer>", gold)
    assert inside["coord_country_ok"] and inside["coord_region_ok"]
    chongqing = evaluate_response("<think>x</think><answer>29.56N, 106.55E</answer>", gold)
    assert chongqing["coord_country_ok"] and not chongqing["coord_region_ok"]
    assert chongqing["coord_ids"] == {"country": "CN", "region": "CN-CQ"}
    # A whole-territory label asks for the country only.
    hk = evaluate_response("<answer>22.28, 114.16</answer>", "$hong kong,hong kong$")
    assert hk["coord_region_ok"] and "distance_km" not in hk  # no gold coordinates, no distance


def test_coverage_of_the_reverse_geocoder():
    c = coverage()
    # Measured: 3,362 of 3,773 (country, admin-1) pairs resolve, holding 98% of its places.
    assert c["pairs_resolved"] / c["pairs"] > 0.85
    assert c["places_resolved"] / c["places"] > 0.95
