"""The one OpenAI-compatible client factory (judge, eval engine, trace collection).

    client = make_client(base_url, api_key=resolve_api_key(flag, env_name), timeout_s=60)
    reply, attempts = retrying(lambda t: client.chat.completions.create(..., timeout=t),
                               retries=2, backoff_s=1.0, timeout_s=60, deadline=time.monotonic() + 90)

The client itself never retries (`max_retries=0`): retries are ours, counted and bounded by an
overall deadline, and a caller can switch them off (`retries=0`) to put its own policy on top
(the judge's circuit breaker). Build the client eagerly, when a worker starts: importing `openai`
and constructing the client costs about a second, which must not land on the first request.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from seekworld.errors import SeekworldError

__all__ = ["CallFailed", "error_kind", "make_client", "resolve_api_key", "retrying"]

T = TypeVar("T")
MAX_BACKOFF_S = 30.0
NO_KEY = "EMPTY"  # a local `vllm serve` needs no key, but the client insists on one


class CallFailed(SeekworldError):
    """Every try failed (or one failed in a way a retry cannot fix). `kind` names the last failure:
    timeout | connection | http_<status> | bad_response | deadline."""

    def __init__(self, kind: str, attempts: int, cause: BaseException | None = None) -> None:
        super().__init__(f"{kind}: {cause}" if cause is not None else kind)
        self.kind, self.attempts, self.cause = kind, attempts, cause


def resolve_api_key(
    key: str | None = None, env: str | None = None, *, default_env: str | None = "OPENAI_API_KEY"
) -> str:
    """The key to send: `key` (a flag) if given; else the variable `env` names (it must be set);
    else `default_env` if set; else a placeholder. Raises ValueError for a named, unset variable."""
    if key:
        return key
    if env:
        value = os.environ.get(env)
        if not value:
            raise ValueError(f"environment variable {env} is not set")
        return value
    return (os.environ.get(default_env) if default_env else None) or NO_KEY


def make_client(base_url: str | None, *, api_key: str | None = None, timeout_s: float = 60.0) -> Any:
    """An `openai.OpenAI` client with this timeout and no retries of its own.

    Raises ImportError when the `openai` package is missing."""
    import openai

    return openai.OpenAI(base_url=base_url, api_key=api_key or NO_KEY, timeout=timeout_s, max_retries=0)


def error_kind(exc: BaseException) -> tuple[str, bool]:
    """(kind, retryable) for an exception from the client: timeouts, connection errors, 429 and
    5xx may pass on a retry; other HTTP statuses and unreadable bodies will not."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout", True
    if isinstance(exc, openai.APIConnectionError):
        return "connection", True
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}", exc.status_code == 429 or exc.status_code >= 500
    return "bad_response", False


def retrying(
    call: Callable[[float], T],
    *,
    retries: int,
    backoff_s: float,
    timeout_s: float,
    deadline: float | None = None,
    jitter: float = 0.25,
    on_failure: Callable[[str, int, BaseException], None] | None = None,
) -> tuple[T, int]:
    """`call(timeout)` until it succeeds: (result, attempts). Raises CallFailed.

    At most 1 + `retries` tries; waits `backoff_s` (doubling, capped at 30 s, plus up to `jitter`
    of itself at random) between tries; no try starts, and no try's timeout reaches, past
    `deadline` (a `time.monotonic()` value). Only client errors (`openai.OpenAIError`) are caught."""
    import openai

    if retries < 0:
        raise ValueError("retries must be >= 0")
    attempts, delay, kind, cause = 0, backoff_s, "deadline", None
    while attempts <= retries:
        timeout = timeout_s
        if deadline is not None:
            timeout = min(timeout_s, deadline - time.monotonic())
            if timeout <= 0:
                break
        attempts += 1
        try:
            return call(timeout), attempts
        except openai.OpenAIError as exc:
            kind, retry = error_kind(exc)
            cause = exc
            if on_failure is not None:
                on_failure(kind, attempts, exc)
            if not retry:
                break
        if attempts <= retries:
            pause = delay * (1 + jitter * random.random())
            if deadline is not None and time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
            delay = min(2 * delay, MAX_BACKOFF_S)
    raise CallFailed(kind, attempts, cause)
