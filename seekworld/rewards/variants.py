"""Reward composition: named variants pick components and weights; one function scores a sample.

    score_response(response, "$spain,galicia$", RewardConfig.from_variant("rule"))

Components are pure functions of (response, gold, options). `judge` is computed outside (it calls
an LLM; see seekworld.rewards.judge) and passed in through `external`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from seekworld.errors import UsageError
from seekworld.geo.answer import ParsedAnswer
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.registry import Registry
from seekworld.rewards import accuracy, distance, length
from seekworld.rewards import format as format_reward

__all__ = [
    "COMPONENTS",
    "VARIANTS",
    "RewardConfig",
    "RewardOptions",
    "SampleScore",
    "parse_weights",
    "score_response",
]


@dataclass(frozen=True)
class RewardOptions:
    country_credit: float = 0.0  # accuracy paid for the right country alone (opt-in)
    length_per_char: float = 0.001
    length_cap: float = 1.0


@dataclass(frozen=True)
class ComponentScore:
    value: float
    logs: tuple[tuple[str, float], ...] = ()  # extra numbers to log (e.g. distance_km)
    detail: accuracy.AccuracyResult | None = None  # the accuracy check, for reasons and IDs


ComponentFn = Callable[[str, GoldLabel, RewardOptions], ComponentScore]


def _format(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    return ComponentScore(format_reward.compute_score(response))


def _accuracy(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    result = accuracy.check(response, gold, options.country_credit)
    return ComponentScore(result.score, detail=result)


def _length(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    return ComponentScore(length.compute_score(response, options.length_per_char, options.length_cap))


def _distance(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    value, km = distance.compute_score(response, gold)
    return ComponentScore(value, (("distance_km", km),))


@dataclass(frozen=True)
class Component:
    name: str
    fn: ComponentFn | None  # None: computed outside and passed in `external`
    description: str


COMPONENTS: Registry[Component] = Registry("reward component")
for _component in (
    Component("format", _format, "<think> then <answer>, once each"),
    Component("accuracy", _accuracy, "country and first-level region both right"),
    Component("length", _length, "0.001 per reasoning character, capped at 1"),
    Component("distance", _distance, "GeoGuessr score of answer coordinates, scaled to [0, 1]"),
    Component("judge", None, "LLM judge of the reasoning, in [0, 1]"),
):
    COMPONENTS.register(_component.name, _component)


@dataclass(frozen=True)
class Variant:
    name: str
    weights: tuple[tuple[str, float], ...]
    description: str


VARIANTS: Registry[Variant] = Registry("reward variant")
for _variant in (
    Variant("rule", (("format", 0.5), ("accuracy", 1.0)), "0.5·format + 1.0·accuracy (default)"),
    Variant(
        "rule+length",
        (("format", 0.5), ("accuracy", 1.0), ("length", 1.0)),
        "rule + 1.0·length (SeekWorld's length incentive)",
    ),
    Variant(
        "rule+judge",
        (("format", 0.5), ("accuracy", 2.0), ("judge", 1.0)),
        "0.5·format + 2.0·accuracy + 1.0·judge (SeekWorld's process-reward variant)",
    ),
    Variant("distance", (("distance", 1.0),), "GeoGuessr distance score only"),
    Variant(
        "rule+distance",
        (("format", 0.5), ("accuracy", 1.0), ("distance", 1.0)),
        "rule + 1.0·distance",
    ),
):
    VARIANTS.register(_variant.name, _variant)


def parse_weights(text: str) -> dict[str, float]:
    """'format=0.5,accuracy=2' -> {'format': 0.5, 'accuracy': 2.0}. Raises UsageError (a ValueError)."""
    weights: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(f"weight {item!r} must look like name=number")
        COMPONENTS.get(name)  # raises with "did you mean"
        try:
            weights[name] = float(value)
        except ValueError:
            raise UsageError(f"weight for {name!r} is not a number: {value!r}") from None
    return weights


@dataclass(frozen=True)
class RewardConfig:
    variant: str = "rule"
    weights: tuple[tuple[str, float], ...] = (("format", 0.5), ("accuracy", 1.0))
    options: RewardOptions = field(default_factory=RewardOptions)

    @classmethod
    def from_variant(
        cls, variant: str = "rule", weights: Mapping[str, float] | str | None = None, **options: float
    ) -> RewardConfig:
        """A variant's weights, with overrides (a dict or 'name=w,...'); a weight of 0 drops it."""
        base = dict(VARIANTS.get(variant).weights)
        if isinstance(weights, str):
            weights = parse_weights(weights)
        for name, w in (weights or {}).items():
            COMPONENTS.get(name)
            base[name] = float(w)
        return cls(variant, tuple(base.items()), replace(RewardOptions(), **options))

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.weights)

    @property
    def needs_judge(self) -> bool:
        return any(name == "judge" and w != 0 for name, w in self.weights)


@dataclass(frozen=True)
class SampleScore:
    reward: float
    components: dict[str, float]
    logs: dict[str, float]  # components + extra numbers; same keys for every sample of a config
    gold: GoldLabel | None = None
    answer_reason: str | None = None  # why accuracy is not 1 (when the variant weighs accuracy)
    answer: ParsedAnswer | None = None  # when an answer block was found
    label_error: str | None = None


def score_response(
    response: str,
    label: str | dict | GoldLabel,
    config: RewardConfig | None = None,
    external: Mapping[str, float] | None = None,
) -> SampleScore:
    """Score one response. A label that cannot be parsed gives reward 0 and `label_error`."""
    config = config or RewardConfig()
    external = external or {}
    try:
        gold = label if isinstance(label, GoldLabel) else parse_label(label)
    except LabelError as exc:
        zeros = {name: 0.0 for name in config.components}
        logs = dict(zeros)
        if "distance" in zeros:
            logs["distance_km"] = distance.MAX_DISTANCE_KM
        return SampleScore(0.0, zeros, logs, label_error=str(exc))

    values: dict[str, float] = {}
    logs: dict[str, float] = {}
    checked: accuracy.AccuracyResult | None = None
    for name, _ in config.weights:
        component = COMPONENTS.get(name)
        if component.fn is None:
            values[name] = float(external.get(name, 0.0))
            continue
        result = component.fn(response, gold, config.options)
        values[name] = result.value
        logs.update(result.logs)
        checked = result.detail or checked
    total = sum(w * values[name] for name, w in config.weights)
    answer = checked.answer if checked else None
    reason = checked.reason if checked else None
    return SampleScore(total, values, {**values, **logs}, gold, reason, answer)
