"""The reward service behind both adapters: `seekworld serve` (HTTP) and the in-process reward file.

    service = RewardService(ServiceConfig.build(variant="rule+judge", judge_url=..., judge_model=...))
    service(queries, prompts, labels)  # -> {"rewards": [...], "scores": [...], "extra_logs": {...}}

It holds what must be built once per process (the judge client and its pool, the audit log) and
calls the pure batch scorer. Framework-free: no Flask here (the reward file imports this module).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from seekworld.rewards.batch import ScoredSample, score_samples, to_openrlhf
from seekworld.rewards.judge import Judge, JudgeResult

# The settings and the config they build are domain code (the zoom agent reads them too).
from seekworld.rewards.settings import ENV_VARS, ServiceConfig, redact_url
from seekworld.serve.audit import AuditLog

__all__ = ["ENV_VARS", "RewardService", "ServiceConfig", "redact_url"]

log = logging.getLogger(__name__)

SamplesHook = Callable[[Sequence[ScoredSample]], None]


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

    def score(
        self,
        queries: Sequence[str],
        prompts: Sequence[str] | None,
        labels: Sequence[Any],
        arrival: float | None = None,
    ) -> list[ScoredSample]:
        """Score a request. `arrival` (`time.monotonic()` when it reached the server; default now)
        starts the request deadline, so time spent queueing counts against it."""
        deadline = (time.monotonic() if arrival is None else arrival) + self.config.request_deadline_s
        samples = score_samples(
            queries, prompts, labels, self.config.reward, self.judge, self.config.template, deadline=deadline
        )
        if self.audit is not None:
            self._audit(samples)
        if self.on_samples is not None:
            try:
                self.on_samples(samples)
            except Exception:  # metrics must never cost a reward
                log.exception("on_samples hook failed")
        return samples

    def __call__(
        self, queries: Sequence[str], prompts: Sequence[str] | None, labels: Sequence[Any]
    ) -> dict[str, Any]:
        return to_openrlhf(self.score(queries, prompts, labels), self.config.reward)

    def _audit(self, samples: Sequence[ScoredSample]) -> None:
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        records = [audit_record(s, self.config.reward.variant, stamp) for s in samples]
        try:
            self.audit.write(records)  # type: ignore[union-attr]
        except OSError:
            log.exception("audit log write failed (%d samples not logged)", len(records))
            if self.on_audit_error is not None:
                self.on_audit_error()

    def close(self) -> None:
        if self.judge is not None:
            self.judge.close()
        if self.audit is not None:
            self.audit.close()


def audit_record(sample: ScoredSample, variant: str, stamp: str) -> dict[str, Any]:
    score = sample.score
    record: dict[str, Any] = {
        "time": stamp,
        "variant": variant,
        "label": sample.label,
        "answer": sample.answer_text,
        "reason": score.answer_reason,
        "components": score.components,
        "logs": {k: v for k, v in score.logs.items() if k not in score.components},
        "total": score.reward,
    }
    if score.label_error is not None:
        record["label_error"] = score.label_error
    if sample.error is not None:
        record["error"] = sample.error
    if sample.judge is not None:
        record["judge"] = {
            k: v
            for k, v in (
                ("error", sample.judge.error),
                ("flagged", sample.judge.flagged),
                ("cached", sample.judge.cached or None),
                ("attempts", sample.judge.attempts or None),
            )
            if v is not None
        }
    return record
