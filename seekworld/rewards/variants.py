"""Reward composition: the components a reward is made of, and the named variants that weigh them.

    RewardConfig.from_variant("rule+length")  # format 0.5, accuracy 1.0, length 1.0

Every component is a pure function `(response, gold, options) -> ComponentScore` (its value, the
extra numbers it logs, and for accuracy the check itself), and declares those extra log keys, so a
config knows its log keys (`RewardConfig.log_keys`) without scoring anything. Components computed
outside the core (`judge`: an LLM call; `tool_bonus`: the zoom episode's) have no function: their
values are passed in. Scoring and the weighted sum live in `seekworld.rewards.scoring`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import NamedTuple

from seekworld.errors import UsageError
from seekworld.geo.label import GoldLabel
from seekworld.registry import Registry
from seekworld.rewards import accuracy, distance, length
from seekworld.rewards import format as format_reward

__all__ = [
    "COMPONENTS",
    "LENGTH_LOGS",
    "VARIANTS",
    "ComponentScore",
    "RewardConfig",
    "RewardOptions",
    "parse_weights",
]


@dataclass(frozen=True)
class RewardOptions:
    country_credit: float = 0.0  # accuracy paid for the right country alone (opt-in)
    # Per new letter of reasoning (docs/rewards.md: calibrated so genuine reasoning earns what
    # SeekWorld's 0.001 per character paid it); SeekWorld's exact rule keeps its 0.001.
    length_per_char: float = length.PER_LETTER
    length_cap: float = 1.0


class ComponentScore(NamedTuple):  # a tuple: made per sample and component, so cheap to build
    value: float
    logs: tuple[tuple[str, float], ...] = ()  # extra numbers to log (e.g. distance_km)
    detail: accuracy.AccuracyResult | None = None  # the accuracy check, for reasons and IDs


ComponentFn = Callable[[str, GoldLabel, "RewardOptions"], ComponentScore]
# format's two outcomes, built once.
_FORMAT = {0.0: ComponentScore(0.0), 1.0: ComponentScore(1.0)}


def _format(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    value = format_reward.compute_score(response)
    return _FORMAT.get(value) or ComponentScore(value)


_TOO_LONG_LOGS = {False: (("answer_too_long", 0.0),), True: (("answer_too_long", 1.0),)}


def _accuracy(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    result = accuracy.check(response, gold, options.country_credit)
    return ComponentScore(result.score, _TOO_LONG_LOGS[result.too_long], detail=result)


# What a length component logs: the reasoning's characters and those it counted (the padding
# monitor's figures, read off the scored sample instead of measured twice).
LENGTH_LOGS = (("reasoning_chars", 0.0), ("counted_chars", 0.0))


def _length(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    value, chars, counted = length.measured(response, options.length_per_char, options.length_cap)
    return ComponentScore(value, (("reasoning_chars", chars), ("counted_chars", counted)))


def _seekworld_length(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    value, chars, counted = length.seekworld_measured(response, cap=options.length_cap)
    return ComponentScore(value, (("reasoning_chars", chars), ("counted_chars", counted)))


def _distance(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    value, km = distance.compute_score(response, gold)
    return ComponentScore(value, (("distance_km", km),))


@dataclass(frozen=True)
class Component:
    name: str
    fn: ComponentFn | None  # None: computed outside and passed in `external`
    description: str
    # Extra numbers its ComponentScore logs: (key, value when the sample cannot be scored).
    logs: tuple[tuple[str, float], ...] = ()
    # Paid only when this component is 1 (length: only with the right answer), else 0.
    paid_with: str | None = None


COMPONENTS: Registry[Component] = Registry("reward component")
for _component in (
    Component("format", _format, "<think> then <answer>, once each"),
    Component(
        "accuracy",
        _accuracy,
        "country and first-level region both right",
        (("answer_too_long", 0.0),),
    ),
    Component(
        "length",
        _length,
        "0.0011 per new letter of reasoning, capped at 1, paid with a right answer only",
        LENGTH_LOGS,
        paid_with="accuracy",
    ),
    Component(
        "seekworld_length",
        _seekworld_length,
        "SeekWorld's exact rule: 0.001 per non-space, non-punctuation character, capped at 1 (gameable)",
        LENGTH_LOGS,
    ),
    Component(
        "distance",
        _distance,
        "GeoGuessr score of answer coordinates, scaled to [0, 1]",
        (("distance_km", distance.MAX_DISTANCE_KM),),
    ),
    Component("judge", None, "LLM judge of the reasoning, in [0, 1]"),
    Component("tool_bonus", None, "zoom episodes: paid once for a right answer after a crop"),
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
        "rule + 1.0·length (new reasoning, paid with a right answer)",
    ),
    Variant(
        "rule+seekworld-length",
        (("format", 0.5), ("accuracy", 1.0), ("seekworld_length", 1.0)),
        "rule + SeekWorld's exact length rule, for replicating the paper: GAMEABLE (padding earns it)",
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

    @cached_property
    def plan(
        self,
    ) -> tuple[tuple[str, ComponentFn | None, str | None, tuple[tuple[str, float], ...]], ...]:
        """(name, function, the component it is paid with, its logs' values when it does not run)
        per component, looked up once per config, not per sample; components paid with another
        come after the others, so a gate is known before what it gates is computed (and a gated
        component is computed only when its gate is 1)."""
        steps = []
        for name, _ in self.weights:
            c = COMPONENTS.get(name)
            steps.append((name, c.fn, c.paid_with, c.logs))
        return tuple(sorted(steps, key=lambda step: step[2] is not None))

    # Looked up once per config (configs are frozen and shared), not per sample.
    @cached_property
    def components(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.weights)

    @cached_property
    def needs_judge(self) -> bool:
        return any(name == "judge" and w != 0 for name, w in self.weights)

    @cached_property
    def log_keys(self) -> tuple[str, ...]:
        """The keys of every `SampleScore.logs` of this config, in order: components, then extras."""
        extras = [k for name in self.components for k, _ in COMPONENTS.get(name).logs]
        return (*self.components, *(k for k in dict.fromkeys(extras) if k not in self.components))

    def reporting(self, *names: str) -> RewardConfig:
        """This config with `names` added at weight 0: scored and reported, never summed."""
        extra = tuple((n, 0.0) for n in names if n not in self.components)
        return replace(self, weights=self.weights + extra)
