"""seekworld.io.log_limit: one line per key per interval, and log-safe one-line text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from seekworld.io.log_limit import LogLimiter, one_line


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_line_per_key_per_interval_counting_the_rest():
    clock = Clock()
    limiter = LogLimiter(every_s=10, clock=clock)
    assert limiter.allow("no_label") == 0  # the first: at once
    assert limiter.allow("no_label") is None
    assert limiter.allow("too_large") == 0  # another key has its own interval
    clock.now += 9.9
    assert limiter.allow("no_label") is None
    clock.now += 0.1
    assert limiter.allow("no_label") == 2  # two held back since the last line
    assert limiter.allow("no_label") is None
    clock.now += 60
    assert limiter.allow("no_label") == 1


def test_one_line_escapes_and_cuts():
    assert one_line("plain text, 四川", 50) == "plain text, 四川"
    assert one_line("a\nFAKE LINE\r\x1b[31m", 50) == "a\\nFAKE LINE\\r\\x1b[31m"
    assert one_line("x" * 200, 10) == "x" * 10 + "... (200 chars)"


@given(st.text(max_size=400), st.integers(1, 200))
def test_one_line_never_breaks_a_line_and_stays_short(text, limit):
    out = one_line(text, limit)
    head = out.split("... (")[0] if len(out) > limit else out
    assert len(head) <= limit
    assert all(ch.isprintable() for ch in out)
