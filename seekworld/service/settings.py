"""The reward service's settings, declared once: one table, every front end and runtime config.

Every knob of the reward service is one row (a field) of `RewardSettings`: its type, default, the
`seekworld serve` flag (the field name with dashes), the environment variable the in-process reward
files read, the `seekworld train` config key, help text and allowed range (`seekworld.service.table`).
Generated from it:

- `seekworld serve`'s flags (`add_arguments`; flag > environment variable > default),
- the reward files' and the zoom agent's environment (`from_env`),
- `seekworld train`'s config keys (`toml_section`, rendered into the default config) and its launch
  of the server (`to_argv`) or of the reward file (`to_env`), from `from_train`,
- the runtime configs, with no defaults of their own: `service_config()` (the scorer: variant,
  template, audit log, request deadline), `judge_config()` (the judge client) and
  `server_options()` (the HTTP server).

To add a setting, add one row and read it where its runtime config is built:

    judge_deadline: float = setting(30.0, "seconds for a whole judge call", env="SEEKWORLD_JUDGE_DEADLINE",
                                    train="judge.deadline_s", low=0, low_open=True, group="judge")

`tests/service/test_settings.py` then proves it reaches every front end. Groups: `server`, the HTTP
server only (`seekworld serve`); `service`, the scorer (server and reward files); `judge`, the
scorer's judge (passed on only when there is one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from seekworld._version import __version__
from seekworld.io.net import redact_url
from seekworld.service.table import SettingError, SettingsTable, setting
from seekworld.service.wire import PROTOCOLS

if TYPE_CHECKING:  # imported when a config is built: the CLI parser imports this module
    from seekworld.chat import ChatTemplate
    from seekworld.rewards.judge import JudgeConfig
    from seekworld.rewards.monitors import MonitorConfig
    from seekworld.rewards.variants import RewardConfig

__all__ = ["ENV_VARS", "RewardSettings", "ServerOptions", "ServiceConfig", "SettingError"]


def _default_workers() -> int:
    # Scoring is CPU-bound Python: one worker per core, a few at most (each holds a judge client).
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class RewardSettings(SettingsTable):
    """The table. Built by `from_args` / `from_env` / `from_train`; validated on construction."""

    groups: ClassVar[dict[str, str | None]] = {"server": None, "service": None, "judge": "judge (rule+judge)"}

    # --- HTTP server (`seekworld serve` only)
    host: str = setting("127.0.0.1", "bind address (loopback only by default)", group="server")
    port: int = setting(5000, "port", low=1, high=65535, group="server")
    workers: int = setting(
        None, "gunicorn worker processes", default_factory=_default_workers, low=1, group="server"
    )
    threads: int = setting(
        256,
        "threads per worker: requests in flight each (one waiting on the judge holds one)",
        low=1,
        group="server",
    )
    worker_class: str = setting(
        "gthread", "gunicorn worker class", choices=("gthread", "sync"), group="server"
    )
    token: str | None = setting(
        None,
        "require this token (Bearer header or ?token=)",
        env="SEEKWORLD_TOKEN",
        group="server",
        secret=True,
    )
    max_body_mb: float = setting(
        64.0, "reject larger request bodies (413)", low=0, low_open=True, group="server"
    )
    log_level: str = setting(
        "info", "log level", choices=("debug", "info", "warning", "error"), group="server"
    )
    access_log: bool = setting(False, "log every request (off: URLs may hold the token)", group="server")
    allow_no_token: bool = setting(
        False, "serve a non-loopback --host without a token (refused otherwise)", group="server"
    )
    header_timeout: float = setting(
        10.0,
        "seconds from a request's first byte (a new connection's opening) to the end of its headers "
        "(408 past it)",
        low=0,
        low_open=True,
        group="server",
    )
    body_timeout: float = setting(
        30.0,
        "seconds from the end of a request's headers to the end of its body (408 past it)",
        low=0,
        low_open=True,
        group="server",
    )
    max_samples: int = setting(4096, "samples one request may carry (413 past it)", low=1, group="server")
    graceful_timeout: int = setting(
        30,
        "seconds SIGTERM waits for requests in flight; the judge gives up in time for them to be answered",
        low=1,
        group="server",
    )
    protocol: str = setting(
        "openrlhf",
        "reply shape: openrlhf (extra_logs nested) or lmm-r1 (flat: each log a top-level list)",
        choices=tuple(PROTOCOLS),
        group="server",
    )
    dataset: str | None = setting(
        None,
        "lmm-r1 training JSONL: look empty labels up by prompt",
        env="SEEKWORLD_DATASET",
        group="server",
    )
    # --- scoring (server and reward file)
    reward: str = setting(
        "rule",
        "reward variant: rule, rule+length, rule+judge, distance, rule+distance",
        env="SEEKWORLD_REWARD",
        train="reward.variant",
    )
    weights: str | None = setting(
        None,
        "override weights, e.g. format=0.5,accuracy=2,judge=1",
        env="SEEKWORLD_WEIGHTS",
        train="reward.weights",
    )
    country_credit: float = setting(
        0.0,
        "accuracy paid for the right country alone",
        env="SEEKWORLD_COUNTRY_CREDIT",
        train="reward.country_credit",
        low=0,
        high=1,
    )
    chat_template: str = setting(
        "qwen",
        "qwen, llama3, gemma, chatml, none",
        env="SEEKWORLD_CHAT_TEMPLATE",
        train="reward.chat_template",
    )
    assistant_marker: str | None = setting(
        None,
        r"custom assistant marker (\n = newline)",
        env="SEEKWORLD_ASSISTANT_MARKER",
        train="reward.assistant_marker",
    )
    end_tokens: str | None = setting(
        None,
        "custom end-of-turn tokens, comma-separated",
        env="SEEKWORLD_END_TOKENS",
        train="reward.end_tokens",
    )
    log_dir: str | None = setting(
        None, "write the audit log (one JSON line per sample) here", env="SEEKWORLD_LOG_DIR"
    )
    log_max_mb: float = setting(
        100.0,
        "roll audit files over at this size",
        env="SEEKWORLD_LOG_MAX_MB",
        train="reward.log_max_mb",
        low=0,
        low_open=True,
    )
    request_deadline: float = setting(
        60.0,
        "seconds from a request's arrival to its answer, queueing and judging included",
        env="SEEKWORLD_REQUEST_DEADLINE",
        train="reward.request_deadline_s",
        low=0,
        high=170,
        low_open=True,
        high_open=True,
    )
    # --- collapse and reward-hacking monitors (seekworld.rewards.monitors)
    monitor_window: int = setting(
        256,
        "samples per process the monitors' warnings look at (and the reward service's extra_logs)",
        env="SEEKWORLD_MONITOR_WINDOW",
        train="monitor.window",
        low=1,
    )
    monitor_places: str | None = setting(
        None,
        "place IDs whose accuracy is logged as accuracy/<id>, comma-separated "
        "(seekworld train: empty = from the training data)",
        env="SEEKWORLD_MONITOR_PLACES",
        train="monitor.places",
    )
    monitor_collapse_share: float = setting(
        0.7,
        "warn when one answer is at least this share of completions",
        env="SEEKWORLD_MONITOR_COLLAPSE_SHARE",
        train="monitor.collapse_share",
        low=0,
        high=1,
    )
    monitor_collapse_margin: float = setting(
        0.2,
        "... and at least this much above the share of the most common label",
        env="SEEKWORLD_MONITOR_COLLAPSE_MARGIN",
        train="monitor.collapse_margin",
        low=0,
        high=1,
    )
    monitor_padding_share: float = setting(
        0.4,
        "warn when at least this share of the reasoning is characters the length rule does not count",
        env="SEEKWORLD_MONITOR_PADDING_SHARE",
        train="monitor.padding_share",
        low=0,
        high=1,
    )
    monitor_place_floor: float = setting(
        0.05,
        "warn when a place's accuracy over its last 32+ samples is at most this while another's is 0.3+",
        env="SEEKWORLD_MONITOR_PLACE_FLOOR",
        train="monitor.place_floor",
        low=0,
        high=1,
    )
    monitor_format_failure: float = setting(
        0.5,
        "warn when at least this share of completions break the <think>/<answer> format",
        env="SEEKWORLD_MONITOR_FORMAT_FAILURE",
        train="monitor.format_failure",
        low=0,
        high=1,
    )
    # --- the judge (variants that weigh it)
    judge_url: str | None = setting(
        None,
        "OpenAI-compatible base URL, e.g. http://127.0.0.1:8001/v1",
        env="SEEKWORLD_JUDGE_URL",
        group="judge",
    )
    judge_model: str | None = setting(
        None,
        "model name the judge endpoint serves (judge.mode=start: the model vllm serves)",
        env="SEEKWORLD_JUDGE_MODEL",
        train="judge.model",
        train_default="Qwen/Qwen2.5-3B-Instruct",
        group="judge",
    )
    judge_api_key: str | None = setting(
        None,
        "judge API key (else $OPENAI_API_KEY, then 'EMPTY')",
        env="SEEKWORLD_JUDGE_API_KEY",
        env_fallback=("OPENAI_API_KEY",),
        group="judge",
        secret=True,
    )
    judge_sees_image: bool = setting(
        False,
        "send the label's image to the judge (a VLM judge)",
        env="SEEKWORLD_JUDGE_SEES_IMAGE",
        train="judge.sees_image",
        group="judge",
    )
    judge_image_root: str | None = setting(
        None,
        "directories the judge's images may come from (repeatable flag; os.pathsep-separated); "
        "none: the judge grades text only",
        env="SEEKWORLD_JUDGE_IMAGE_ROOT",
        train="judge.image_root",
        multiple=True,
        group="judge",
    )
    judge_structured: bool = setting(
        False,
        'constrain the reply to {"verdict": n} with a JSON schema (vLLM, OpenAI structured outputs)',
        env="SEEKWORLD_JUDGE_STRUCTURED",
        train="judge.structured",
        group="judge",
    )
    judge_breaker_failures: int = setting(
        5,
        "consecutive judge outages (timeout, connection, 429, 5xx) that skip the judge (0: never)",
        env="SEEKWORLD_JUDGE_BREAKER_FAILURES",
        train="judge.breaker_failures",
        low=0,
        group="judge",
    )
    judge_breaker_cooldown: float = setting(
        30.0,
        "seconds the judge is skipped, then probed",
        env="SEEKWORLD_JUDGE_BREAKER_COOLDOWN",
        train="judge.breaker_cooldown_s",
        low=0,
        low_open=True,
        group="judge",
    )
    judge_mode: str = setting(
        "binary",
        "binary: the judge replies 0 or 1; score: its P(1) / (P(0) + P(1)) from the reply's logprobs",
        env="SEEKWORLD_JUDGE_MODE",
        train="judge.verdict",
        choices=("binary", "score"),
        group="judge",
    )
    judge_timeout: float = setting(
        20.0,
        "seconds per judge call",
        env="SEEKWORLD_JUDGE_TIMEOUT",
        train="judge.timeout_s",
        low=0,
        low_open=True,
        group="judge",
    )
    judge_retries: int = setting(
        2,
        "extra tries per judge call",
        env="SEEKWORLD_JUDGE_RETRIES",
        train="judge.retries",
        low=0,
        group="judge",
    )
    judge_concurrency: int = setting(
        256,
        "the most judge calls in flight per process; the limit follows the judge's latency below it",
        env="SEEKWORLD_JUDGE_CONCURRENCY",
        train="judge.concurrency",
        low=1,
        group="judge",
    )
    judge_max_tokens: int = setting(
        8,
        "max tokens of the judge's reply (raise it for a judge that thinks first)",
        env="SEEKWORLD_JUDGE_MAX_TOKENS",
        train="judge.max_tokens",
        low=1,
        group="judge",
    )
    judge_budget: float = setting(
        90.0,
        "seconds for a whole request's judging (under upstream's 180 s timeout)",
        env="SEEKWORLD_JUDGE_BUDGET",
        train="judge.budget_s",
        low=0,
        high=170,
        low_open=True,
        high_open=True,
        group="judge",
    )

    # --- what the settings build --------------------------------------------------------------

    def service_config(self) -> ServiceConfig:
        """The scorer's config. Raises SeekworldError (unknown variant, missing judge...)."""
        from seekworld.chat import resolve_template
        from seekworld.rewards.variants import RewardConfig

        reward = RewardConfig.from_variant(self.reward, self.weights, country_credit=self.country_credit)
        return ServiceConfig(
            reward=reward,
            template=resolve_template(self.chat_template, self.assistant_marker, self.end_tokens),
            judge=self.judge_config() if reward.needs_judge else None,
            log_dir=self.log_dir,
            log_max_bytes=int(self.log_max_mb * 1024 * 1024),
            request_deadline_s=self.request_deadline,
            monitor=self.monitor_config(),
        )

    def monitor_config(self) -> MonitorConfig:
        """What the collapse and reward-hacking monitors watch, and their thresholds."""
        from seekworld.rewards.monitors import MonitorConfig, parse_places

        return MonitorConfig(
            places=parse_places(self.monitor_places),
            window=self.monitor_window,
            collapse_share=self.monitor_collapse_share,
            collapse_margin=self.monitor_collapse_margin,
            padding_share=self.monitor_padding_share,
            format_failure=self.monitor_format_failure,
            place_floor=self.monitor_place_floor,
        )

    def judge_config(self) -> JudgeConfig:
        """The judge client's config. Raises SettingError without an endpoint and a model."""
        from seekworld.rewards.judge import JudgeConfig

        if not self.judge_url or not self.judge_model:
            raise SettingError(
                f"variant {self.reward!r} weighs the judge: give --judge-url and --judge-model "
                "(or SEEKWORLD_JUDGE_URL / SEEKWORLD_JUDGE_MODEL)"
            )
        return JudgeConfig(
            url=self.judge_url,
            model=self.judge_model,
            api_key=self.judge_api_key or "EMPTY",
            mode=self.judge_mode,
            sees_image=self.judge_sees_image,
            timeout_s=self.judge_timeout,
            retries=self.judge_retries,
            concurrency=self.judge_concurrency,
            max_tokens=self.judge_max_tokens,
            budget_s=self.judge_budget,
            image_roots=tuple(r for r in (self.judge_image_root or "").split(os.pathsep) if r),
            structured=self.judge_structured,
            breaker_failures=self.judge_breaker_failures,
            breaker_cooldown_s=self.judge_breaker_cooldown,
        )

    def server_options(self) -> ServerOptions:
        """The HTTP server's options (`seekworld serve`)."""
        return ServerOptions(
            host=self.host,
            port=self.port,
            workers=self.workers,
            threads=self.threads,
            worker_class=self.worker_class,
            token=self.token or None,
            max_body_bytes=int(self.max_body_mb * 1024 * 1024),
            log_level=self.log_level,
            access_log=self.access_log,
            header_timeout_s=self.header_timeout,
            body_timeout_s=self.body_timeout,
            max_samples=self.max_samples,
            graceful_timeout_s=self.graceful_timeout,
            protocol=self.protocol,
            dataset=self.dataset,
        )


# Environment variables the reward files read (variable -> help), from the table.
ENV_VARS: dict[str, str] = RewardSettings.env_vars()


@dataclass(frozen=True)
class ServiceConfig:
    """What the scorer is built from (both adapters: `seekworld serve` and the reward files)."""

    reward: RewardConfig
    template: ChatTemplate
    judge: JudgeConfig | None
    log_dir: str | None
    log_max_bytes: int
    request_deadline_s: float  # from arrival (queueing included); the judge gives up by then
    monitor: MonitorConfig  # the window monitors each reply carries

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServiceConfig:
        """Config from SEEKWORLD_* variables (see ENV_VARS)."""
        return RewardSettings.from_env(env).service_config()

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


@dataclass(frozen=True)
class ServerOptions:
    """The HTTP server's options, from the table's `server` rows."""

    host: str
    port: int
    workers: int
    threads: int
    worker_class: str
    token: str | None
    max_body_bytes: int
    log_level: str
    access_log: bool  # 4,096 lines per training step, and URLs may carry the token
    header_timeout_s: float  # from a request's first byte to the end of its headers
    body_timeout_s: float  # from the end of the headers to the end of the body
    max_samples: int  # per request
    graceful_timeout_s: int  # SIGTERM: requests in flight are answered within it
    protocol: str
    dataset: str | None  # lmm-r1 training JSONL: empty labels are looked up by prompt
