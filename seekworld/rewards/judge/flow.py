"""How many judge calls go out, and when none do: the adaptive limit on calls in flight and the
circuit breaker (used by `seekworld.rewards.judge.client`).

- `AdaptiveLimit` (one per event loop) keeps the calls in flight between 1 and a ceiling,
  following the judge's latency: a judge that answers as fast with more calls gets more, one whose
  answers slow down (its queue grows) or that times out while answering others gets fewer. An
  overloaded judge is slowed down to, not cut off; samples wait their turn, first come first
  served, and one whose deadline leaves no time for a call is turned away without one.
- `CircuitBreaker` counts outages (nothing answers: refused connections, 5xx, timeouts while no
  call is answered), not waiting: after `threshold` in a row the judge is skipped for a cool-down,
  then probed. Each opening and closing is logged once, at WARNING, with its cause.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["AdaptiveLimit", "CircuitBreaker"]

log = logging.getLogger("seekworld.rewards.judge")

Clock = Callable[[], float]


class AdaptiveLimit:
    """Calls in flight on one event loop, between 1 and `ceiling` (not thread-safe: one loop).

    Slow start, then additive increase and multiplicative decrease on latency: an answer within
    `tolerance` times the lowest latency of the last one or two `window_s` raises the limit (by 1
    while starting, so it doubles each round trip; then by 1/limit, about 1 per round trip), when
    at least half the limit was in use while the call was out; a slower answer lowers it to 0.9 of
    itself, a sign of overload (a timeout, 429 or 503 while the judge answered other calls) to
    half. At most one decrease per round trip: calls sent before a decrease do not decrease it
    again. Each outage failure (nothing answers) halves it at once, and slow start begins again.
    """

    def __init__(
        self,
        ceiling: int,
        start: int = 8,
        tolerance: float = 2.0,
        window_s: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ceiling = ceiling
        self.limit = float(max(1, min(ceiling, start)))
        self.tolerance = tolerance
        self.window_s = window_s
        self.clock = clock
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[bool]] = deque()
        self._starting = True
        self._cut_at = -math.inf
        self._used_at = -math.inf  # when calls in flight last reached half the limit
        self._lowest = (math.inf, math.inf)  # lowest latency in the previous and current window
        self._window_end = clock() + window_s

    @property
    def baseline(self) -> float:
        """The lowest latency seen lately (0 before any answer)."""
        lowest = min(self._lowest)
        return 0.0 if math.isinf(lowest) else lowest

    async def acquire(self, deadline: float) -> bool:
        """Wait for a slot. False, without one, when the deadline (a `clock()` instant) comes
        before a slot that leaves time for an unloaded call."""
        if self.in_flight < int(self.limit) and not self._waiters:
            self._take()
            return True
        wait_s = deadline - self.baseline - self.clock()
        if wait_s <= 0:
            return False
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(turn)
        timer = loop.call_later(wait_s, lambda: turn.done() or turn.set_result(False))
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.result():
                self._leave()  # the slot came with the cancellation: pass it on
            raise
        finally:
            timer.cancel()

    def release(self, started: float, outcome: str) -> None:
        """A call sent at `started` ended: `answered` (the judge replied, whatever it said),
        `overload` (timeout, 429 or 503 while it answered others), `outage` (nothing answers) or
        `failed` (no signal: the request's own deadline ended it)."""
        now = self.clock()
        if outcome == "answered":
            self._answered(now - started, started, now)
        elif outcome == "overload":
            self._decrease(0.5, started, now)
        elif outcome == "outage":
            # Halve at once, every time: while the breaker counts failures, few samples should wait
            # out a dead judge's timeout. Slow start again once it answers.
            self.limit = max(1.0, self.limit / 2)
            self._starting = True
        self._leave()

    def _take(self) -> None:
        self.in_flight += 1
        if self.in_flight >= self.limit / 2:
            self._used_at = self.clock()

    def _leave(self) -> None:
        self.in_flight -= 1
        while self._waiters and self.in_flight < int(self.limit):
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(True)
                self._take()

    def _answered(self, latency: float, started: float, now: float) -> None:
        if now >= self._window_end:
            self._lowest = (self._lowest[1], math.inf)
            self._window_end = now + self.window_s
        self._lowest = (self._lowest[0], min(self._lowest[1], latency))
        if latency > self.tolerance * min(self._lowest):
            self._decrease(0.9, started, now)
        elif self._used_at >= started:  # half of it was in use meanwhile: an idle limit proves nothing
            self.limit = min(float(self.ceiling), self.limit + (1.0 if self._starting else 1.0 / self.limit))

    def _decrease(self, factor: float, started: float, now: float) -> None:
        if started < self._cut_at:
            return
        self._cut_at = now
        self._starting = False
        self.limit = max(1.0, self.limit * factor)


class CircuitBreaker:
    """`threshold` outage failures in a row open it; while open, calls are skipped. After
    `cooldown_s` one probe is let through (half-open): an answer closes it, a failure keeps it open
    for another cool-down. Thread-safe. Opening and closing are each logged once at WARNING."""

    def __init__(self, threshold: int, cooldown_s: float, clock: Clock = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0
        self._opened_at = 0.0
        self._probe_at = -1e18  # when the last half-open probe was let through
        self.opened = 0  # times it opened (for tests and logs)
        self.skipped = 0  # calls skipped while open, since it last opened

    def allow(self) -> bool:
        if self.threshold <= 0:
            return True
        with self._lock:
            if self._failures < self.threshold:
                return True
            now = self.clock()
            # One probe per cool-down: a probe abandoned at a deadline does not wedge it shut.
            if now < self._open_until or now - self._probe_at < self.cooldown_s:
                self.skipped += 1
                return False
            self._probe_at = now  # half-open: this caller is the probe
            return True

    def record(self, ok: bool, cause: str = "") -> None:
        """An answer (`ok`), or an outage failure and its cause (`connection: ...`)."""
        if self.threshold <= 0:
            return
        with self._lock:
            was_open = self._failures >= self.threshold
            now = self.clock()
            opened_for, skipped = now - self._opened_at, self.skipped
            if ok:
                self._failures = 0
            else:
                self._failures += 1
                if self._failures >= self.threshold:
                    self._open_until = now + self.cooldown_s
                    if not was_open:
                        self.opened += 1
                        self._opened_at, self.skipped = now, 0
            opens = not ok and not was_open and self._failures >= self.threshold
        if ok and was_open:
            log.warning(
                "judge circuit breaker closed: the judge answered after %.1f s open (%d calls skipped)",
                opened_for,
                skipped,
            )
        elif opens:
            log.warning(
                "judge circuit breaker opened after %d failures in a row (last: %s); the judge is "
                "skipped for %g s, then probed",
                self.threshold,
                cause or "unknown",
                self.cooldown_s,
            )

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self.threshold > 0 and self._failures >= self.threshold

    def blocked(self) -> bool:
        """Open and no probe due: the call would be refused (does not take the probe)."""
        with self._lock:
            if self.threshold <= 0 or self._failures < self.threshold:
                return False
            now = self.clock()
            if now < self._open_until or now - self._probe_at < self.cooldown_s:
                self.skipped += 1
                return True
            return False
