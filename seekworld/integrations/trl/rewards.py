"""One TRL reward function per reward component of a variant, scoring in-process with our core.

    funcs, weights = reward_functions(RewardConfig.from_variant("rule"))
    GRPOTrainer(..., reward_funcs=funcs, args=GRPOConfig(reward_weights=weights, ...))

TRL calls each function with the batch's `completions` (chat messages) and the dataset's extra
columns as keyword lists (our `label`), and logs `rewards/<function name>/mean` per step, so each
function is named after its component (`format`, `accuracy`, ...). TRL sums the weighted functions,
which is exactly `score_response(...).reward` for the same variant.

`variant_components` is the one seam between TRL and the scoring core: (name, weight,
score(response, label) -> float) per component.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.rewards.variants import COMPONENTS, RewardConfig

__all__ = ["SampleRecorder", "completion_text", "reward_functions", "variant_components"]

ScoreFn = Callable[[str, Any], float]


class UnsupportedComponentError(SeekworldError, ValueError):
    """A component that cannot be computed in-process (the LLM judge) on this path."""


def _gold(label: Any) -> GoldLabel | None:
    if isinstance(label, GoldLabel):
        return label
    try:
        return parse_label(label)
    except LabelError:
        return None  # an unusable label scores 0, as on the server


def variant_components(config: RewardConfig) -> Iterator[tuple[str, float, ScoreFn]]:
    """(component name, weight, score(response, label) -> float) for each weighted component."""
    for name, weight in config.weights:
        component = COMPONENTS.get(name)
        if component.fn is None:
            raise UnsupportedComponentError(
                f"reward component {name!r} is computed outside the scoring core (an LLM judge): the TRL "
                "backend does not call a judge yet; use a rule variant or the openrlhf backend"
            )
        fn = component.fn

        def score(response: str, label: Any, _fn=fn, _options=config.options) -> float:
            gold = _gold(label)
            return 0.0 if gold is None else float(_fn(response, gold, _options).value)

        yield name, weight, score


def completion_text(completion: Any) -> str:
    """TRL's completion (a string, or chat messages) -> the assistant's text (tool turns excluded)."""
    if isinstance(completion, str):
        return completion
    parts = []
    for message in completion:
        if message.get("role", "assistant") != "assistant":
            continue
        content = message.get("content") or ""
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(content)
    return "".join(parts)


class SampleRecorder:
    """Writes each scored completion to a JSONL file (`samples.jsonl`): step, label, completion,
    component values and the weighted reward, so a reward in `metrics.jsonl` can be checked by
    rescoring. Rows are written once every component of the batch has been scored."""

    def __init__(self, path: str | Path, weights: dict[str, float]) -> None:
        self.path = Path(path)
        self.weights = weights
        self._pending: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def add(self, name: str, step: int, texts: list[str], labels: list[Any], values: list[float]) -> None:
        with self._lock:
            self._pending[name] = values
            if set(self._pending) != set(self.weights):
                return
            pending, self._pending = self._pending, {}
            with self.path.open("a", encoding="utf-8") as f:
                for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
                    components = {n: pending[n][i] for n in self.weights}
                    reward = sum(self.weights[n] * v for n, v in components.items())
                    row = {"step": step, "label": label, "completion": text, "reward": reward, **components}
                    f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def reward_functions(
    config: RewardConfig, recorder_path: str | Path | None = None
) -> tuple[list[Callable[..., list[float]]], list[float]]:
    """TRL reward functions (named after their components) and their weights, in variant order."""
    components = list(variant_components(config))
    recorder = (
        SampleRecorder(recorder_path, {n: w for n, w, _ in components}) if recorder_path is not None else None
    )
    funcs = []
    for name, _, score in components:

        def reward(
            completions: list[Any], label: list[Any], _score=score, _name=name, **kwargs: Any
        ) -> list[float]:
            texts = [completion_text(c) for c in completions]
            values = [_score(t, g) for t, g in zip(texts, label, strict=True)]
            if recorder is not None:
                # Scored before the update it feeds: that update's step is global_step + 1.
                state = kwargs.get("trainer_state")
                step = int(getattr(state, "global_step", 0)) + 1
                recorder.add(_name, step, texts, list(label), values)
            return values

        reward.__name__ = reward.__qualname__ = name  # TRL logs rewards/<__name__>/mean
        funcs.append(reward)
    return funcs, [w for _, w, _ in components]
