"""Distance reward: GeoGuessr's score 5000·exp(-d / 1492.7 km), scaled to [0, 1].

Needs a label with `lat`/`lon` and an answer that gives coordinates (`<answer>30.66, 104.06</answer>`
or coordinates appended to country/region). A missing side counts as the worst possible guess:
the distance is half the Earth's circumference, so means over a batch stay meaningful.
"""

from __future__ import annotations

import math

from seekworld.geo.answer import AnswerError, extract_answer, parse_answer
from seekworld.geo.label import GoldLabel

__all__ = ["MAX_DISTANCE_KM", "compute_score", "geoguessr_score", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
MAX_DISTANCE_KM = math.pi * EARTH_RADIUS_KM
GEOGUESSR_SCALE_KM = 1492.7


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def geoguessr_score(distance_km: float) -> float:
    """GeoGuessr points for a distance, in [0, 5000]."""
    return 5000.0 * math.exp(-distance_km / GEOGUESSR_SCALE_KM)


def answer_distance_km(response: str, gold: GoldLabel) -> float | None:
    """Distance between the answer's coordinates and the label's, or None when either is missing."""
    if not gold.has_coordinates:
        return None
    try:
        coords = parse_answer(extract_answer(response)).coordinates
    except AnswerError:
        return None
    if coords is None:
        return None
    return haversine_km(gold.lat, gold.lon, coords[0], coords[1])


def compute_score(response: str, gold: GoldLabel) -> tuple[float, float]:
    """(score in [0, 1], distance in km)."""
    d = answer_distance_km(response, gold)
    d = MAX_DISTANCE_KM if d is None else d
    return geoguessr_score(d) / 5000.0, d
