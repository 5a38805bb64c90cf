"""How many judge calls go out (seekworld.rewards.judge.flow): the adaptive limit on calls in
flight, driven with a fake clock, and the circuit breaker's opening and closing; then the judge
client against the loopback stand-in (tests/conftest.py): an overloaded judge is slowed down to,
not cut off; an outage opens the breaker once, with its cause; a stopping server's batches end."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from helpers.judge import judge_config

from seekworld.rewards.judge import AdaptiveLimit, CircuitBreaker, Judge, JudgeItem

SOUND = "The first clue is the script on the shop signs; the red soil fits Sichuan."


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(coro):
    return asyncio.run(coro)


def fill(limit: AdaptiveLimit) -> int:
    """Take every free slot (no waiting); how many were taken."""

    async def take() -> int:
        n = 0
        while limit.in_flight < int(limit.limit):
            assert await limit.acquire(deadline=1e9)
            n += 1
        return n

    return run(take())


def round_trip(limit: AdaptiveLimit, clock: Clock, latency: float, outcome: str = "answered") -> None:
    """Fill the limit, let `latency` pass, end every call."""
    sent = clock.now
    calls = fill(limit)
    clock.now += latency
    for _ in range(calls):
        limit.release(sent, outcome)


def test_slow_start_doubles_the_limit_each_round_trip_up_to_the_ceiling():
    clock = Clock()
    limit = AdaptiveLimit(ceiling=100, start=4, clock=clock)
    seen = []
    for _ in range(6):
        round_trip(limit, clock, 0.5)
        seen.append(int(limit.limit))
    assert seen == [8, 16, 32, 64, 100, 100]


def test_answers_slower_than_twice_the_lowest_lower_it_once_per_round_trip():
    clock = Clock()
    limit = AdaptiveLimit(ceiling=1000, start=64, clock=clock)
    round_trip(limit, clock, 0.5)  # the lowest latency: 0.5 s
    before = limit.limit
    round_trip(limit, clock, 1.5)  # the judge queues: every call of the round trip is slow
    assert limit.limit == pytest.approx(before * 0.9)  # one decrease, not one per call
    after_cut = limit.limit
    round_trip(limit, clock, 0.6)  # fast again: additive increase, about one per round trip
    assert after_cut < limit.limit <= after_cut + 1.01


def test_overload_halves_it_and_a_limit_nobody_uses_does_not_grow():
    clock = Clock()
    limit = AdaptiveLimit(ceiling=1000, start=64, clock=clock)
    round_trip(limit, clock, 0.5)
    before = limit.limit
    round_trip(limit, clock, 0.5, outcome="overload")
    assert limit.limit == pytest.approx(before / 2)
    idle = limit.limit
    for _ in range(20):  # one call at a time: no evidence the judge takes more
        run(limit.acquire(1e9))
        clock.now += 0.5
        limit.release(clock.now - 0.5, "answered")
    assert limit.limit == idle


def test_outages_halve_it_at_once_and_answers_start_it_again():
    clock = Clock()
    limit = AdaptiveLimit(ceiling=1000, start=64, clock=clock)
    round_trip(limit, clock, 0.5)
    round_trip(limit, clock, 0.5, outcome="overload")  # out of slow start
    sent = clock.now
    calls = fill(limit)
    clock.now += 20.0
    for _ in range(calls):  # a dead judge: every call times out with nothing answered
        limit.release(sent, "outage")
    assert limit.limit == 1.0
    for expected in (2, 4, 8):  # back: doubling each round trip
        round_trip(limit, clock, 0.5)
        assert limit.limit == expected


def test_waiters_are_served_in_order_and_one_without_time_for_a_call_is_turned_away():
    async def scenario() -> list:
        clock = Clock()
        limit = AdaptiveLimit(ceiling=1, start=1, clock=clock)
        assert await limit.acquire(deadline=10)
        limit.release(-0.5, "answered")  # calls take 0.5 s unloaded
        assert await limit.acquire(deadline=10)
        order: list = []

        async def waiter(name: str, deadline: float) -> None:
            order.append((name, await limit.acquire(deadline)))
            if order[-1][1]:
                limit.release(clock.now, "failed")

        hopeless = asyncio.ensure_future(waiter("hopeless", 0.4))  # 0.4 s left < 0.5 s: no call
        first = asyncio.ensure_future(waiter("first", 100))
        second = asyncio.ensure_future(waiter("second", 100))
        await asyncio.sleep(0)
        limit.release(0.0, "failed")  # the slot frees
        await asyncio.gather(hopeless, first, second)
        return order

    assert run(scenario()) == [("hopeless", False), ("first", True), ("second", True)]


def test_a_cancelled_waiter_passes_its_slot_on():
    async def scenario() -> bool:
        limit = AdaptiveLimit(ceiling=1, start=1)
        assert await limit.acquire(deadline=1e9)
        cancelled = asyncio.ensure_future(limit.acquire(deadline=1e9))
        next_one = asyncio.ensure_future(limit.acquire(deadline=1e9))
        await asyncio.sleep(0)
        limit.release(0.0, "failed")  # the slot goes to `cancelled`...
        cancelled.cancel()  # ...which is cancelled before it runs: the slot moves on
        granted = await next_one
        return granted and limit.in_flight == 1

    assert run(scenario())


def test_the_breaker_logs_opening_and_closing_once_each_with_the_cause(caplog):
    clock = Clock()
    breaker = CircuitBreaker(3, cooldown_s=10.0, clock=clock)
    with caplog.at_level(logging.WARNING, logger="seekworld.rewards.judge"):
        for _ in range(8):  # 3 open it; the rest keep it open
            breaker.record(False, "connection: Connection refused")
        assert not breaker.allow() and not breaker.allow()
        clock.now = 11.0
        assert breaker.allow()  # the probe
        breaker.record(False, "connection: Connection refused")  # still down: no new line
        clock.now = 30.0
        assert breaker.allow()
        breaker.record(True)
        breaker.record(True)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all(r.levelno == logging.WARNING for r in caplog.records)
    assert "opened after 3 failures in a row (last: connection: Connection refused)" in lines[0]
    assert "closed" in lines[1] and "after 30.0 s open (2 calls skipped)" in lines[1]


# --- the client against the stand-in -----------------------------------------------------------


def test_an_overloaded_judge_is_slowed_down_to_not_cut_off(judge_standin):
    # A judge with 2 slots answering in 0.2 s (10 calls/s), 30 samples at once, calls that time
    # out at 2 s: all 30 sent together would queue at the judge up to 3 s, time out and, counted
    # as outages, open the breaker. The limit follows the judge's latency; every sample is judged.
    judge = Judge(
        judge_config(url=judge_standin.url, model="busy", timeout_s=2.0, backoff_s=0.01,
                     breaker_failures=3, concurrency=64)
    )  # fmt: skip
    results = judge.score_many([JudgeItem(f"{SOUND} {i}", "China") for i in range(30)], budget_s=60)
    assert [r.score for r in results] == [1.0] * 30
    assert judge.breaker.opened == 0
    assert judge_standin.max_in_flight["busy"] < 30


def test_an_outage_opens_the_breaker_once_and_every_failed_try_names_its_cause(caplog):
    judge = Judge(
        judge_config(url="http://127.0.0.1:9/v1", model="m", timeout_s=0.5, retries=1, backoff_s=0.01,
                     breaker_failures=2, breaker_cooldown_s=60.0)
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="seekworld.rewards.judge"):
        first = judge.score(JudgeItem(SOUND, "China"))
        later = judge.score_many([JudgeItem(f"{SOUND} {i}", "China") for i in range(5)])
    assert first.error == "connection" and first.failed_tries == ("connection", "connection")
    assert {r.error for r in later} == {"breaker_open"}
    opened = [r for r in caplog.records if "circuit breaker opened" in r.getMessage()]
    assert len(opened) == 1 and "(last: connection:" in opened[0].getMessage()


def test_a_stopping_server_ends_every_batch_by_the_time_it_gives(judge_standin):
    judge = Judge(judge_config(url=judge_standin.url, model="hold", timeout_s=30.0, retries=0))
    out: list = []
    worker = threading.Thread(
        target=lambda: out.extend(judge.score_many([JudgeItem(SOUND, "China")], budget_s=60))
    )
    worker.start()
    give_up = time.monotonic() + 30
    while not judge_standin.requests and time.monotonic() < give_up:  # the call is out
        time.sleep(0.01)
    judge.stop_by(time.monotonic() + 0.2)
    worker.join(20)  # `hold` never answers by itself: only stop_by can end the batch
    judge_standin.release()
    assert not worker.is_alive() and [r.error for r in out] == ["shutdown"]
    later = judge.score_many([JudgeItem(SOUND + " later", "China")], budget_s=60)
    assert later[0].error == "shutdown" and later[0].attempts == 0  # after the stop: no call
