"""Reward-service settings, declared once: one table, four front ends.

Every knob of the reward service is one field of `RewardSettings` below: its type, default, the
`seekworld serve` flag (the field name with dashes), the environment variable the in-process reward
file reads, the `seekworld train` config key, help text and allowed range. Generated from it:

- `seekworld serve`'s flags (`add_arguments`; flag > environment variable > default),
- the reward file's and the zoom agent's environment (`from_env`, `ServiceConfig.from_env`),
- `seekworld train`'s config keys (`train_defaults_toml`, rendered into the default config) and its
  launch of the server (`to_argv`) or of the reward file (`to_env`), from `from_train`.

To add a setting, add one row (a field) and use it where the service is built (`service_config`):

    judge_deadline: float = setting(30.0, "seconds for a whole judge call", env="SEEKWORLD_JUDGE_DEADLINE",
                                    train="judge.deadline_s", low=0, low_open=True, group="judge")

`tests/rewards/test_settings.py` then proves it reaches every front end. Domain side: nothing here
imports an adapter (no Flask, no argparse at import time).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any, get_type_hints
from urllib.parse import urlsplit, urlunsplit

from seekworld._version import __version__
from seekworld.errors import SeekworldError

if TYPE_CHECKING:  # imported when a config is built: the CLI parser imports this module
    import argparse

    from seekworld.chat import ChatTemplate
    from seekworld.rewards.judge import JudgeConfig
    from seekworld.rewards.variants import RewardConfig

__all__ = [
    "ENV_VARS",
    "RewardSettings",
    "ServiceConfig",
    "SettingError",
    "Spec",
    "check_setting",
    "env_setting",
    "redact_url",
    "setting",
]

GROUPS = ("server", "service", "judge")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class SettingError(SeekworldError, ValueError):
    """A setting outside its type or range; the message names the flag (or variable, or key)."""


@dataclass(frozen=True)
class Spec:
    """What the table says about one setting besides its name, type and default."""

    help: str
    env: str | None = None  # environment variable (the reward file is configured by these)
    env_fallback: tuple[str, ...] = ()  # read when `env` is unset (OPENAI_API_KEY)
    train: str | None = None  # `seekworld train` config key; None: not settable there
    train_default: Any = None  # the config's default, when not the table's (None: the table's)
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: value must be > low (else >= low)
    high_open: bool = False
    choices: tuple[str, ...] = ()
    # server: `seekworld serve` only (HTTP); service: the scorer (server and reward file);
    # judge: the scorer's judge (passed on only when there is a judge)
    group: str = "service"
    secret: bool = False  # never put in argv (`ps` shows it), never in train config files
    multiple: bool = False  # a repeatable flag; the values are joined with os.pathsep


def setting(default: Any, help: str, *, default_factory: Any = None, **spec: Any) -> Any:
    """One row of the table: a dataclass field whose metadata is its `Spec`."""
    meta = {"spec": Spec(help, **spec)}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


def _default_workers() -> int:
    # Scoring is CPU-bound Python: one worker per core, a few at most (each holds a judge pool).
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class RewardSettings:
    """The table. Built by `from_args` / `from_env` / `from_train`; validated on construction."""

    # --- HTTP server (`seekworld serve` only)
    host: str = setting("127.0.0.1", "bind address (loopback only by default)", group="server")
    port: int = setting(5000, "port", low=1, high=65535, group="server")
    workers: int = setting(
        None, "gunicorn worker processes", default_factory=_default_workers, low=1, group="server"
    )
    threads: int = setting(32, "threads per worker (requests in flight each)", low=1, group="server")
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
    body_timeout: float = setting(
        30.0,
        "seconds a client may take to send a request's headers and body",
        low=0,
        low_open=True,
        group="server",
    )
    protocol: str = setting(
        "openrlhf",
        "reply shape: openrlhf (extra_logs nested) or lmm-r1 (flat: each log a top-level list)",
        choices=("openrlhf", "lmm-r1"),
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
        32,
        "judge calls in flight per process",
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

    def __post_init__(self) -> None:
        for row in rows():
            check(row, getattr(self, row.name), label(row))

    # --- front ends ---------------------------------------------------------------------------

    @classmethod
    def from_sources(
        cls, flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> RewardSettings:
        """Each setting from its flag (not None), else its environment variable, else its default."""
        flags = flags or {}
        env = {} if env is None else env
        values: dict[str, Any] = {}
        for row in rows():
            if flags.get(row.name) is not None:
                value = flags[row.name]
                values[row.name] = os.pathsep.join(value) if row.spec.multiple else value
                continue
            for name in (row.spec.env, *row.spec.env_fallback) if row.spec.env else ():
                if env.get(name, "") != "":
                    values[row.name] = parse_text(row, env[name], name)
                    break
        return cls(**values)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RewardSettings:
        """Settings from SEEKWORLD_* variables (see ENV_VARS); defaults for the rest."""
        return cls.from_sources(None, os.environ if env is None else env)

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> RewardSettings:
        """Settings from parsed `add_arguments` flags, falling back to the environment."""
        return cls.from_sources(vars(args), os.environ if env is None else env)

    @classmethod
    def from_train(cls, config: Mapping[str, Any], **given: Any) -> RewardSettings:
        """Settings from `seekworld train` config keys ("" = unset), plus `given` fields."""
        values: dict[str, Any] = {}
        for row in rows():
            if row.spec.train is not None:
                value = config[row.spec.train]
                if value != "" or not row.optional:
                    check(row, value, row.spec.train)  # the error names the config key
                    values[row.name] = value
        values.update(given)
        return cls(**values)

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser, groups: tuple[str, ...] = GROUPS) -> None:
        """Add one flag per setting of `groups`; every default is None (resolved by `from_args`)."""
        import argparse

        targets: dict[str, Any] = {"judge": parser.add_argument_group("judge (rule+judge)")}
        for row in rows():
            if row.spec.group not in groups:
                continue
            target = targets.get(row.spec.group, parser)
            default = row.default if row.default is not None else "none"
            where = f"; ${row.spec.env}" if row.spec.env else ""
            help_text = f"{row.spec.help} (default: {'***' if row.spec.secret else default}{where})"
            kwargs: dict[str, Any] = {"dest": row.name, "default": None, "help": help_text}
            if row.kind is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kwargs["type"] = _arg_type(row)
                if row.spec.multiple:
                    kwargs["action"] = "append"
                if row.spec.choices:
                    kwargs["choices"] = row.spec.choices
            target.add_argument(row.flag, **kwargs)

    def to_argv(self, groups: tuple[str, ...] = ("service", "judge")) -> list[str]:
        """`seekworld serve` flags for every non-secret setting of `groups` that is set."""
        argv: list[str] = []
        for row in rows():
            value = getattr(self, row.name)
            if row.spec.group not in groups or row.spec.secret or value is None:
                continue
            if row.kind is bool:
                argv.append(row.flag if value else "--no-" + row.flag[2:])
            elif row.spec.multiple:
                argv += [x for part in str(value).split(os.pathsep) if part for x in (row.flag, part)]
            else:
                argv += [row.flag, str(value)]
        return argv

    def to_env(self, groups: tuple[str, ...] = ("service", "judge")) -> dict[str, str]:
        """SEEKWORLD_* variables for every non-secret setting of `groups` that is set."""
        env: dict[str, str] = {}
        for row in rows():
            value = getattr(self, row.name)
            if row.spec.group not in groups or row.spec.secret or row.spec.env is None or value is None:
                continue
            env[row.spec.env] = ("1" if value else "0") if row.kind is bool else str(value)
        return env

    # --- what the settings build --------------------------------------------------------------

    def service_config(self) -> ServiceConfig:
        """The scorer's config. Raises SeekworldError (unknown variant, missing judge...)."""
        return ServiceConfig.build(
            variant=self.reward,
            weights=self.weights,
            country_credit=self.country_credit,
            chat_template=self.chat_template,
            assistant_marker=self.assistant_marker,
            end_tokens=self.end_tokens,
            judge_url=self.judge_url,
            judge_model=self.judge_model,
            judge_api_key=self.judge_api_key,
            judge_sees_image=self.judge_sees_image,
            judge_mode=self.judge_mode,
            judge_timeout_s=self.judge_timeout,
            judge_retries=self.judge_retries,
            judge_concurrency=self.judge_concurrency,
            judge_max_tokens=self.judge_max_tokens,
            judge_budget_s=self.judge_budget,
            judge_image_roots=(self.judge_image_root or "").split(os.pathsep),
            judge_structured=self.judge_structured,
            judge_breaker_failures=self.judge_breaker_failures,
            judge_breaker_cooldown_s=self.judge_breaker_cooldown,
            log_dir=self.log_dir,
            log_max_bytes=int(self.log_max_mb * 1024 * 1024),
            request_deadline_s=self.request_deadline,
        )


@dataclass(frozen=True)
class Row:
    name: str
    kind: type  # str, int, float or bool
    optional: bool  # None allowed
    default: Any
    spec: Spec

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@lru_cache(maxsize=1)
def rows() -> tuple[Row, ...]:
    """The table, one Row per field of RewardSettings, in declaration order."""
    hints = get_type_hints(RewardSettings)
    out = []
    for f in fields(RewardSettings):
        hint = hints[f.name]
        args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
        kind = args[0] if args else hint
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        out.append(Row(f.name, kind, bool(args), default, f.metadata["spec"]))
    return tuple(out)


def label(row: Row) -> str:
    return f"{row.flag} ({row.spec.env})" if row.spec.env else row.flag


def check(row: Row, value: Any, where: str) -> None:
    """Raise SettingError unless `value` has the row's type and lies in its range/choices."""
    spec = row.spec
    if value is None:
        if not row.optional:
            raise SettingError(f"{where} must be set")
        return
    ok_type = isinstance(value, row.kind) and not (row.kind is not bool and isinstance(value, bool))
    if row.kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok_type = True
    if not ok_type:
        raise SettingError(f"{where} must be {_type_name(row.kind)}, got {value!r}")
    if spec.choices and value not in spec.choices:
        raise SettingError(f"{where} must be one of {', '.join(spec.choices)}, got {value!r}")
    if spec.low is not None and (value <= spec.low if spec.low_open else value < spec.low):
        raise SettingError(f"{where} must be {'>' if spec.low_open else '>='} {spec.low:g}, got {value}")
    if spec.high is not None and (value >= spec.high if spec.high_open else value > spec.high):
        raise SettingError(f"{where} must be {'<' if spec.high_open else '<='} {spec.high:g}, got {value}")


def check_setting(name: str, value: Any, where: str | None = None) -> None:
    """Check one value against its row (for front ends that take a few settings, like `score`)."""
    row = next(r for r in rows() if r.name == name)
    check(row, value, where or row.flag)


def env_setting(name: str, env: Mapping[str, str] | None = None) -> Any:
    """One setting from its environment variable(s), None when unset: for front ends in the trainer's
    process (TRL) that take a secret (the judge's key) from the environment only, never a config file."""
    row = next(r for r in rows() if r.name == name)
    env = os.environ if env is None else env
    for var in (row.spec.env, *row.spec.env_fallback) if row.spec.env else ():
        if env.get(var, "") != "":
            return parse_text(row, env[var], var)
    return None


def _type_name(kind: type) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "text"}.get(kind, kind.__name__)


def parse_text(row: Row, text: str, where: str) -> Any:
    """A setting's value from text (an environment variable). Raises SettingError."""
    if row.kind is bool:
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise SettingError(f"{where}={text!r} must be 1/0 (true/false)")
    if row.kind is str:
        return text
    try:
        return row.kind(text)
    except ValueError:
        raise SettingError(f"{where}={text!r} is not {_type_name(row.kind)}") from None


def _arg_type(row: Row) -> Any:
    def convert(text: str) -> Any:
        import argparse

        try:
            return parse_text(row, text, row.flag)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = _type_name(row.kind)
    return convert


def train_defaults_toml(section: str) -> str:
    """The `[section]` config lines (`key = default  # help`) of the settings `seekworld train` sets."""
    lines = []
    for row in rows():
        key = row.spec.train
        if key is None or not key.startswith(section + "."):
            continue
        default = row.default if row.spec.train_default is None else row.spec.train_default
        lines.append(f"{key.split('.', 1)[1]} = {_toml(default)}  # {row.spec.help}")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def train_keys() -> tuple[str, ...]:
    return tuple(r.spec.train for r in rows() if r.spec.train is not None)


# Environment variables the reward file reads (variable -> help), from the table.
ENV_VARS: dict[str, str] = {}


@dataclass(frozen=True)
class ServiceConfig:
    """What the scorer is built from (both adapters: `seekworld serve` and the reward file)."""

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
        country_credit: float = 0.0,
    ) -> ServiceConfig:
        """Validate knobs into a config. Raises ValueError/KeyError saying what to fix."""
        from seekworld.chat import resolve_template
        from seekworld.rewards.judge import JudgeConfig
        from seekworld.rewards.variants import RewardConfig

        reward = RewardConfig.from_variant(variant, weights, country_credit=country_credit)
        template = resolve_template(chat_template, assistant_marker, end_tokens)
        judge = None
        if reward.needs_judge:
            if not judge_url or not judge_model:
                raise SettingError(
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
            raise SettingError("the request deadline must be > 0 and under upstream's 180 s client timeout")
        return cls(reward, template, judge, log_dir, log_max_bytes, request_deadline_s)

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


ENV_VARS.update({r.spec.env: r.spec.help for r in rows() if r.spec.env is not None})
