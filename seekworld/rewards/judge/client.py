"""The judge client: bounded concurrency, per-call timeouts, retries, a circuit breaker, a verdict
cache and a deadline for the whole batch. Nothing raises to the caller: a failure scores 0 with
`error` set.

    judge = Judge(config)
    judge.score_many(items, deadline=t)          # from threads (the reward server, agent workers)
    await judge.score_many_async(items, deadline=t)  # from an event loop (TRL's async reward)

The calls themselves are asyncio: calls in flight cost no thread each. Synchronous callers hand
their batch to one event loop the judge runs on a daemon thread of its own; an async caller's calls
run on its own loop. Each loop gets its own HTTP client and its own limit on calls in flight, which
follows what the judge can take, up to `concurrency` (`seekworld.rewards.judge.flow`; a process uses
one of the two loops in practice).

What a failed call means: a timeout, 429 or 503 while the judge answered other calls is overload
(the limit drops; retried); a refused connection, another 5xx, or a timeout while nothing answers is
an outage (counted by the circuit breaker); a try cut short by the request's deadline is neither.
Every failed try's cause is reported (`JudgeResult.failed_tries`), whatever the breaker's state.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from typing import Any

from seekworld.errors import UsageError
from seekworld.io.log_limit import LogLimiter, one_line
from seekworld.io.openai_client import error_kind, make_async_client
from seekworld.rewards.judge.cache import VerdictCache
from seekworld.rewards.judge.flow import AdaptiveLimit, CircuitBreaker
from seekworld.rewards.judge.prompt import (
    MODES,
    TOP_LOGPROBS,
    VerdictError,
    build_messages,
    clip,
    parse_verdict,
    response_format,
    score_from_logprobs,
)
from seekworld.rewards.judge.screen import normalize_text, sanitize, screen

__all__ = ["CircuitBreaker", "Judge", "JudgeConfig", "JudgeItem", "JudgeResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JudgeConfig:
    """The judge client's knobs. The ones a user sets come from the settings table
    (`seekworld.service.settings.RewardSettings.judge_config`), which holds their defaults."""

    url: str  # base URL of an OpenAI-compatible API, e.g. http://127.0.0.1:8001/v1
    model: str
    api_key: str = field(repr=False)  # vLLM accepts any key unless --api-key is set
    mode: str  # "binary": the verdict 0 or 1; "score": P(1) / (P(0) + P(1)) from logprobs
    sees_image: bool  # send the label's image with the reasoning (a VLM judge)
    timeout_s: float  # one HTTP call
    retries: int  # extra tries after a timeout, connection error, 429 or 5xx
    concurrency: int  # the most judge calls in flight per process (the limit adapts below it)
    budget_s: float  # a whole batch; unfinished samples then score 0 (judge_error)
    max_tokens: int  # raise it for a judge that thinks before answering (Qwen3)
    image_roots: tuple[str, ...]  # images are read only under these; none: text only
    structured: bool  # ask for {"verdict": n} through an OpenAI/vLLM JSON schema
    breaker_failures: int  # consecutive outage failures that open the circuit breaker (0: off)
    breaker_cooldown_s: float  # skip the judge this long, then let one probe through
    # Fixed by design, not settings:
    backoff_s: float = 0.5  # doubled after each failed try
    cache_size: int = 100_000  # verdicts kept (LRU)
    temperature: float = 0.0
    max_reasoning_chars: int = 8000  # longer reasoning is cut (head and tail kept)
    max_image_bytes: int = 20 * 1024 * 1024
    image_max_side: int = 768  # re-encoded to at most this many pixels a side (a few hundred tokens)

    def __post_init__(self) -> None:
        if not self.url or not self.model:
            raise UsageError("the judge needs both a URL and a model name (--judge-url, --judge-model)")
        if self.mode not in MODES:
            raise UsageError(f"judge mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.timeout_s <= 0 or self.budget_s <= 0 or self.concurrency < 1 or self.retries < 0:
            raise UsageError("judge timeout and budget must be > 0, concurrency >= 1, retries >= 0")

    @property
    def worst_case_s(self) -> float:
        """Longest one sample can take (all tries time out); a server timeout must exceed it."""
        tries = self.retries + 1
        return tries * self.timeout_s + sum(self.backoff_s * 2**i for i in range(self.retries))


@dataclass(frozen=True)
class JudgeItem:
    reasoning: str | None  # the `<think>` content; None or blank: nothing to judge, score 0
    answer: str | None = None  # the verifier's canonical reading of `<answer>` (gazetteer names)
    image: str | None = None  # path of the photo (sent only when the config says the judge sees it)
    raw_answer: str | None = None  # the policy's own answer text: screened, never sent


@dataclass(frozen=True)
class JudgeResult:
    score: float
    # timeout | connection | http_<status> | malformed | image | deadline | shutdown | breaker_open | ...
    error: str | None = None
    flagged: str | None = None  # which screen rule matched (score 0, no call)
    cached: bool = False
    skipped: bool = False  # no reasoning to judge
    attempts: int = 0  # HTTP calls made
    image_skipped: bool = False  # the judge should see the image but no root was named: text only
    logprobs_fallback: bool = False  # score mode: no usable logprobs, the parsed verdict is the score
    latency_s: float = 0.0
    failed_tries: tuple[str, ...] = ()  # the cause of each failed call (retries included)


class _CallError(Exception):
    def __init__(self, kind: str, cause: BaseException) -> None:
        super().__init__(f"{kind}: {cause}")
        self.kind = kind


class _Retryable(_CallError):
    """Timeout, connection error, 429 or 5xx: another try may pass; it counts against the breaker."""


class _Fatal(_CallError):
    """A 4xx or an unreadable body: the endpoint answered; no retry."""


@dataclass
class _Lane:
    """What one event loop's calls share: an HTTP client bound to that loop, the limit on calls in
    flight, and the batches waiting (woken when `Judge.stop_by` moves their deadline)."""

    client: Any
    limit: AdaptiveLimit
    batches: set[asyncio.Future[None]] = field(default_factory=set)

    def wake(self) -> None:
        for batch in self.batches:
            if not batch.done():
                batch.set_result(None)


class _LoopThread:
    """An event loop on a daemon thread, for synchronous callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="judge-loop", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


ResultHook = Callable[[JudgeResult], None]

# Failures that, while the judge answers other calls, mean it is busy rather than down.
OVERLOAD = frozenset({"timeout", "http_429", "http_503"})


class Judge:
    """Thread-safe judge client (module docstring). One instance per process.

    `on_result` is called once per judged sample (metrics). The HTTP client is built here, when the
    process starts serving (gunicorn builds the app after the fork), so the first request does not
    pay for importing `openai`. `client` replaces it (a stand-in whose `post` may be sync or async).
    """

    def __init__(self, config: JudgeConfig, on_result: ResultHook | None = None, client: Any = None) -> None:
        self.config = config
        self.on_result = on_result
        self._cache = VerdictCache(config.cache_size)
        self.breaker = CircuitBreaker(config.breaker_failures, config.breaker_cooldown_s)
        self._warned = LogLimiter(every_s=10.0)  # failure lines: one per kind every 10 s
        self.images = None
        if config.sees_image and config.image_roots:
            from seekworld.io.confined import ConfinedImageReader

            self.images = ConfinedImageReader(
                config.image_roots, config.max_image_bytes, config.image_max_side
            )
        elif config.sees_image:
            log.warning("judge: --judge-sees-image without --judge-image-root: images are not sent")
        self._given = client
        self._client = client if client is not None else self._make_client()
        self._spare = self._client  # the client built at start, until a loop takes it
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._runner: _LoopThread | None = None
        self._answered_at = -math.inf  # when a call was last answered (any loop)
        self._stop_at = math.inf  # set by stop_by

    def _make_client(self) -> Any:
        # The shared factory: no client-side retries (ours are counted, bounded by the request's
        # deadline); the judge's key only, never OPENAI_API_KEY sent to a judge URL.
        return make_async_client(
            self.config.url, api_key=self.config.api_key, timeout_s=self.config.timeout_s
        )

    def _lane(self) -> _Lane:
        loop = asyncio.get_running_loop()
        with self._lock:
            lane = self._lanes.get(loop)
            if lane is None:
                # An HTTP client's connections belong to the loop that opened them: the client
                # built at start serves the first loop, every other loop gets its own.
                client = self._given or self._spare or self._make_client()
                self._spare = None
                lane = self._lanes[loop] = _Lane(client, AdaptiveLimit(self.config.concurrency))
            return lane

    def cache_key(self, item: JudgeItem) -> str:
        image = item.image if self.images is not None else None
        parts = (self.config.model, self.config.mode, item.reasoning or "", item.answer or "", image or "")
        return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    # --- entry points -----------------------------------------------------------------------

    def score(self, item: JudgeItem) -> JudgeResult:
        """Judge one sample (blocking)."""
        return self.score_many([item])[0]

    def score_many(
        self, items: Sequence[JudgeItem], budget_s: float | None = None, deadline: float | None = None
    ) -> list[JudgeResult]:
        """Judge samples concurrently, from a thread. Returns by `deadline` (a `time.monotonic()`
        instant, e.g. the request's arrival + its budget), else within `budget_s` (default: the
        config's)."""
        deadline = self._deadline(budget_s, deadline)
        runner = self._loop_thread()
        if threading.current_thread() is runner.thread:
            raise RuntimeError("Judge.score_many called on the judge's own loop: await score_many_async")
        future = asyncio.run_coroutine_threadsafe(
            self.score_many_async(items, deadline=deadline), runner.loop
        )
        try:
            # score_many_async returns at the deadline by itself; the margin covers scheduling.
            return future.result(timeout=max(0.0, deadline - time.monotonic()) + 5.0)
        except (FutureTimeout, asyncio.CancelledError):
            future.cancel()
            return [JudgeResult(0.0, error="deadline") for _ in items]

    async def score_many_async(
        self, items: Sequence[JudgeItem], budget_s: float | None = None, deadline: float | None = None
    ) -> list[JudgeResult]:
        """Judge samples concurrently on the running event loop; returns by the deadline (or by
        the time `stop_by` set, if earlier)."""
        deadline = self._deadline(budget_s, deadline)
        results: list[JudgeResult | None] = [None] * len(items)
        tasks: dict[asyncio.Task[JudgeResult], int] = {}
        calling: set[int] = set()  # samples with a call in flight
        for i, item in enumerate(items):
            quick = self._quick(item)
            if quick is not None:
                results[i] = quick
            else:
                tasks[asyncio.ensure_future(self._judge(item, deadline, calling, i))] = i
        if tasks:
            await self._wait(tasks, deadline)
            late = "shutdown" if self._stop_at <= deadline else "deadline"
            for task, i in tasks.items():
                if task.done() and not task.cancelled():
                    results[i] = task.result()  # _judge never raises
                    continue
                if i not in calling:
                    task.cancel()  # queued or between tries; a call in flight finishes and fills the cache
                results[i] = self._reported(JudgeResult(0.0, error=late))
            unjudged = sum(1 for task in tasks if not task.done() or task.cancelled())
            if unjudged:
                self._warn(late, f"{unjudged} samples unjudged at the {late}")
        return [r if r is not None else JudgeResult(0.0, error="internal") for r in results]

    async def _wait(self, tasks: dict[asyncio.Task[JudgeResult], int], deadline: float) -> None:
        """Until every task is done, the deadline, or the time `stop_by` set, whichever is first."""
        lane = self._lane()
        everything = asyncio.gather(*tasks, return_exceptions=True)
        while True:
            end = min(deadline, self._stop_at)
            remaining = end - time.monotonic()
            if everything.done() or remaining <= 0:
                return
            moved: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            lane.batches.add(moved)
            try:
                await asyncio.wait(
                    {everything, moved}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                lane.batches.discard(moved)

    def stop_by(self, when: float) -> None:
        """Give up on every batch, those waiting included, by `when` (a `time.monotonic()`
        instant): the server is stopping and its requests must be answered. Thread-safe."""
        with self._lock:
            self._stop_at = min(self._stop_at, when)
            lanes = list(self._lanes.items())
        for loop, lane in lanes:
            try:
                loop.call_soon_threadsafe(lane.wake)
            except RuntimeError:  # that loop is closed: nothing waits on it
                pass

    def close(self) -> None:
        """Stop the synchronous callers' loop (its calls in flight are dropped)."""
        with self._lock:
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.stop()

    # --- internals --------------------------------------------------------------------------

    def _deadline(self, budget_s: float | None, deadline: float | None) -> float:
        if deadline is None:
            deadline = time.monotonic() + (self.config.budget_s if budget_s is None else budget_s)
        return min(deadline, self._stop_at)

    def _loop_thread(self) -> _LoopThread:
        with self._lock:
            if self._runner is None:
                self._runner = _LoopThread()
            return self._runner

    def _screen_as_sent(self, text: str) -> str | None:
        """`screen` over the clipped text: what is cut never reaches the judge, and screening a
        megabyte of degenerate reasoning whole would cost seconds. Both the normalised clip (role
        tags, which sanitising removes, still flag) and the sanitised clip (exactly what is sent:
        removed tokens and shortened rules shift the clip's edges) are screened."""
        limit = self.config.max_reasoning_chars
        plain = normalize_text(text)
        return screen(clip(plain, limit)) or screen(clip(sanitize(plain).strip(), limit))

    def _quick(self, item: JudgeItem) -> JudgeResult | None:
        """Results that need no call: nothing to judge, flagged text, cached verdict, breaker open."""
        if item.reasoning is None or not item.reasoning.strip():
            return JudgeResult(0.0, skipped=True)
        flagged = next(
            (
                r
                for t in (item.reasoning, item.answer, item.raw_answer)
                if t and (r := self._screen_as_sent(t))
            ),
            None,
        )
        if flagged is not None:
            return self._reported(JudgeResult(0.0, flagged=flagged))
        cached = self._cache.get(self.cache_key(item))
        if cached is not None:
            return self._reported(JudgeResult(cached, cached=True))
        if self.breaker.blocked():  # the judge is down: milliseconds, no queueing for a slot
            return self._reported(JudgeResult(0.0, error="breaker_open"))
        return None

    def _image_url(self, item: JudgeItem) -> tuple[str | None, JudgeResult | None]:
        if not self.config.sees_image:
            return None, None
        if self.images is None:
            return None, None  # no root named: text only (counted through `image_skipped`)
        if not item.image:
            return None, JudgeResult(0.0, error="no_image")
        try:
            return self.images.data_url(item.image), None
        except ValueError as exc:  # ImageRejected; its detail goes to our log, never the reply
            self._warn("image", str(exc))
            return None, JudgeResult(0.0, error="image")

    async def _judge(self, item: JudgeItem, deadline: float, calling: set[int], index: int) -> JudgeResult:
        start = time.monotonic()
        try:
            return self._done(await self._attempts(self._lane(), item, deadline, calling, index), start)
        except Exception:  # serving path: never raise into the reward; log, score 0, count
            log.exception("judge: unexpected error")
            return self._done(JudgeResult(0.0, error="internal"), start)

    async def _attempts(
        self, lane: _Lane, item: JudgeItem, deadline: float, calling: set[int], index: int
    ) -> JudgeResult:
        image_url, failed = self._image_url(item)
        if failed is not None:
            return failed
        skipped_image = self.config.sees_image and self.images is None
        messages = build_messages(
            item.reasoning or "",
            item.answer,
            image_url,
            self.config.mode,
            self.config.max_reasoning_chars,
            structured=self.config.structured,
        )
        failures: list[str] = []
        error = "deadline"
        for attempt in range(self.config.retries + 1):
            if deadline - time.monotonic() <= 0.05 or not await lane.limit.acquire(deadline):
                error = "deadline"
                break
            if not self.breaker.allow():  # opened while this sample queued, or between tries
                lane.limit.release(time.monotonic(), "failed")
                error = "breaker_open"
                break
            sent, remaining = time.monotonic(), deadline - time.monotonic()
            calling.add(index)
            try:
                reply, logprobs = await self._call(lane, messages, min(self.config.timeout_s, remaining))
            except _Retryable as exc:
                error = self._failed(lane, exc, sent, cut_short=remaining < self.config.timeout_s)
                failures.append(exc.kind)
                self._warn(exc.kind, f"try {attempt + 1} failed: {exc}")
                pause = self.config.backoff_s * 2**attempt
                if attempt < self.config.retries and time.monotonic() + pause < deadline - 0.05:
                    await asyncio.sleep(pause)
                continue
            except _Fatal as exc:
                self._answered(lane, sent)  # it answered
                self._warn(exc.kind, f"call failed: {exc}")
                tries = (*failures, exc.kind)
                return JudgeResult(0.0, error=exc.kind, attempts=attempt + 1, failed_tries=tries)
            finally:
                calling.discard(index)
            self._answered(lane, sent)
            result = self._verdict(item, reply, logprobs, attempt + 1, skipped_image)
            return replace(result, failed_tries=tuple(failures))
        return JudgeResult(0.0, error=error, attempts=len(failures), failed_tries=tuple(failures))

    def _warn(self, kind: str, message: str) -> None:
        held = self._warned.allow(kind)
        if held is not None:
            more = f" ({held} more since the last line)" if held else ""
            log.warning("judge %s: %s%s", kind, one_line(message, 300), more)

    def _answered(self, lane: _Lane, sent: float) -> None:
        self._answered_at = max(self._answered_at, time.monotonic())
        self.breaker.record(True)
        lane.limit.release(sent, "answered")

    def _failed(self, lane: _Lane, exc: _CallError, sent: float, cut_short: bool) -> str:
        """What a retryable failure of a call sent at `sent` says about the judge; its kind, or
        `deadline` when the request's deadline, not the judge's timeout, ended the call."""
        if exc.kind == "timeout" and cut_short:
            lane.limit.release(sent, "failed")
            return "deadline"
        if exc.kind in OVERLOAD and self._answered_at > sent:  # busy, not down: fewer calls
            lane.limit.release(sent, "overload")
            return exc.kind
        self.breaker.record(False, f"{exc.kind}: {one_line(str(exc.__cause__ or exc), 200)}")
        lane.limit.release(sent, "outage")
        return exc.kind

    def _verdict(
        self, item: JudgeItem, reply: str | None, logprobs: Any, attempts: int, skipped: bool
    ) -> JudgeResult:
        try:
            verdict = parse_verdict(reply, self.config.mode, self.config.structured)
        except VerdictError as exc:
            self._warn("malformed", f"malformed verdict: {exc}")
            return JudgeResult(0.0, error="malformed", attempts=attempts)
        fallback = False
        if self.config.mode == "score":
            graded = score_from_logprobs(logprobs, verdict)
            if graded is None:  # endpoint without logprobs, or a garbled payload: counted
                fallback = True
                self._warn("logprobs", "no usable logprobs; the text verdict is the score")
            else:
                verdict = graded
        self._cache.put(self.cache_key(item), verdict)
        return JudgeResult(verdict, attempts=attempts, image_skipped=skipped, logprobs_fallback=fallback)

    def _done(self, result: JudgeResult, start: float) -> JudgeResult:
        return self._reported(replace(result, latency_s=time.monotonic() - start))

    def _reported(self, result: JudgeResult) -> JudgeResult:
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # a metrics bug must not cost a reward
                log.exception("judge: on_result hook failed")
        return result

    async def _call(
        self, lane: _Lane, messages: list[dict[str, Any]], timeout: float
    ) -> tuple[str | None, Any]:
        """The reply's text and its `logprobs` payload (None unless score mode asked for it)."""
        import openai

        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "max_tokens": self.config.max_tokens,
            "temperature": self.config.temperature,
        }
        if self.config.structured:
            body["response_format"] = response_format(self.config.mode)
        if self.config.mode == "score":
            # max_tokens stays the configured budget: a compliant judge stops after the digit, and
            # a thinking judge or a JSON verdict needs more than one token.
            body["logprobs"] = True
            body["top_logprobs"] = TOP_LOGPROBS
        try:
            # The client's generic `post` (its documented way to any endpoint): same auth, base URL,
            # timeouts and error classes as `chat.completions.create`, without the typed request
            # and response models, which cost more CPU per call than the rest of scoring.
            completion = lane.client.post(
                "/chat/completions", body=body, cast_to=object, options={"timeout": timeout}
            )
            if inspect.isawaitable(completion):
                completion = await completion
        except openai.OpenAIError as exc:
            kind, retryable = error_kind(exc)  # the one classification (seekworld.io.openai_client)
            raise (_Retryable if retryable else _Fatal)(kind, exc) from exc
        except (ValueError, TypeError) as exc:  # unparseable body: no retry
            raise _Fatal("bad_response", exc) from exc
        try:
            choice = completion["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise _Fatal("bad_response", exc) from exc
        if content is not None and not isinstance(content, str):
            raise _Fatal("bad_response", TypeError(f"content is {type(content).__name__}"))
        return content, choice.get("logprobs") if isinstance(choice, dict) else None
