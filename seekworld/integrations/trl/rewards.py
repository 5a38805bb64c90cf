"""The TRL reward function of a variant: the one scoring path (`seekworld.rewards.scoring`), in-process.

    func = reward_function(RewardConfig.from_variant("rule"))
    GRPOTrainer(..., reward_funcs=[func], args=GRPOConfig(reward_weights=[1.0], ...))

TRL calls it with the batch's `completions` (chat messages) and the dataset's extra columns as
keyword lists (our `label`). It returns each completion's total, the reward `seekworld serve` would
pay, so TRL sums nothing of ours. Each component's batch mean and standard deviation go to TRL's logs
as `rewards/<component>/mean` and `/std` (`log_metric`), as if each were a reward function of its own.

With the LLM judge (`rule+judge`) the function is a coroutine: TRL gathers async reward functions on
its own event loop, where the judge's calls run concurrently (bounded concurrency, circuit breaker,
deadline); the judge is told the verifier's canonical reading of the answer, never the raw text. A
judge outage scores 0, is counted in TRL's `judge_error` metric, and never raises into TRL.

With `monitor` (a `MonitorConfig`), each batch's collapse and reward-hacking figures
(`seekworld.rewards.monitors`: `top_answer_share`, `top_label_share`, `accuracy/<place>`,
`reasoning_length`, `padding_share`, `hedge_rate`, `format_failure_rate`, with the judge
`judge_rule_disagreement`) go to TRL's metrics too, and during training (`trainer_state` given) a
warning line is logged when one crosses its threshold, with the step and the figure.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.rewards.judge import Judge, JudgeConfig
from seekworld.rewards.monitors import MonitorConfig, Watch, batch_figures, monitored, observe
from seekworld.rewards.scoring import SampleScore, score_samples, score_samples_async
from seekworld.rewards.variants import RewardConfig

__all__ = [
    "REWARD_NAME",
    "BatchMonitor",
    "SampleRecorder",
    "close_judge",
    "completion_text",
    "report",
    "reward_function",
]

log = logging.getLogger(__name__)

REWARD_NAME = "seekworld"  # TRL logs the total as rewards/seekworld/mean


class JudgeMissingError(SeekworldError, ValueError):
    """A variant that weighs the judge, without a judge endpoint."""


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
    the total and each component, so a reward in `metrics.jsonl` can be checked by rescoring."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def write(
        self, step: int, texts: Sequence[Any], labels: Sequence[Any], scores: Sequence[SampleScore]
    ) -> None:
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            for text, label, s in zip(texts, labels, scores, strict=True):
                row = {"step": step, "label": label, "completion": text, "reward": s.reward, **s.components}
                f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def _step(kwargs: dict[str, Any]) -> int:
    # Scored before the update it feeds: that update's step is global_step + 1.
    return int(getattr(kwargs.get("trainer_state"), "global_step", 0)) + 1


def report(
    scores: Sequence[SampleScore],
    components: Sequence[str],
    kwargs: dict[str, Any],
    extra: Sequence[str] = (),
) -> list[float]:
    """The totals TRL gets; each component's mean and std, and the `extra` log keys' means, go to
    TRL's metrics."""
    log_metric = kwargs.get("log_metric")
    if log_metric is not None and scores:
        n = len(scores)
        for name in components:
            values = [s.components[name] for s in scores]
            mean = sum(values) / n
            log_metric(f"rewards/{name}/mean", mean)
            log_metric(f"rewards/{name}/std", math.sqrt(sum((v - mean) ** 2 for v in values) / max(1, n - 1)))
        for key in extra:
            log_metric(key, sum(s.logs[key] for s in scores) / n)
    return [s.reward for s in scores]


def _judge_metrics(scores: Sequence[SampleScore], kwargs: dict[str, Any]) -> None:
    log_metric = kwargs.get("log_metric")
    if log_metric is None or not scores:
        return
    n = len(scores)
    log_metric("judge_error", sum(s.judge is not None and s.judge.error is not None for s in scores) / n)
    log_metric("judge_flagged", sum(s.judge is not None and s.judge.flagged is not None for s in scores) / n)


class BatchMonitor:
    """The monitors of each scored batch, logged as TRL metrics; during training, warnings over a
    window of the last `config.window` samples (a few steps pooled)."""

    def __init__(self, config: MonitorConfig, judge: bool, warn: bool = True) -> None:
        self.config = config
        self.judge = judge
        self.watch = Watch(config, judge) if warn else None

    def __call__(self, texts: Sequence[str], scores: Sequence[SampleScore], kwargs: dict[str, Any]) -> None:
        observed = [observe(t, s) for t, s in zip(texts, scores, strict=True)]
        log_metric = kwargs.get("log_metric")
        if log_metric is not None:
            for name, value in batch_figures(observed, self.config.places, self.judge).items():
                log_metric(name, value)
        if self.watch is not None and "trainer_state" in kwargs:
            self.watch.add(observed)
            for line in self.watch.check(f"step {_step(kwargs)}"):
                log.warning("seekworld monitors: %s", line)


def close_judge(func: Callable[..., Any]) -> None:
    """Stop the judge of a reward function built by `reward_function` (if it has one)."""
    judge = getattr(func, "judge", None)
    if judge is not None:
        judge.close()


def reward_function(
    config: RewardConfig,
    recorder_path: str | Path | None = None,
    judge: JudgeConfig | Judge | None = None,
    monitor: MonitorConfig | None = None,
    warn: bool = True,
) -> Callable[..., Any]:
    """TRL's reward function for `config` (module docstring).

    A variant that weighs the judge needs `judge`: its config (the Judge is built here, once, for the
    trainer's life) or a Judge. Raises JudgeMissingError without one. `monitor`: log the collapse and
    hacking monitors (`warn`: and their warnings; off on all but one process)."""
    recorder = SampleRecorder(recorder_path) if recorder_path is not None else None
    components = config.components
    watch = BatchMonitor(monitor, config.needs_judge, warn) if monitor is not None else None
    # The monitors count format and accuracy: reported (weight 0) when the variant does not weigh them.
    scoring = monitored(config) if watch is not None else config

    def finish(
        texts: list[str], labels: list[Any], scores: list[SampleScore], kwargs: dict[str, Any]
    ) -> list[float]:
        if recorder is not None:
            recorder.write(_step(kwargs), texts, labels, scores)
        if watch is not None:
            try:
                watch(texts, scores, kwargs)
            except Exception:  # a monitor must never cost a reward
                log.exception("the monitors failed on this batch")
        return report(scores, components, kwargs)

    if not config.needs_judge:

        def reward(completions: list[Any], label: list[Any], **kwargs: Any) -> list[float]:
            texts = [completion_text(c) for c in completions]
            return finish(texts, list(label), score_samples(texts, label, scoring), kwargs)

        reward.__name__ = reward.__qualname__ = REWARD_NAME
        return reward

    if judge is None:
        raise JudgeMissingError(
            f"variant {config.variant!r} weighs the LLM judge: give its endpoint (judge.mode=url, "
            "judge.url, judge.model)"
        )
    client = Judge(judge) if isinstance(judge, JudgeConfig) else judge

    async def judged(completions: list[Any], label: list[Any], **kwargs: Any) -> list[float]:
        texts = [completion_text(c) for c in completions]
        scores = await score_samples_async(texts, label, scoring, client)
        _judge_metrics(scores, kwargs)
        return finish(texts, list(label), scores, kwargs)

    judged.__name__ = judged.__qualname__ = REWARD_NAME
    judged.judge = client  # type: ignore[attr-defined]  # its owner closes it (`close_judge`)
    return judged
