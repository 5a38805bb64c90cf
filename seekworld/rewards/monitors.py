"""Collapse and reward-hacking monitors: figures over scored samples, and the lines they cross.

    obs = [observe(text, s) for text, s in zip(responses, scores)]   # scored by the one scoring path
    batch_figures(obs, places={"CN-GD", "CN-SC"}, judge=False)
    # {"top_answer_share": 0.97, "top_label_share": 0.5, "reasoning_length": 212.0, "padding_share": 0.18,
    #  "hedge_rate": 0.0, "format_failure_rate": 0.03, "accuracy/CN-GD": 1.0, "accuracy/CN-SC": 0.0}

Every number comes from a `SampleScore` of `seekworld.rewards.scoring` (its components, answer,
gold label and judge result) and, for the padding, from the length component's own count (the
`reasoning_chars` and `counted_chars` it logs). TRL's reward function logs `batch_figures` for each
batch; the reward service adds a `Window`'s figures over its recent samples to every reply's
`extra_logs`. Warnings look at a window on both (`Watch`): a few steps pooled tell a collapse from
the noise of one small batch. `Alarms` turns figures into warning lines when a monitor crosses its
threshold.

The figures:
- `top_answer_share`: share of completions giving the single most common answer (a resolved place
  ID, else the answer's normalised text; a completion without an answer gives none), against
  `top_label_share`, the share of the most common label among the same completions. One answer for
  most completions while the labels vary is a collapse.
- `accuracy/<id>`: accuracy (country and region right) per monitored place: region IDs when a run
  has few regions, else country IDs (`monitor_places`).
- `reasoning_length`: mean characters inside `<think>`; `padding_share`: among the samples whose
  length the variant measured (`length` pays with a right answer only; `seekworld_length` always),
  the share of reasoning characters it did not count (under `length`: whitespace, punctuation,
  digits, symbols, invisible characters, letters of words that are not new). 0 for a variant that
  pays no length: there is nothing to pad for.
- `hedge_rate`, `format_failure_rate` (format component below 1), and with the judge
  `judge_rule_disagreement`: among samples the judge graded, the share where its verdict (score
  >= 0.5) and the rule (accuracy 1) disagree.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from seekworld.geo.label import GoldLabel
from seekworld.geo.normalize import key
from seekworld.rewards.format import think_content
from seekworld.rewards.scoring import SampleScore
from seekworld.rewards.variants import RewardConfig

__all__ = [
    "FIGURES",
    "JUDGE_FIGURE",
    "MIN_ALARM_SAMPLES",
    "PLACE_PREFIX",
    "Alarms",
    "MonitorConfig",
    "Observation",
    "Tally",
    "Watch",
    "Window",
    "batch_figures",
    "monitor_places",
    "monitored",
    "observe",
    "parse_places",
    "place_key",
]

TOP_ANSWER = "top_answer_share"
TOP_LABEL = "top_label_share"
REASONING_LENGTH = "reasoning_length"
PADDING = "padding_share"
HEDGE = "hedge_rate"
FORMAT_FAILURE = "format_failure_rate"
JUDGE_FIGURE = "judge_rule_disagreement"
FIGURES = (TOP_ANSWER, TOP_LABEL, REASONING_LENGTH, PADDING, HEDGE, FORMAT_FAILURE)
PLACE_PREFIX = "accuracy/"

# Per-region accuracy up to this many regions in the training data, else per country; at most
# MOST_PLACES places (the most common), so a run over 100 countries logs a readable number of keys.
FEW_REGIONS = 12
MOST_PLACES = 24
_ANSWER_KEY_CHARS = 80  # an unresolved answer's identity: its normalised text, cut here


@dataclass(frozen=True)
class MonitorConfig:
    """What the monitors watch and when they warn (from the settings table, which holds the defaults)."""

    places: tuple[str, ...]  # place IDs whose accuracy is reported (`accuracy/<id>`)
    window: int  # samples per process the warnings (and the reward service's figures) look at
    collapse_share: float  # warn when one answer is at least this share of completions...
    collapse_margin: float  # ...and at least this far above the most common label's share
    padding_share: float  # warn when at least this share of reasoning is uncounted
    format_failure: float  # warn when at least this share of completions break the format
    place_floor: float  # warn when a place's accuracy is at most this while another's is well above


class Observation(NamedTuple):  # a tuple: made per sample on the serving path, so cheap to build
    """One scored completion, reduced to what the monitors count."""

    answer: str | None  # the answer's identity; None without an answer block
    label: str
    country: str | None  # the label's country ID
    region: str | None  # the label's place ID (a region, or a whole territory)
    correct: bool
    well_formed: bool
    hedge: bool
    reasoning: int  # characters inside <think>
    measured: int  # characters of reasoning the length component measured (0: it did not run)
    counted: int  # of those, the ones it counted
    judged: bool  # the judge graded it (no error)
    disagrees: bool  # judged, and the judge's verdict differs from the rule's


def monitored(config: RewardConfig) -> RewardConfig:
    """`config` with format and accuracy reported (weight 0 when it does not weigh them), so every
    variant's samples carry what the monitors count. The reward is unchanged."""
    return config.reporting("format", "accuracy")


def _label_key(gold: GoldLabel) -> str:
    if gold.place_id is not None:
        return gold.place_id
    return key(gold.country + "," + (gold.regions[0] if gold.regions else ""))


def observe(response: str, score: SampleScore) -> Observation | None:
    """What the monitors count of one sample, scored with a `monitored` config; None when its
    label could not be read or scoring failed (those are counted as `label_error` / errors)."""
    if not score.scored or score.gold is None:
        return None
    gold, answer = score.gold, score.answer
    identity = None
    if answer is not None:
        identity = answer.place_id if answer.resolved else key(answer.text)[:_ANSWER_KEY_CHARS]
    correct = score.components.get("accuracy", 0.0) >= 1.0
    judge = score.judge
    judged = judge is not None and judge.error is None and not judge.skipped
    think = think_content(response)
    logs = score.logs
    return Observation(
        answer=identity,
        label=_label_key(gold),
        country=gold.country_id,
        region=gold.place_id,
        correct=correct,
        well_formed=score.components.get("format", 0.0) >= 1.0,
        hedge=answer is not None and answer.hedge,
        reasoning=0 if think is None else len(think),
        measured=int(logs.get("reasoning_chars", 0)),
        counted=int(logs.get("counted_chars", 0)),
        judged=judged,
        disagrees=judged and (judge.score >= 0.5) != correct,  # type: ignore[union-attr]
    )


class _Mode:
    """Counts of keys with the largest count kept up to date: add and remove are O(1)."""

    __slots__ = ("counts", "freq", "top")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.freq: dict[int, int] = {}  # count -> how many keys have it
        self.top = 0

    def add(self, name: str) -> None:
        c = self.counts.get(name, 0) + 1
        self.counts[name] = c
        self._move(c - 1, c)
        self.top = max(self.top, c)

    def remove(self, name: str) -> None:
        c = self.counts[name]
        if c == 1:
            del self.counts[name]
        else:
            self.counts[name] = c - 1
        self._move(c, c - 1)
        if c == self.top and c not in self.freq:
            self.top = c - 1

    def _move(self, old: int, new: int) -> None:
        if old:
            left = self.freq[old] - 1
            if left:
                self.freq[old] = left
            else:
                del self.freq[old]
        if new:
            self.freq[new] = self.freq.get(new, 0) + 1

    def mode(self) -> str | None:
        """A key with the largest count (the smallest such, for a stable message)."""
        return min((k for k, c in self.counts.items() if c == self.top), default=None)


class Tally:
    """Running sums over a multiset of observations: the one place the figures are computed."""

    def __init__(self) -> None:
        self.n = 0
        self.answers = _Mode()
        self.labels = _Mode()
        self.correct = self.malformed = self.hedges = self.chars = self.measured = self.counted = 0
        self.judged = self.disagree = 0

    def add(self, obs: Observation, sign: int = 1) -> None:
        """Count `obs` in (sign 1) or out (sign -1, an observation added before)."""
        self.n += sign
        if sign > 0:
            if obs.answer is not None:
                self.answers.add(obs.answer)
            self.labels.add(obs.label)
        else:
            if obs.answer is not None:
                self.answers.remove(obs.answer)
            self.labels.remove(obs.label)
        self.correct += sign * obs.correct
        self.malformed += sign * (not obs.well_formed)
        self.hedges += sign * obs.hedge
        self.chars += sign * obs.reasoning
        self.measured += sign * obs.measured
        self.counted += sign * obs.counted
        self.judged += sign * obs.judged
        self.disagree += sign * obs.disagrees

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def figures(self, judge: bool = False) -> dict[str, float]:
        """The monitors (module docstring); 0 for each when nothing is counted."""
        n = self.n or 1
        out = {
            TOP_ANSWER: self.answers.top / n,
            TOP_LABEL: self.labels.top / n,
            REASONING_LENGTH: self.chars / n,
            PADDING: (self.measured - self.counted) / self.measured if self.measured else 0.0,
            HEDGE: self.hedges / n,
            FORMAT_FAILURE: self.malformed / n,
        }
        if judge:
            out[JUDGE_FIGURE] = self.disagree / self.judged if self.judged else 0.0
        return out


def place_key(obs: Observation, places: Collection[str]) -> str | None:
    """The monitored place `obs` counts for: its region when monitored, else its country, else None."""
    if obs.region is not None and obs.region in places:
        return obs.region
    if obs.country is not None and obs.country in places:
        return obs.country
    return None


def batch_figures(
    observations: Iterable[Observation | None], places: Collection[str] = (), judge: bool = False
) -> dict[str, float]:
    """The figures of one batch, with `accuracy/<id>` for each monitored place the batch holds."""
    tally, per_place = Tally(), {}
    for obs in observations:
        if obs is None:
            continue
        tally.add(obs)
        place = place_key(obs, places)
        if place is not None:
            per_place.setdefault(place, Tally()).add(obs)
    out = tally.figures(judge)
    for place in sorted(per_place):
        out[PLACE_PREFIX + place] = per_place[place].accuracy
    return out


class Window:
    """The figures of the last `size` observations, and each monitored place's accuracy over its
    own last `size` (so a rare place keeps a value). Not thread-safe: the caller locks."""

    def __init__(self, size: int, places: Sequence[str] = ()) -> None:
        if size < 1:
            raise ValueError("a monitor window holds at least one sample")
        self.size = size
        self.seen = 0  # observations ever added
        self.tally = Tally()
        self._recent: deque[Observation] = deque()
        self._places = {p: (deque(), Tally()) for p in places}

    def add(self, obs: Observation) -> None:
        self.seen += 1
        self._push(self._recent, self.tally, obs)
        place = place_key(obs, self._places)
        if place is not None:
            self._push(*self._places[place], obs)

    def _push(self, recent: deque[Observation], tally: Tally, obs: Observation) -> None:
        recent.append(obs)
        tally.add(obs)
        if len(recent) > self.size:
            tally.add(recent.popleft(), -1)

    def place_counts(self) -> dict[str, int]:
        """Samples in each monitored place's own window."""
        return {place: tally.n for place, (_, tally) in self._places.items()}

    def figures(self, judge: bool = False) -> dict[str, float]:
        """Same keys every call: the figures, then `accuracy/<id>` of every monitored place (0 until
        one of its samples is scored)."""
        out = self.tally.figures(judge)
        for place, (_, tally) in self._places.items():
            out[PLACE_PREFIX + place] = tally.accuracy
        return out


def monitor_places(
    golds: Iterable[GoldLabel], few: int = FEW_REGIONS, most: int = MOST_PLACES
) -> tuple[str, ...]:
    """The places a run's accuracy is reported for, from its training labels: every region when
    there are at most `few`, else the `most` most common countries. Sorted."""
    regions: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    for gold in golds:
        if gold.place_id is not None:
            regions[gold.place_id] += 1
        if gold.country_id is not None:
            countries[gold.country_id] += 1
    if 0 < len(regions) <= few:
        return tuple(sorted(regions))
    common = sorted(countries.items(), key=lambda kv: (-kv[1], kv[0]))[:most]
    return tuple(sorted(c for c, _ in common))


def parse_places(text: str | None) -> tuple[str, ...]:
    """'CN-GD, CN-SC' -> ('CN-GD', 'CN-SC'); None or '' -> ()."""
    return tuple(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))


# --- warnings ---------------------------------------------------------------------------------

# A window holding fewer samples than this (or than its size) raises no warning: with one sample
# scored, one answer is 100% of the completions.
MIN_ALARM_SAMPLES = 64


# An alarm, once raised, stays until its figure is this far back on the safe side of its threshold:
# a figure wandering around the line does not write a line every step.
HYSTERESIS = 0.05
# The place alarm: a place counts once its own window holds this many samples, and warns when its
# accuracy is at most `place_floor` while another place's is at least PLACE_OTHER (a one-place
# collapse: its answer string garbled, or another place answered for it).
PLACE_MIN_SAMPLES = 32
PLACE_OTHER = 0.3


def _collapse(f: Mapping[str, float], c: MonitorConfig, slack: float) -> bool:
    top = f[TOP_ANSWER]
    return top >= c.collapse_share - slack and top - f[TOP_LABEL] >= c.collapse_margin - slack


_ALARMS = (
    (
        "collapse",
        TOP_ANSWER,
        _collapse,
        "{top_answer_share:.0%} of completions give one answer ({answer}) while the most common label is "
        "{top_label_share:.0%} of them (top_answer_share {top_answer_share:.2f}, top_label_share "
        "{top_label_share:.2f})",
    ),
    (
        "padding",
        PADDING,
        lambda f, c, slack: f[PADDING] >= c.padding_share - slack,
        "{padding_share:.0%} of the reasoning is characters the length rule does not count "
        "(padding_share {padding_share:.2f}, mean reasoning {reasoning_length:.0f} characters)",
    ),
    (
        "format",
        FORMAT_FAILURE,
        lambda f, c, slack: f[FORMAT_FAILURE] >= c.format_failure - slack,
        "{format_failure_rate:.0%} of completions break the <think>/<answer> format "
        "(format_failure_rate {format_failure_rate:.2f})",
    ),
)


class Alarms:
    """Which monitors are past their threshold; `check` says when one crosses (either way)."""

    def __init__(self, config: MonitorConfig) -> None:
        self.config = config
        self.active: set[str] = set()
        self.low_place: str | None = None  # the place the place alarm is about

    def check(
        self,
        figures: Mapping[str, float],
        where: str,
        answer: Callable[[], str | None] | None = None,
        place_counts: Mapping[str, int] | None = None,
    ) -> list[str]:
        """Lines for the monitors that crossed their threshold since the last check: a warning when
        one goes past it, a note when it is back `HYSTERESIS` on the safe side. `where`: "step 12",
        "after 4096 samples"; `answer`: gives the most common answer, asked only for a collapse;
        `place_counts`: samples behind each `accuracy/<id>` (the place alarm needs them)."""
        lines = self._place(figures, where, place_counts) if place_counts is not None else []
        for name, figure, past, text in _ALARMS:
            if name not in self.active and past(figures, self.config, 0.0):
                self.active.add(name)
                top = (answer() if answer is not None else None) or "?"
                lines.append(f"{where}: {name} warning: " + text.format(answer=top, **figures))
            elif name in self.active and not past(figures, self.config, HYSTERESIS):
                self.active.discard(name)
                lines.append(f"{where}: {name} back under its threshold ({figure} {figures[figure]:.2f})")
        return lines

    def _place(self, figures: Mapping[str, float], where: str, counts: Mapping[str, int]) -> list[str]:
        ready = {p: figures[PLACE_PREFIX + p] for p, n in counts.items() if n >= PLACE_MIN_SAMPLES}
        if len(ready) < 2:
            return []
        low = min(ready, key=lambda p: (ready[p], p))
        high = max(ready, key=lambda p: (ready[p], p))
        if "place" not in self.active:
            if ready[low] <= self.config.place_floor and ready[high] >= PLACE_OTHER:
                self.active.add("place")
                self.low_place = low
                return [
                    f"{where}: place warning: accuracy/{low} is {ready[low]:.2f} over its last {counts[low]} "
                    f"samples while accuracy/{high} is {ready[high]:.2f}: that place's answers may have "
                    "collapsed (garbled, or another place given for it)"
                ]
            return []
        watched = self.low_place if self.low_place in ready else low
        if ready[watched] > self.config.place_floor + HYSTERESIS or ready[high] < PLACE_OTHER - HYSTERESIS:
            self.active.discard("place")
            return [f"{where}: place back over its threshold (accuracy/{watched} {ready[watched]:.2f})"]
        return []


class Watch:
    """A window of recent samples and the warnings it raises. Not thread-safe: the caller locks."""

    def __init__(self, config: MonitorConfig, judge: bool = False) -> None:
        self.judge = judge
        self.window = Window(config.window, config.places)
        self.alarms = Alarms(config)

    def add(self, observations: Iterable[Observation | None]) -> None:
        for obs in observations:
            if obs is not None:
                self.window.add(obs)

    def figures(self) -> dict[str, float]:
        return self.window.figures(self.judge)

    def check(self, where: str, figures: Mapping[str, float] | None = None) -> list[str]:
        """`Alarms.check` on the window's figures (`figures`, when just computed), once it holds
        enough samples; `where` is followed by the window's extent."""
        window = self.window
        if window.tally.n < min(MIN_ALARM_SAMPLES, window.size):
            return []
        return self.alarms.check(
            self.figures() if figures is None else figures,
            f"{where} (last {window.tally.n} samples)",
            window.tally.answers.mode,
            window.place_counts(),
        )
