"""One TRL reward function per reward component of a variant, scoring in-process with our core.

    funcs, weights = reward_functions(RewardConfig.from_variant("rule"))
    GRPOTrainer(..., reward_funcs=funcs, args=GRPOConfig(reward_weights=weights, ...))

TRL calls each function with the batch's `completions` (chat messages) and the dataset's extra
columns as keyword lists (our `label`), and logs `rewards/<function name>/mean` per step, so each
function is named after its component (`format`, `accuracy`, ...). TRL sums the weighted functions,
which is exactly `score_response(...).reward` for the same variant.

`variant_components` is the one seam between TRL and the scoring core: (name, weight,
score(response, label) -> float) per component. The LLM judge (`rule+judge`) is the exception: it
scores a whole batch through one `Judge` (bounded concurrency, circuit breaker, deadline), built
once when the reward functions are, by the same batch scorer `seekworld serve` uses
(`score_responses`), so it is told the verifier's canonical reading of the answer, never the raw
text. A judge outage scores 0 (counted in TRL's `judge_error` metric) and never raises into TRL.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.rewards.judge import Judge, JudgeConfig
from seekworld.rewards.variants import COMPONENTS, RewardConfig, component_value

__all__ = [
    "SampleRecorder",
    "close_judge",
    "completion_text",
    "judge_reward",
    "reward_functions",
    "variant_components",
]

log = logging.getLogger(__name__)

JUDGE = "judge"

ScoreFn = Callable[[str, Any], float]


class UnsupportedComponentError(SeekworldError, ValueError):
    """A component this path cannot compute (the judge without a judge endpoint)."""


def _gold(label: Any) -> GoldLabel | None:
    if isinstance(label, GoldLabel):
        return label
    try:
        return parse_label(label)
    except LabelError:
        return None  # an unusable label scores 0, as on the server


def variant_components(config: RewardConfig) -> Iterator[tuple[str, float, ScoreFn | None]]:
    """(component name, weight, score(response, label) -> float) for each weighted component; the
    judge's score is None (it scores whole batches: `judge_reward`)."""
    for name, weight in config.weights:
        component = COMPONENTS.get(name)
        if name == JUDGE:
            yield name, weight, None
            continue
        if component.fn is None:
            raise UnsupportedComponentError(
                f"reward component {name!r} is computed outside the scoring core and the TRL backend "
                "has no adapter for it; use the openrlhf backend"
            )
        fn = component.fn

        def score(response: str, label: Any, _fn=fn, _options=config.options) -> float:
            gold = _gold(label)
            return 0.0 if gold is None else float(component_value(_fn(response, gold, _options)))

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


def judge_reward(
    config: RewardConfig, judge: Judge, recorder: SampleRecorder | None = None
) -> Callable[..., list[float]]:
    """The TRL reward function of the `judge` component: the batch through `judge`, as served."""
    from seekworld.rewards.batch import score_responses, to_openrlhf

    def reward(completions: list[Any], label: list[Any], **kwargs: Any) -> list[float]:
        texts = [completion_text(c) for c in completions]
        try:
            extra = to_openrlhf(score_responses(texts, list(label), config, judge), config)["extra_logs"]
            values, errors, flagged = extra[JUDGE], extra["judge_error"], extra["judge_flagged"]
        except Exception:  # never raise into the training step: the judge pays 0, counted
            log.exception("TRL judge reward failed; the batch's judge scores are 0")
            values, errors, flagged = [0.0] * len(texts), [1.0] * len(texts), [0.0] * len(texts)
        log_metric = kwargs.get("log_metric")
        if log_metric is not None and texts:  # TRL averages these per logging step
            log_metric("judge_error", sum(errors) / len(texts))
            log_metric("judge_flagged", sum(flagged) / len(texts))
        if recorder is not None:
            recorder.add(JUDGE, _step(kwargs), texts, list(label), values)
        return values

    reward.__name__ = reward.__qualname__ = JUDGE
    reward.judge = judge  # type: ignore[attr-defined]  # its owner closes it (`close_judge`)
    return reward


def _step(kwargs: dict[str, Any]) -> int:
    # Scored before the update it feeds: that update's step is global_step + 1.
    return int(getattr(kwargs.get("trainer_state"), "global_step", 0)) + 1


def close_judge(funcs: list[Callable[..., Any]]) -> None:
    """Stop the judge's thread pool of reward functions built by `reward_functions` (if any)."""
    for f in funcs:
        judge = getattr(f, "judge", None)
        if judge is not None:
            judge.close()


def reward_functions(
    config: RewardConfig,
    recorder_path: str | Path | None = None,
    judge: JudgeConfig | Judge | None = None,
) -> tuple[list[Callable[..., list[float]]], list[float]]:
    """TRL reward functions (named after their components) and their weights, in variant order.

    A variant that weighs the judge needs `judge`: its config (the Judge is built here, once, for
    the trainer's life) or a Judge. Raises UnsupportedComponentError without one."""
    components = list(variant_components(config))
    if any(score is None for _, _, score in components):
        if judge is None:
            raise UnsupportedComponentError(
                f"variant {config.variant!r} weighs the LLM judge: give its endpoint (judge.mode=url, "
                "judge.url, judge.model)"
            )
        judge = Judge(judge) if isinstance(judge, JudgeConfig) else judge
    recorder = (
        SampleRecorder(recorder_path, {n: w for n, w, _ in components}) if recorder_path is not None else None
    )
    funcs = []
    for name, _, score in components:
        if score is None:
            funcs.append(judge_reward(config, judge, recorder))  # type: ignore[arg-type]
            continue

        def reward(
            completions: list[Any], label: list[Any], _score=score, _name=name, **kwargs: Any
        ) -> list[float]:
            texts = [completion_text(c) for c in completions]
            values = [_score(t, g) for t, g in zip(texts, label, strict=True)]
            if recorder is not None:
                recorder.add(_name, _step(kwargs), texts, list(label), values)
            return values

        reward.__name__ = reward.__qualname__ = name  # TRL logs rewards/<__name__>/mean
        funcs.append(reward)
    return funcs, [w for _, w, _ in components]
