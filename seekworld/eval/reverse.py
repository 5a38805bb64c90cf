"""Offline reverse geocoding of coordinates to gazetteer IDs, through `reverse_geocode` (PyPI).

    reverse(30.66, 104.06) -> ReverseResult(country_id="CN", place_id="CN-SC", state="Sichuan", ...)

`reverse_geocode` 1.6.6 finds the nearest GeoNames place of ≥1000 people (2025 data) and names its
country (ISO alpha-2) and admin-1 region (GeoNames' English name). The country code is taken as a
gazetteer country ID when the table has it (else its name is resolved); the admin-1 name is then
resolved *within that country* with `Gazetteer.locate`, the same lookup answers go through, so the
IDs compare with label IDs directly. Nearest-place means a point at sea or on a border takes the
closest town's region. `coverage()` measures how many of its (country, admin-1) pairs resolve.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from seekworld.geo.gazetteer import Gazetteer, load_gazetteer

__all__ = ["ReverseResult", "coverage", "reverse", "reverse_many"]

_INSTALL = "reverse geocoding needs reverse_geocode: pip install 'reverse_geocode==1.6.6' (extra 'eval')"


@dataclass(frozen=True)
class ReverseResult:
    country_id: str | None  # gazetteer country ID (None if the table lacks the country)
    place_id: str | None  # canonical place ID, as `Gazetteer.locate` gives it; None if unresolved
    country_code: str  # what reverse_geocode said
    state: str | None
    city: str | None


def _module():
    try:
        import reverse_geocode
    except ImportError as exc:
        raise ImportError(_INSTALL) from exc
    return reverse_geocode


@lru_cache(maxsize=4096)
def _resolve(country_code: str, country_name: str, state: str | None, gaz: Gazetteer) -> tuple:
    country = country_code if country_code in gaz.countries else gaz.resolve_country(country_name or "")
    place = gaz.locate(country, state) if country and state else None
    return country, place


def reverse_many(
    coordinates: list[tuple[float, float]], gazetteer: Gazetteer | None = None
) -> list[ReverseResult]:
    """Reverse-geocode many (lat, lon) pairs at once (one KD-tree query)."""
    if not coordinates:
        return []
    gaz = gazetteer or load_gazetteer()
    out = []
    for hit in _module().search([(float(a), float(b)) for a, b in coordinates]):
        country, place = _resolve(hit.get("country_code", ""), hit.get("country", ""), hit.get("state"), gaz)
        out.append(
            ReverseResult(country, place, hit.get("country_code", ""), hit.get("state"), hit.get("city"))
        )
    return out


def reverse(lat: float, lon: float, gazetteer: Gazetteer | None = None) -> ReverseResult:
    return reverse_many([(lat, lon)], gazetteer)[0]


def coverage(gazetteer: Gazetteer | None = None) -> dict:
    """How many of reverse_geocode's distinct (country, admin-1) pairs resolve to a place ID,
    unweighted and weighted by the places (towns) in them."""
    gaz = gazetteer or load_gazetteer()
    data = _module().GeocodeData()
    pairs: dict[tuple[str, str], int] = {}
    for loc in data._locations:  # the package keeps its table here; no public accessor
        if loc.get("state"):
            k = (loc["country_code"], loc["state"])
            pairs[k] = pairs.get(k, 0) + 1
    resolved = {k for k in pairs if _resolve(k[0], data._countries.get(k[0], ""), k[1], gaz)[1]}
    towns = sum(pairs.values())
    return {
        "pairs": len(pairs),
        "pairs_resolved": len(resolved),
        "places": towns,
        "places_resolved": sum(pairs[k] for k in resolved),
        "unresolved_examples": sorted(f"{c}: {s}" for c, s in set(pairs) - resolved)[:50],
    }
