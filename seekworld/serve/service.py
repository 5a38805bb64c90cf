"""The reward service behind both adapters: `seekworld serve` (HTTP) and the in-process reward file.

    service = RewardService(ServiceConfig.build(variant="rule+judge", judge_url=..., judge_model=...))
    service(queries, prompts, labels)  # -> {"rewards": [...], "scores": [...], "extra_logs": {...}}

It holds what must be built once per process (the judge client and its pool, the audit log) and
calls the pure batch scorer. Framework-free: no Flask here (the reward file imports this module).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from seekworld import __version__
from seekworld.errors import UsageError
from seekworld.rewards.batch import ScoredSample, score_samples, to_openrlhf
from seekworld.rewards.judge import Judge, JudgeConfig, JudgeResult
from seekworld.rewards.response import ChatTemplate, resolve_template
from seekworld.rewards.variants import RewardConfig
from seekworld.serve.audit import AuditLog

__all__ = ["ENV_VARS", "RewardService", "ServiceConfig", "redact_url"]

log = logging.getLogger(__name__)

# Environment variables read by `ServiceConfig.from_env` (the reward file is configured this way).
ENV_VARS = {
    "SEEKWORLD_REWARD": "variant (default rule)",
    "SEEKWORLD_WEIGHTS": "weight overrides, e.g. format=0.5,accuracy=2,judge=1",
    "SEEKWORLD_CHAT_TEMPLATE": "qwen (default), llama3, gemma, chatml, none",
    "SEEKWORLD_ASSISTANT_MARKER": r"custom assistant marker; \n means a newline",
    "SEEKWORLD_END_TOKENS": "custom end-of-turn tokens, comma-separated",
    "SEEKWORLD_JUDGE_URL": "OpenAI-compatible base URL, e.g. http://127.0.0.1:8001/v1",
    "SEEKWORLD_JUDGE_MODEL": "model name the judge endpoint serves",
    "SEEKWORLD_JUDGE_API_KEY": "judge API key (falls back to OPENAI_API_KEY, then 'EMPTY')",
    "SEEKWORLD_JUDGE_SEES_IMAGE": "1: send the label's image to the judge",
    "SEEKWORLD_JUDGE_MODE": "binary (default) or score",
    "SEEKWORLD_JUDGE_TIMEOUT": "seconds per judge call (default 20)",
    "SEEKWORLD_JUDGE_RETRIES": "extra tries per judge call (default 2)",
    "SEEKWORLD_JUDGE_CONCURRENCY": "judge calls in flight per process (default 32)",
    "SEEKWORLD_JUDGE_MAX_TOKENS": "max tokens of the judge's reply (default 8)",
    "SEEKWORLD_JUDGE_IMAGE_ROOT": "directories the judge's images may come from (os.pathsep-separated)",
    "SEEKWORLD_JUDGE_STRUCTURED": '1: ask for {"verdict": n} through a JSON schema (vLLM, OpenAI)',
    "SEEKWORLD_JUDGE_BREAKER_FAILURES": "consecutive judge outages that skip the judge (default 5, 0 off)",
    "SEEKWORLD_JUDGE_BREAKER_COOLDOWN": "seconds the judge is skipped before a probe (default 30)",
    "SEEKWORLD_REQUEST_DEADLINE": "seconds from a request's arrival to its answer (default 60)",
    "SEEKWORLD_LOG_DIR": "write the audit log here",
}


@dataclass(frozen=True)
class ServiceConfig:
    reward: RewardConfig
    template: ChatTemplate
    judge: JudgeConfig | None = None
    log_dir: str | None = None
    log_max_bytes: int = 100 * 1024 * 1024
    request_deadline_s: float = 60.0  # from arrival (queueing included); the judge gives up by then

    @classmethod
    def build(
        cls,
        variant: str = "rule",
        weights: str | Mapping[str, float] | None = None,
        chat_template: str = "qwen",
        assistant_marker: str | None = None,
        end_tokens: str | None = None,
        judge_url: str | None = None,
        judge_model: str | None = None,
        judge_api_key: str | None = None,
        judge_sees_image: bool = False,
        judge_mode: str = "binary",
        judge_timeout_s: float = 20.0,
        judge_retries: int = 2,
        judge_concurrency: int = 32,
        judge_max_tokens: int = 8,
        judge_budget_s: float = 90.0,
        judge_image_roots: Sequence[str] = (),
        judge_structured: bool = False,
        judge_breaker_failures: int = 5,
        judge_breaker_cooldown_s: float = 30.0,
        log_dir: str | None = None,
        log_max_bytes: int = 100 * 1024 * 1024,
        request_deadline_s: float = 60.0,
    ) -> ServiceConfig:
        """Validate knobs into a config. Raises a SeekworldError saying what to fix."""
        reward = RewardConfig.from_variant(variant, weights)
        template = resolve_template(chat_template, assistant_marker, end_tokens)
        judge = None
        if reward.needs_judge:
            if not judge_url or not judge_model:
                raise UsageError(
                    f"variant {variant!r} weighs the judge: give --judge-url and --judge-model "
                    "(or SEEKWORLD_JUDGE_URL / SEEKWORLD_JUDGE_MODEL)"
                )
            judge = JudgeConfig(
                url=judge_url,
                model=judge_model,
                api_key=judge_api_key or "EMPTY",
                mode=judge_mode,
                sees_image=judge_sees_image,
                timeout_s=judge_timeout_s,
                retries=judge_retries,
                concurrency=judge_concurrency,
                max_tokens=judge_max_tokens,
                budget_s=judge_budget_s,
                image_roots=tuple(r for r in judge_image_roots if r),
                structured=judge_structured,
                breaker_failures=judge_breaker_failures,
                breaker_cooldown_s=judge_breaker_cooldown_s,
            )
        if not 0 < request_deadline_s < 170:
            raise ValueError("the request deadline must be > 0 and under upstream's 180 s client timeout")
        return cls(reward, template, judge, log_dir, log_max_bytes, request_deadline_s)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServiceConfig:
        """Config from SEEKWORLD_* variables (see ENV_VARS)."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        def flag(name: str) -> bool:
            return (get(name) or "0").lower() in ("1", "true", "yes")

        def number(name: str, default: float, kind: type = float) -> Any:
            value = get(name)
            try:
                return default if value is None else kind(value)
            except ValueError:
                raise UsageError(f"{name}={value!r} is not a {kind.__name__}") from None

        return cls.build(
            variant=get("SEEKWORLD_REWARD") or "rule",
            weights=get("SEEKWORLD_WEIGHTS"),
            chat_template=get("SEEKWORLD_CHAT_TEMPLATE") or "qwen",
            assistant_marker=get("SEEKWORLD_ASSISTANT_MARKER"),
            end_tokens=get("SEEKWORLD_END_TOKENS"),
            judge_url=get("SEEKWORLD_JUDGE_URL"),
            judge_model=get("SEEKWORLD_JUDGE_MODEL"),
            judge_api_key=get("SEEKWORLD_JUDGE_API_KEY") or get("OPENAI_API_KEY"),
            judge_sees_image=flag("SEEKWORLD_JUDGE_SEES_IMAGE"),
            judge_mode=get("SEEKWORLD_JUDGE_MODE") or "binary",
            judge_timeout_s=number("SEEKWORLD_JUDGE_TIMEOUT", 20.0),
            judge_retries=number("SEEKWORLD_JUDGE_RETRIES", 2, int),
            judge_concurrency=number("SEEKWORLD_JUDGE_CONCURRENCY", 32, int),
            judge_max_tokens=number("SEEKWORLD_JUDGE_MAX_TOKENS", 8, int),
            judge_image_roots=(get("SEEKWORLD_JUDGE_IMAGE_ROOT") or "").split(os.pathsep),
            judge_structured=flag("SEEKWORLD_JUDGE_STRUCTURED"),
            judge_breaker_failures=number("SEEKWORLD_JUDGE_BREAKER_FAILURES", 5, int),
            judge_breaker_cooldown_s=number("SEEKWORLD_JUDGE_BREAKER_COOLDOWN", 30.0),
            log_dir=get("SEEKWORLD_LOG_DIR"),
            request_deadline_s=number("SEEKWORLD_REQUEST_DEADLINE", 60.0),
        )

    def describe(self) -> dict[str, Any]:
        """What /health reports (no secrets)."""
        return {
            "variant": self.reward.variant,
            "weights": dict(self.reward.weights),
            "chat_template": self.template.name,
            "judge": None
            if self.judge is None
            else {
                "url": redact_url(self.judge.url),
                "model": self.judge.model,
                "sees_image": self.judge.sees_image and bool(self.judge.image_roots),
            },
            "version": __version__,
        }


_SECRET_PARAM = re.compile(r"(?i)(?:key|token|secret|password|passwd|pwd|auth|sig|signature|credential)")


def redact_url(url: str) -> str:
    """The URL without credentials: userinfo and secret-looking query values become `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "&".join(
        f"{k}=***" if _SECRET_PARAM.search(k) else f"{k}={v}" if v or "=" in pair else k
        for pair in parts.query.split("&")
        if pair
        for k, _, v in [pair.partition("=")]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


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
