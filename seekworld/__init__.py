"""seekworld: RL toolkit for geolocation reasoning with vision-language models.

The small public API (importing `seekworld` loads nothing but the standard library; each function
imports what it needs when called):

    import seekworld
    result = seekworld.score("<think>…</think><answer>China, Sichuan</answer>", "$china,sichuan$")
    result.reward, result.components, result.reasons  # 1.5, {"format": 1.0, "accuracy": 1.0}, {}
    seekworld.parse_answer("<answer>Spain, Galicia</answer>").place_id  # "ES-GA"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seekworld.geo.answer import ParsedAnswer
    from seekworld.rewards.scoring import SampleScore

from seekworld._version import __version__

__all__ = ["__version__", "parse_answer", "score"]


def score(
    response: str,
    label: str | dict[str, Any],
    reward: str = "rule",
    weights: str | dict[str, float] | None = None,
    country_credit: float = 0.0,
) -> SampleScore:
    """Score one response against its gold label exactly as the reward server does.

    `label` is "$country,region$" or {"country": ..., "region": ..., "lat": ..., "lon": ...};
    `reward` a variant (rule, rule+length, rule+seekworld-length, distance, rule+distance; the
    judge variant needs the server). Returns the variant's `SampleScore`: `reward` (the weighted
    total), `components` (each component's score), `logs`, `reasons` (why points were lost),
    `answer` (the parsed answer). A label that cannot be read scores 0 with `label_error`. Raises
    SeekworldError for an unknown variant or bad weights.
    """
    from seekworld.errors import SeekworldError
    from seekworld.rewards.scoring import score_response
    from seekworld.rewards.variants import RewardConfig
    from seekworld.service.settings import RewardSettings

    RewardSettings.row("country_credit").check(country_credit, "country_credit")  # the table's range: [0, 1]
    # An unknown variant or component, or bad weights, raise SeekworldError subclasses.
    config = RewardConfig.from_variant(reward, weights, country_credit=country_credit)
    if config.needs_judge:
        raise SeekworldError(f"variant {reward!r} weighs the LLM judge: score it with `seekworld serve`")
    return score_response(response, label, config)


def parse_answer(text: str) -> ParsedAnswer:
    """The answer in `text`, resolved to gazetteer IDs (`country_id`, `place_id`, `coordinates`).

    `text` is a whole response (its one `<answer>` block is read) or bare answer text
    ("China, Sichuan"). A response without exactly one answer block gives a `ParsedAnswer` with
    `error` set and no IDs; a hedge ("Spain or Portugal") has `hedge` set and no IDs.
    """
    from seekworld.geo.answer import AnswerError, ParsedAnswer, extract_answer
    from seekworld.geo.answer import parse_answer as parse_content

    if "<answer" in text.lower() or "</answer" in text.lower():
        try:
            text = extract_answer(text)
        except AnswerError as exc:
            return ParsedAnswer(text=text, error=str(exc))
    return parse_content(text)
