"""Location accuracy: 1 when the one `<answer>` names the gold country and first-level region.

Country and region are compared as gazetteer IDs. When an ID is missing on either side (a region
the table lacks), the answer's normalised name is compared with the label's own aliases instead,
so a gap in the table never fails a correct answer. Hedges, second answers (another block, an
answer tag written another way, a place named in the zone outside the block: seekworld.geo.zone)
and a country without a region score 0; `country_credit` (default 0) pays for the right country
alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from seekworld.geo.answer import (
    SECOND_ANSWER,
    TOO_LONG,
    AnswerError,
    ParsedAnswer,
    answer_zone,
    parse_answer,
)
from seekworld.geo.gazetteer import load_gazetteer
from seekworld.geo.label import GoldLabel
from seekworld.geo.mentions import names_any_place
from seekworld.geo.normalize import key, normalize, strip_type_words

__all__ = ["AccuracyResult", "check", "compute_score"]


@dataclass(slots=True)  # made per sample and never shared: a frozen one costs ~4x to build
class AccuracyResult:
    score: float
    answer: ParsedAnswer | None
    country_ok: bool = False
    region_ok: bool = False
    reason: str | None = None  # why the score is not 1

    @property
    def too_long(self) -> bool:
        """The answer was over the length cap (scored 0 unparsed; logged as `answer_too_long`)."""
        return self.reason is not None and self.reason.startswith(TOO_LONG)


def _country_ok(answer: ParsedAnswer, gold: GoldLabel) -> bool:
    if answer.country_id is not None and gold.country_id is not None:
        return answer.country_id == gold.country_id
    return answer.country_text is not None and key(answer.country_text) in gold.country_keys


def _region_ok(answer: ParsedAnswer, gold: GoldLabel) -> bool:
    if not gold.regions:
        return True  # a label with no region asks for the country only
    if answer.place_id is not None and gold.place_id is not None:
        return answer.place_id == gold.place_id
    # One side is missing from the table: compare the answer's words with the label's aliases.
    text = answer.region_text
    if text is None:
        return False
    return key(text) in gold.region_keys or strip_type_words(normalize(text)) in gold.region_keys


def check(response: str, gold: GoldLabel, country_credit: float = 0.0) -> AccuracyResult:
    """Score one response against a parsed gold label, with the reason when it is not 1."""
    try:
        content, outside = answer_zone(response)
    except AnswerError as exc:
        return AccuracyResult(0.0, None, reason=str(exc))
    answer = parse_answer(content)
    if outside:
        countries = tuple(c for c in (answer.country_id, gold.country_id) if c is not None)
        named = names_any_place(load_gazetteer(), countries, outside) if countries else []
        if named:
            where = ", ".join(named[:4])
            return AccuracyResult(0.0, answer, reason=f"{SECOND_ANSWER}: outside the <answer> block: {where}")
    if answer.hedge:
        return AccuracyResult(0.0, answer, reason=answer.error)
    country_ok = _country_ok(answer, gold)
    if not country_ok:
        return AccuracyResult(0.0, answer, reason=answer.error or "wrong country")
    if answer.place_id is None and answer.region_text is None and gold.regions:
        return AccuracyResult(country_credit, answer, country_ok=True, reason=answer.error or "no region")
    if _region_ok(answer, gold):
        return AccuracyResult(1.0, answer, country_ok=True, region_ok=True)
    return AccuracyResult(country_credit, answer, country_ok=True, reason=answer.error or "wrong region")


def compute_score(response: str, gold: GoldLabel, country_credit: float = 0.0) -> float:
    return check(response, gold, country_credit).score
