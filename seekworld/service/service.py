"""The reward service behind every adapter that serves rewards to a trainer: `seekworld serve`
(HTTP) and the in-process reward files of OpenRLHF and lmm-r1.

    settings = RewardSettings(reward="rule+judge", judge_url=..., judge_model=...)
    service = RewardService(settings.service_config())
    service.reply(queries, prompts, labels)  # -> {"rewards": [...], "scores": [...], "extra_logs": {...}}

It holds what must be built once per process (the judge client, the audit log), cuts each
response out of its query with the chat template, and scores through the one scoring path
(`seekworld.rewards.scoring`). Framework-free: no Flask here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from seekworld.rewards.judge import Judge, JudgeResult
from seekworld.rewards.monitors import monitored
from seekworld.rewards.scoring import SampleScore, score_samples
from seekworld.service.audit import AuditLog
from seekworld.service.monitor import ServiceMonitor
from seekworld.service.settings import ServiceConfig
from seekworld.service.wire import PROTOCOLS, extract_response

__all__ = ["RewardService", "audit_record"]

log = logging.getLogger(__name__)

SamplesHook = Callable[[Sequence[SampleScore]], None]


class RewardService:
    """Thread-safe; build once per process, call for every request."""

    def __init__(
        self,
        config: ServiceConfig,
        on_samples: SamplesHook | None = None,
        on_judge_result: Callable[[JudgeResult], None] | None = None,
        on_audit_error: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.on_samples = on_samples
        self.on_audit_error = on_audit_error
        self.judge = Judge(config.judge, on_result=on_judge_result) if config.judge is not None else None
        self.audit = AuditLog(config.log_dir, config.log_max_bytes) if config.log_dir else None
        # Scored with format and accuracy reported whatever the variant weighs: the monitors count them.
        self.scoring = monitored(config.reward)
        self.monitor = ServiceMonitor(config.monitor, config.reward.needs_judge)

    def score(
        self,
        queries: Sequence[str],
        prompts: Sequence[str] | None,
        labels: Sequence[Any],
        arrival: float | None = None,
    ) -> list[SampleScore]:
        """Score a request. `arrival` (`time.monotonic()` when it reached the server; default now)
        starts the request deadline, so time spent queueing counts against it."""
        return self._score(queries, prompts, labels, arrival)[0]

    def _score(
        self,
        queries: Sequence[str],
        prompts: Sequence[str] | None,
        labels: Sequence[Any],
        arrival: float | None,
    ) -> tuple[list[SampleScore], dict[str, float]]:
        """The samples' scores and the monitors' figures after them."""
        deadline = (time.monotonic() if arrival is None else arrival) + self.config.request_deadline_s
        if prompts is not None and len(prompts) != len(queries):
            raise ValueError("queries and prompts must have the same length")
        template = self.config.template
        responses = [
            extract_response(q, prompts[i] if prompts is not None else None, template)
            for i, q in enumerate(queries)
        ]
        scores = score_samples(responses, labels, self.scoring, self.judge, deadline=deadline)
        if self.audit is not None:
            self._audit(labels, scores)
        if self.on_samples is not None:
            try:
                self.on_samples(scores)
            except Exception:  # metrics must never cost a reward
                log.exception("on_samples hook failed")
        try:
            figures = self.monitor.update(responses, scores)
        except Exception:  # nor must the monitors
            log.exception("the monitors failed; this reply carries zeros for them")
            figures = dict.fromkeys(self.monitor.keys(), 0.0)
        return scores, figures

    def reply(
        self,
        queries: Sequence[str],
        prompts: Sequence[str] | None,
        labels: Sequence[Any],
        protocol: str = "openrlhf",
        arrival: float | None = None,
    ) -> dict[str, Any]:
        """The request's reply in `protocol`'s shape (`seekworld.service.wire`), the monitors'
        window figures in its logs."""
        scores, figures = self._score(queries, prompts, labels, arrival)
        return PROTOCOLS.get(protocol)(scores, self.config.reward, figures)

    def _audit(self, labels: Sequence[Any], scores: Sequence[SampleScore]) -> None:
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        variant = self.config.reward.variant
        records = [audit_record(label, s, variant, stamp) for label, s in zip(labels, scores, strict=True)]
        try:
            self.audit.write(records)  # type: ignore[union-attr]
        except OSError:  # logged by the audit log, once per burst of failures
            if self.on_audit_error is not None:
                self.on_audit_error()

    def stop_by(self, answer_by: float) -> None:
        """The server is stopping: requests in flight must be answered by `answer_by` (a
        `time.monotonic()` instant). The judge gives up four fifths of the way there, leaving the
        rest for scoring and answering what is queued."""
        if self.judge is not None:
            now = time.monotonic()
            self.judge.stop_by(now + 0.8 * max(0.0, answer_by - now))

    def close(self) -> None:
        if self.judge is not None:
            self.judge.close()
        if self.audit is not None:
            self.audit.close()


def audit_record(label: Any, score: SampleScore, variant: str, stamp: str) -> dict[str, Any]:
    """One audit line: the label as received, the answer as written, every component and the total."""
    record: dict[str, Any] = {
        "time": stamp,
        "variant": variant,
        "label": label,
        "answer": score.answer.text if score.answer is not None else None,
        "reason": score.answer_reason,
        "components": score.components,
        "logs": {k: v for k, v in score.logs.items() if k not in score.components},
        "total": score.reward,
    }
    if score.label_error is not None:
        record["label_error"] = score.label_error
    if score.error is not None:
        record["error"] = score.error
    if score.judge is not None:
        record["judge"] = {
            k: v
            for k, v in (
                ("error", score.judge.error),
                ("flagged", score.judge.flagged),
                ("cached", score.judge.cached or None),
                ("attempts", score.judge.attempts or None),
            )
            if v is not None
        }
    return record
