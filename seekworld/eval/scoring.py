"""Score one response the way the reward does, plus the evaluation-only fields.

Accuracy, format and distance are the reward's own result (`seekworld.rewards.scoring
.score_response`, formatted here, not recomputed). Added here: resolved IDs, the continent, and
for answers with coordinates, the region they fall in (reverse geocoding, `seekworld.eval.reverse`).
"""

from __future__ import annotations

from seekworld.geo.continents import continent_of
from seekworld.geo.gazetteer import load_gazetteer
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.rewards import distance
from seekworld.rewards.scoring import score_response
from seekworld.rewards.variants import RewardConfig

__all__ = ["SCORE_FIELDS", "check_labels", "describe_place", "evaluate_response"]

# What eval reports, scored by the reward's own path (weights are irrelevant: nothing is summed).
_EVAL = RewardConfig("eval", (("accuracy", 1.0), ("format", 0.0)))
_EVAL_DISTANCE = _EVAL.reporting("distance")

# Every field evaluate_response may set: a rescore drops them all before scoring again.
SCORE_FIELDS = (
    "accuracy",
    "country_ok",
    "format",
    "answer",
    "parsed",
    "gold_ids",
    "answer_ids",
    "reason",
    "continent",
    "distance_km",
    "geoguessr",
    "coord_ids",
    "coord_country_ok",
    "coord_region_ok",
)


def check_labels(rows: list[dict]) -> dict[str, GoldLabel]:
    """Parse every row's label up front, so a bad label stops the run before any generation."""
    golds, bad = {}, []
    for row in rows:
        try:
            golds[row["key"]] = parse_label(row["label"])
        except LabelError as exc:
            bad.append(f"{row['key']}: {exc}")
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise LabelError(f"{len(bad)} labels cannot be read: {'; '.join(bad[:5])}{more}")
    return golds


def _ids(country: str | None, place: str | None) -> dict:
    return {"country": country, "region": place}


def evaluate_response(response: str, gold: GoldLabel | str | dict) -> dict:
    """Evaluation fields for one response: accuracy, format, parsed answer, IDs, and the distance
    fields when the label has coordinates or the answer gives them."""
    if not isinstance(gold, GoldLabel):
        gold = parse_label(gold)
    result = score_response(response, gold, _EVAL_DISTANCE if gold.has_coordinates else _EVAL)
    answer = result.answer
    out: dict = {
        "accuracy": result.components["accuracy"],
        "country_ok": result.country_ok,
        "format": result.components["format"],
        "answer": answer.text if answer is not None else None,
        "parsed": None
        if answer is None
        else {
            "country_id": answer.country_id,
            "place_id": answer.place_id,
            "country_text": answer.country_text,
            "region_text": answer.region_text,
            "hedge": answer.hedge,
            "error": answer.error,
            "coordinates": list(answer.coordinates) if answer.coordinates else None,
        },
        "gold_ids": _ids(gold.country_id, gold.place_id),
        "answer_ids": _ids(answer.country_id, answer.place_id) if answer else _ids(None, None),
        "reason": result.answer_reason,
        "continent": continent_of(gold.country_id),
    }
    coords = answer.coordinates if answer is not None else None
    if gold.has_coordinates:
        km = result.logs["distance_km"]  # the worst distance when the answer gives no coordinates
        out["distance_km"] = km if coords else None
        out["geoguessr"] = distance.geoguessr_score(km)
    if coords:
        from seekworld.eval.reverse import reverse

        rev = reverse(*coords)
        out["coord_ids"] = _ids(rev.country_id, rev.place_id)
        out["coord_country_ok"] = rev.country_id is not None and rev.country_id == gold.country_id
        out["coord_region_ok"] = out["coord_country_ok"] and (
            # A whole-territory gold ("$singapore,singapore$" -> "SG") asks for the country only.
            not gold.regions or gold.place_id == gold.country_id or rev.place_id == gold.place_id
        )
    return out


def describe_place(country_id: str | None, place_id: str | None) -> dict:
    """IDs with English and Chinese names, for people (predict, demo)."""
    gaz = load_gazetteer()
    out: dict = {"country_id": country_id, "place_id": place_id}
    if country_id:
        out["country_en"] = gaz.country_name(country_id, "en")
        out["country_zh"] = gaz.country_name(country_id, "zh")
    if place_id and place_id in gaz.regions:
        out["region_en"] = gaz.region_name(place_id, "en")
        out["region_zh"] = gaz.region_name(place_id, "zh")
    elif place_id:  # a whole territory ("HK"): its country name is its name
        out["region_en"] = gaz.country_name(place_id, "en")
        out["region_zh"] = gaz.country_name(place_id, "zh")
    return out
