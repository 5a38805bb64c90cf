"""Prometheus metrics of the reward server (`GET /metrics`).

Each app gets its own registry, so tests can build many apps in one process. Under gunicorn the
runner sets PROMETHEUS_MULTIPROC_DIR before any worker starts; every worker then writes its
numbers to files there and `/metrics`, whichever worker answers, sums them across workers.

Per-component reward means: `seekworld_reward_component` is a summary (`_sum`, `_count`), so the
mean over any window is `rate(..._sum[5m]) / rate(..._count[5m])`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    Summary,
    generate_latest,
    multiprocess,
)

from seekworld.rewards.judge import JudgeResult
from seekworld.rewards.scoring import SampleScore

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "seekworld_requests", "HTTP requests to /get_reward by status code", ["status"], registry=r
        )
        self.errors = Counter(
            "seekworld_request_errors",
            "Rejected /get_reward requests (4xx/5xx) by reason",
            ["reason"],
            registry=r,
        )
        self.latency = Histogram(
            "seekworld_request_latency_seconds",
            "Latency of /get_reward",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.samples = Counter("seekworld_samples", "Samples scored", registry=r)
        self.label_errors = Counter(
            "seekworld_label_errors", "Samples whose label could not be parsed", registry=r
        )
        self.score_errors = Counter(
            "seekworld_score_errors", "Samples that raised while scoring (scored 0)", registry=r
        )
        self.audit_errors = Counter("seekworld_audit_errors", "Failed audit log writes", registry=r)
        self.reward = Summary("seekworld_reward", "Total reward per sample", registry=r)
        self.component = Summary(
            "seekworld_reward_component", "Reward component value per sample", ["component"], registry=r
        )
        self.judge_requests = Counter(
            "seekworld_judge_requests",
            "Judged samples by outcome (ok, cached, flagged, error)",
            ["outcome"],
            registry=r,
        )
        self.judge_calls = Counter("seekworld_judge_calls", "HTTP calls made to the judge", registry=r)
        self.judge_failures = Counter(
            "seekworld_judge_failures",
            "Judged samples that scored 0 because the judge failed",
            ["kind"],
            registry=r,
        )
        self.judge_call_failures = Counter(
            "seekworld_judge_call_failures",
            "Failed HTTP calls to the judge by cause, retries and breaker probes included",
            ["cause"],
            registry=r,
        )
        self.judge_images_skipped = Counter(
            "seekworld_judge_images_skipped",
            "Judged samples sent without their image: --judge-sees-image but no --judge-image-root",
            registry=r,
        )
        self.judge_logprobs_fallback = Counter(
            "seekworld_judge_logprobs_fallback",
            "Score-mode verdicts without usable logprobs: the text verdict (0 or 1) was the score",
            registry=r,
        )
        self.judge_latency = Histogram(
            "seekworld_judge_latency_seconds",
            "Judge latency per sample, tries included (cache hits excluded)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def observe_samples(self, samples: Sequence[SampleScore]) -> None:
        self.samples.inc(len(samples))
        for s in samples:
            if s.label_error is not None:
                self.label_errors.inc()
            if s.error is not None:
                self.score_errors.inc()
            self.reward.observe(s.reward)
            for name, value in s.components.items():
                self.component.labels(name).observe(value)

    def observe_judge(self, result: JudgeResult) -> None:
        if result.skipped:
            return
        if result.flagged is not None:
            outcome = "flagged"
        elif result.cached:
            outcome = "cached"
        elif result.error is not None:
            outcome = "error"
            self.judge_failures.labels(result.error).inc()
        else:
            outcome = "ok"
        self.judge_requests.labels(outcome).inc()
        if result.attempts:
            self.judge_calls.inc(result.attempts)
        for cause in result.failed_tries:
            self.judge_call_failures.labels(cause).inc()
        if result.image_skipped:
            self.judge_images_skipped.inc()
        if result.logprobs_fallback:
            self.judge_logprobs_fallback.inc()
        if not result.cached and result.flagged is None:
            self.judge_latency.observe(result.latency_s)

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
