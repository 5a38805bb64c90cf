"""At most one log line per key every `every_s` seconds, counting the ones held back.

    limiter = LogLimiter(every_s=10)
    skipped = limiter.allow("no_label")   # None: hold this line back; else lines held back since

For events that can repeat thousands of times a step (a refused request, a failing judge): the
first is logged at once, the next after `every_s`, saying how many were not. Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["LogLimiter", "one_line"]


class LogLimiter:
    def __init__(self, every_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def allow(self, key: str) -> int | None:
        """None when a line for `key` was let through less than `every_s` ago (this one is counted
        instead); else the number held back since that line (0 for the first)."""
        now = self.clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.every_s:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            self._last[key] = now
            return self._held.pop(key, 0)


def one_line(text: str, limit: int) -> str:
    """`text` for a log line: control characters escaped (no forged lines), at most `limit`
    characters, cut ones saying how long the text was."""
    flat = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text[:limit]
    )
    if len(text) > limit or len(flat) > limit:
        return flat[:limit] + f"... ({len(text)} chars)"
    return flat
