"""Reward composition: named variants pick components and weights; one function scores a sample.

    score_response(response, "$spain,galicia$", RewardConfig.from_variant("rule"))

Every component is a pure function `(response, gold, options)` returning its value (a float), or a
`ComponentScore` when it has more to say (extra logs, the accuracy check), and declares the extra
numbers it logs, so a config knows its log keys (`RewardConfig.log_keys`) without scoring
anything. `judge` is computed outside (it calls an LLM; see seekworld.rewards.judge) and passed in
through `external`. `score_response` is the one scoring path: the reward server, the reward file,
the zoom agent, eval, `seekworld score` and `seekworld.score` all format its `SampleScore`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from seekworld.errors import UsageError
from seekworld.geo.answer import ParsedAnswer
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.registry import Registry
from seekworld.rewards import accuracy, distance, length
from seekworld.rewards import format as format_reward

__all__ = [
    "COMPONENTS",
    "VARIANTS",
    "ComponentScore",
    "RewardConfig",
    "RewardOptions",
    "SampleScore",
    "component_value",
    "parse_weights",
    "score_response",
]


@dataclass(frozen=True)
class RewardOptions:
    country_credit: float = 0.0  # accuracy paid for the right country alone (opt-in)
    length_per_char: float = 0.001
    length_cap: float = 1.0


@dataclass(slots=True)  # made per sample and never shared: a frozen one costs ~4x to build
class ComponentScore:
    value: float
    logs: tuple[tuple[str, float], ...] = ()  # extra numbers to log (e.g. distance_km)
    detail: accuracy.AccuracyResult | None = None  # the accuracy check, for reasons and IDs


# A plain float when the component has nothing else to report: no record to build per sample.
ComponentFn = Callable[[str, GoldLabel, RewardOptions], "float | ComponentScore"]


def component_value(result: float | ComponentScore) -> float:
    """A component's value, whichever of its two return shapes it used."""
    return result.value if isinstance(result, ComponentScore) else result


def _format(response: str, gold: GoldLabel, options: RewardOptions) -> float:
    return format_reward.compute_score(response)


_TOO_LONG_LOGS = {False: (("answer_too_long", 0.0),), True: (("answer_too_long", 1.0),)}


def _accuracy(response: str, gold: GoldLabel, options: RewardOptions) -> ComponentScore:
    result = accuracy.check(response, gold, options.country_credit)
    return ComponentScore(result.score, _TOO_LONG_LOGS[result.too_long], detail=result)


def _length(response: str, gold: GoldLabel, options: RewardOptions) -> float:
    return length.compute_score(response, options.length_per_char, options.length_cap)


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


COMPONENTS: Registry[Component] = Registry("reward component")
for _component in (
    Component("format", _format, "<think> then <answer>, once each"),
    Component(
        "accuracy",
        _accuracy,
        "country and first-level region both right",
        (("answer_too_long", 0.0),),
    ),
    Component("length", _length, "0.001 per reasoning character, capped at 1"),
    Component(
        "distance",
        _distance,
        "GeoGuessr score of answer coordinates, scaled to [0, 1]",
        (("distance_km", distance.MAX_DISTANCE_KM),),
    ),
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

    @cached_property
    def plan(self) -> tuple[tuple[str, float, ComponentFn | None], ...]:
        """(name, weight, function) per component, looked up once per config, not per sample."""
        return tuple((name, w, COMPONENTS.get(name).fn) for name, w in self.weights)

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.weights)

    @property
    def needs_judge(self) -> bool:
        return any(name == "judge" and w != 0 for name, w in self.weights)

    @property
    def log_keys(self) -> tuple[str, ...]:
        """The keys of every `SampleScore.logs` of this config, in order: components, then extras."""
        extras = [k for name in self.components for k, _ in COMPONENTS.get(name).logs]
        return (*self.components, *(k for k in dict.fromkeys(extras) if k not in self.components))

    def reporting(self, *names: str) -> RewardConfig:
        """This config with `names` added at weight 0: scored and reported, never summed."""
        extra = tuple((n, 0.0) for n in names if n not in self.components)
        return replace(self, weights=self.weights + extra)


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

    @property
    def reasons(self) -> dict[str, str]:
        """Why points were lost, by component ('label' when the label could not be read)."""
        out = {"label": self.label_error} if self.label_error is not None else {}
        if self.answer_reason is not None:
            out["accuracy"] = self.answer_reason
        return out

    @classmethod
    def unscored(cls, config: RewardConfig, label_error: str | None = None) -> SampleScore:
        """Reward 0 with the config's exact log keys (a label or sample that cannot be scored)."""
        zeros = {name: 0.0 for name in config.components}
        extras = {k: v for name in config.components for k, v in COMPONENTS.get(name).logs}
        return cls(0.0, zeros, {**zeros, **extras}, label_error=label_error)


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
        return SampleScore.unscored(config, str(exc))

    values: dict[str, float] = {}
    logs: dict[str, float] = {}
    checked: accuracy.AccuracyResult | None = None
    weighted: list[float] = []
    options = config.options
    for name, weight, fn in config.plan:
        if fn is None:
            value = float(external.get(name, 0.0))
        else:
            result = fn(response, gold, options)
            if result.__class__ is not ComponentScore:
                value = result
            else:
                value = result.value
                if result.logs:
                    logs.update(result.logs)
                if result.detail is not None:
                    checked = result.detail
        values[name] = value
        weighted.append(weight * value)
    total = sum(weighted)  # as before: sum() is compensated on Python >= 3.12
    if checked is None:
        return SampleScore(total, values, {**values, **logs}, gold)
    return SampleScore(
        total, values, {**values, **logs}, gold, checked.reason, checked.answer, country_ok=checked.country_ok
    )
