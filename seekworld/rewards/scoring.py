"""The one scoring path: responses and labels in, each sample's component scores and total out.

    scores = score_samples(responses, labels, RewardConfig.from_variant("rule"))
    scores[0].reward, scores[0].components, scores[0].reasons

Every adapter scores through here: the reward server and both reward files (through
`seekworld.service`), TRL's reward function, zoom episodes, eval, `seekworld score` and
`seekworld.score`. A batch is scored in three steps (`Scoring`): the rule components of each sample
(pure functions, `seekworld.rewards.variants`), then the judge on what they found when the variant
weighs it (one batch call, `seekworld.rewards.judge`), then each sample's total: the weighted sum of
its components, computed in `weighted_total` and nowhere else.

A label that cannot be parsed scores 0 with `label_error`. With `strict=False` (the serving paths)
an unexpected error while scoring one sample is logged and that sample scores 0 with `error` set, so
a batch always gets numbers; `strict=True` (tests, eval, `seekworld score`) re-raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seekworld.geo.answer import ParsedAnswer
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.rewards.judge import Judge, JudgeItem, JudgeResult
from seekworld.rewards.judge.item import judge_item
from seekworld.rewards.variants import COMPONENTS, ComponentScore, RewardConfig

__all__ = [
    "SampleScore",
    "Scoring",
    "score_response",
    "score_samples",
    "score_samples_async",
    "weighted_total",
]

log = logging.getLogger(__name__)


@dataclass(slots=True)  # made per sample and never shared: a frozen one costs ~4x to build
class SampleScore:
    reward: float
    components: dict[str, float]
    logs: dict[str, float]  # components + extra numbers; same keys for every sample of a config
    gold: GoldLabel | None = None
    answer_reason: str | None = None  # why accuracy is not 1 (when the variant weighs accuracy)
    answer: ParsedAnswer | None = None  # when an answer block was found
    label_error: str | None = None
    country_ok: bool = False  # the answer's country is the label's (when accuracy is scored)
    judge: JudgeResult | None = None  # when the judge was asked
    error: str | None = None  # an unexpected error while scoring (the sample scores 0)

    @property
    def scored(self) -> bool:
        """The label was read and nothing failed: the components mean something."""
        return self.label_error is None and self.error is None

    @property
    def reasons(self) -> dict[str, str]:
        """Why points were lost, by component ('label' when the label could not be read)."""
        out = {"label": self.label_error} if self.label_error is not None else {}
        if self.answer_reason is not None:
            out["accuracy"] = self.answer_reason
        return out

    @classmethod
    def unscored(
        cls, config: RewardConfig, label_error: str | None = None, error: str | None = None
    ) -> SampleScore:
        """Reward 0 with the config's exact log keys (a label or sample that cannot be scored)."""
        zeros = {name: 0.0 for name in config.components}
        extras = {k: v for name in config.components for k, v in COMPONENTS.get(name).logs}
        return cls(0.0, zeros, {**zeros, **extras}, label_error=label_error, error=error)


def _answer_and_image(score: SampleScore) -> tuple[ParsedAnswer | None, str | None]:
    return score.answer, score.gold.image if score.gold is not None else None


def weighted_total(values: Mapping[str, float], config: RewardConfig) -> float:
    """The reward: each component's value times its weight, summed in the config's order. The one
    place a reward is summed."""
    return sum([weight * values[name] for name, weight in config.weights])


def _rules(
    response: str, label: Any, config: RewardConfig, external: Mapping[str, float] | None
) -> SampleScore:
    """Every component with a function, on one sample; components without one (the judge, the tool
    bonus) take their value from `external`, else 0. The total is not computed here."""
    try:
        gold = label if isinstance(label, GoldLabel) else parse_label(label)
    except LabelError as exc:
        return SampleScore.unscored(config, str(exc))
    values: dict[str, float] = {}
    logs: dict[str, float] = {}
    checked = None
    options = config.options
    for name, fn, gate, quiet in config.plan:
        if external is not None and name in external:
            values[name] = float(external[name])
            continue
        if fn is None or (gate is not None and _gate(gate, values, response, gold, config) < 1.0):
            values[name] = 0.0  # computed outside and not given, or its gate is not met
            if quiet:
                logs.update(quiet)  # every sample of a config has the same log keys
            continue
        result: ComponentScore = fn(response, gold, options)
        values[name] = result[0]
        if result[1]:
            logs.update(result[1])
        if result[2] is not None:
            checked = result[2]
    if checked is None:
        return SampleScore(0.0, values, {**values, **logs}, gold)
    return SampleScore(
        0.0, values, {**values, **logs}, gold, checked.reason, checked.answer, country_ok=checked.country_ok
    )


def _gate(
    name: str, values: Mapping[str, float], response: str, gold: GoldLabel, config: RewardConfig
) -> float:
    """A gating component's value: as scored, else computed for the gate alone (not reported)."""
    if name in values:
        return values[name]
    fn = COMPONENTS.get(name).fn
    return fn(response, gold, config.options)[0] if fn is not None else 0.0


class Scoring:
    """One batch being scored: the rule components at construction, then (when the variant weighs
    the judge) the judge's results for `judge_items`, then the totals in `finish`."""

    def __init__(
        self,
        responses: Sequence[str],
        labels: Sequence[Any],
        config: RewardConfig,
        external: Sequence[Mapping[str, float] | None] | None = None,
        strict: bool = False,
    ) -> None:
        if len(responses) != len(labels) or (external is not None and len(external) != len(labels)):
            raise ValueError("responses, labels (and external values) must have the same length")
        self.responses = responses
        self.config = config
        self._judged: list[int] | None = None
        self.samples: list[SampleScore] = []
        for i, (response, label) in enumerate(zip(responses, labels, strict=True)):
            try:
                self.samples.append(_rules(response, label, config, external[i] if external else None))
            except Exception as exc:
                if strict:
                    raise
                log.exception("scoring sample %d failed; it scores 0", i)
                self.samples.append(SampleScore.unscored(config, error=type(exc).__name__))

    @property
    def judged(self) -> list[int]:
        """The samples the judge is asked about: those scored, when the variant weighs it."""
        if self._judged is None:
            scored = self.config.needs_judge
            self._judged = [i for i, s in enumerate(self.samples) if s.scored] if scored else []
        return self._judged

    def judge_items(self) -> list[JudgeItem]:
        """What the judge is told about each sample of `judged`, in that order."""
        return [judge_item(self.responses[i], *_answer_and_image(self.samples[i])) for i in self.judged]

    def finish(self, judged: Sequence[JudgeResult] | None = None) -> list[SampleScore]:
        """Each sample with its total, and the judge's results (one per `judged` sample, in order)
        when given; without them a weighed judge scores 0."""
        for i, result in zip(self.judged if judged is not None else (), judged or (), strict=True):
            sample = self.samples[i]
            sample.judge = result
            sample.components["judge"] = sample.logs["judge"] = result.score
        for sample in self.samples:
            if sample.scored:
                sample.reward = weighted_total(sample.components, self.config)
        return self.samples


def _check_judge(config: RewardConfig, judge: Judge | None) -> None:
    if config.needs_judge and judge is None:
        raise ValueError(f"variant {config.variant!r} weighs the judge: pass a Judge")


def _unjudged(items: Sequence[JudgeItem]) -> list[JudgeResult]:
    # The judge client never raises by design; if a bug makes it, the batch still gets its rule
    # scores, and the judge pays 0 counted as an error.
    log.exception("the judge raised; its %d samples score 0 (judge_error)", len(items))
    return [JudgeResult(0.0, error="internal") for _ in items]


def score_samples(
    responses: Sequence[str],
    labels: Sequence[Any],
    config: RewardConfig,
    judge: Judge | None = None,
    *,
    external: Sequence[Mapping[str, float] | None] | None = None,
    strict: bool = False,
    deadline: float | None = None,
) -> list[SampleScore]:
    """Score a batch (module docstring). The judge, when the variant weighs it, judges the batch
    concurrently and gives up at `deadline` (a `time.monotonic()` instant); `external` gives
    per-sample values of components computed outside (zoom: the transcript's format, the tool bonus)."""
    _check_judge(config, judge)
    scoring = Scoring(responses, labels, config, external, strict)
    items = scoring.judge_items()
    try:
        judged = judge.score_many(items, deadline=deadline) if items else []  # type: ignore[union-attr]
    except Exception:
        judged = _unjudged(items)
    return scoring.finish(judged)


async def score_samples_async(
    responses: Sequence[str],
    labels: Sequence[Any],
    config: RewardConfig,
    judge: Judge | None = None,
    *,
    strict: bool = False,
    deadline: float | None = None,
) -> list[SampleScore]:
    """`score_samples` from an event loop: the judge's calls run on the caller's loop."""
    _check_judge(config, judge)
    scoring = Scoring(responses, labels, config, None, strict)
    items = scoring.judge_items()
    try:
        judged = await judge.score_many_async(items, deadline=deadline) if items else []  # type: ignore[union-attr]
    except Exception:
        judged = _unjudged(items)
    return scoring.finish(judged)


def score_response(
    response: str,
    label: str | dict | GoldLabel,
    config: RewardConfig | None = None,
    external: Mapping[str, float] | None = None,
) -> SampleScore:
    """Score one response without a judge (its value, if weighed, comes from `external`)."""
    config = config or RewardConfig()
    return Scoring(
        [response], [label], config, [external] if external is not None else None, strict=True
    ).finish()[0]
