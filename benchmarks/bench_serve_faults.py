"""Faults at the reward server (issue 25): SIGTERM in the middle of a burst, and trickling clients.

    python benchmarks/bench_serve_faults.py                          # both parts, this checkout
    python benchmarks/bench_serve_faults.py --parts sigterm --runs 5
    python benchmarks/bench_serve_faults.py --parts slow --against /tmp/base   # A/B with a checkout

Everything runs on 127.0.0.1 and is started and stopped (by PID) by this script; `seekworld serve`
runs at its defaults (the settings table's workers, threads, timeouts) unless said otherwise.

Part `sigterm`: a stand-in judge answering in --judge-latency s (benchmarks/standin_judge.py),
`seekworld serve --reward rule+judge`, --clients clients posting one-sample requests back to back,
each on a fresh connection; --stop-after s into the burst the server's master gets SIGTERM, and a
client stops at its first refused connection. Every request is counted by what came back: 200,
500, another status, `refused` (connect() refused: the server had stopped accepting, and upstream
retries elsewhere), `reset` (connected, then reset or closed without a whole answer: counted
whether or not a worker had accepted it, the strictest count), `timeout`. Also printed: seconds
from SIGTERM to the server's exit, and tracebacks in its log (a crashed worker).

Part `slow`: 80 trickling connections (--trickle; half send a request's headers one byte every 5 s,
half send whole headers and then the body one byte every 2 s) while --good clients post requests
back to back. Printed: the good clients' requests, p50 / p99 / max latency; per kind of trickling
client, what it got (a status, or `none` when it was never answered within --give-up s) and the
slowest time to that answer, beside the deadline (--header-timeout, --body-timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from processes import REPO, kill, serve, start_judge

PROMPT = "<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n"


def request(i: int) -> bytes:
    think = f"The first clue is the shop sign in simplified Chinese; the red soil fits Sichuan. Sample {i}."
    query = f"{PROMPT}<think>{think}</think>\n<answer>China, Sichuan</answer><|im_end|>"
    body = json.dumps({"query": [query], "prompts": [PROMPT], "labels": ["$china,sichuan$"]}).encode()
    return f"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


async def post(port: int, i: int, timeout: float = 200) -> tuple[str, float]:
    """(outcome, seconds): the status as text, `refused`, `reset` or `timeout`."""
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except ConnectionRefusedError:
        return "refused", time.monotonic() - start
    except (OSError, TimeoutError):
        return "reset", time.monotonic() - start
    try:
        async with asyncio.timeout(timeout):
            writer.write(request(i))
            head = await reader.readuntil(b"\r\n\r\n")
            fields = (line.partition(b":") for line in head.split(b"\r\n"))
            length = next(int(v) for n, _, v in fields if n.lower() == b"content-length")
            await reader.readexactly(length)
        return head.split(b" ", 2)[1].decode(), time.monotonic() - start
    except TimeoutError:
        return "timeout", time.monotonic() - start
    except (OSError, ValueError, StopIteration, asyncio.IncompleteReadError):
        return "reset", time.monotonic() - start
    finally:
        writer.close()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


# --- SIGTERM mid-burst -------------------------------------------------------------------------


async def burst(
    port: int, clients: int, stop_after: float, master: subprocess.Popen
) -> tuple[Counter, float]:
    outcomes: Counter = Counter()
    numbers = iter(range(10**9))
    stopped: list[float] = []

    async def client() -> None:
        while True:
            outcome, _ = await post(port, next(numbers))
            outcomes[outcome] += 1
            if outcome == "refused" or (stopped and time.monotonic() - stopped[0] > 120):
                return

    async def stopper() -> None:
        await asyncio.sleep(stop_after)
        stopped.append(time.monotonic())
        os.kill(master.pid, signal.SIGTERM)  # the server this script started

    await asyncio.gather(stopper(), *(client() for _ in range(clients)))
    while master.poll() is None and time.monotonic() - stopped[0] < 120:
        await asyncio.sleep(0.05)
    return outcomes, time.monotonic() - stopped[0]


def part_sigterm(args: argparse.Namespace, code: Path) -> None:
    print(f"\n## SIGTERM mid-burst ({code}; judge {args.judge_latency} s, {args.clients} clients)\n")
    print("| run | 200 | 500 | other status | refused | reset | timeout | SIGTERM to exit s | tracebacks |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in range(1, args.runs + 1):
        judge, judge_port = start_judge(f"{args.judge_latency}x1000000", args.log)
        log = args.log.with_suffix(f".sigterm{run}.log")
        log.unlink(missing_ok=True)
        try:
            master, port = serve(code, log, "--reward", "rule+judge", "--judge-model", "judge",
                                 "--judge-url", f"http://127.0.0.1:{judge_port}/v1")  # fmt: skip
            try:
                outcomes, drain = asyncio.run(burst(port, args.clients, args.stop_after, master))
            finally:
                kill(master)
        finally:
            kill(judge)
        other = sum(n for k, n in outcomes.items() if k.isdigit() and k not in ("200", "500"))
        tracebacks = log.read_text(errors="replace").count("Traceback")
        row = [run, outcomes["200"], outcomes["500"], other, outcomes["refused"], outcomes["reset"]]
        row += [outcomes["timeout"], f"{drain:.1f}", tracebacks]
        print("| " + " | ".join(map(str, row)) + " |", flush=True)


# --- trickling clients -------------------------------------------------------------------------


async def trickle(port: int, head: bytes, rest: bytes, every_s: float, give_up: float) -> tuple[str, float]:
    """Send `head`, then `rest` one byte every `every_s`: (the status it got or `none`, seconds)."""
    start = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        for i in range(len(rest)):  # bounded by the bytes to send and by give_up
            writer.write(rest[i : i + 1])
            try:
                data = await asyncio.wait_for(reader.read(1024), every_s)
            except TimeoutError:
                if time.monotonic() - start > give_up:
                    break
                continue
            status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"
            return status, time.monotonic() - start
        return "none", time.monotonic() - start
    except OSError:
        return "reset", time.monotonic() - start
    finally:
        writer.close()


async def slow_clients(port: int, args: argparse.Namespace) -> tuple[list[float], Counter, dict[str, list]]:
    """Trickling connections while good clients post; (good latencies, good outcomes, per kind of
    trickling client its (status, seconds))."""
    half = args.trickle // 2
    whole = request(0)
    cut = whole.index(b"\r\n\r\n") + 4
    done = asyncio.Event()
    latencies: list[float] = []
    outcomes: Counter = Counter()

    async def good() -> None:
        i = 1
        while not done.is_set():
            outcome, seconds = await post(port, i, timeout=120)
            outcomes[outcome] += 1
            if outcome == "200":
                latencies.append(seconds)
            i += 1

    async def tricklers() -> dict[str, list]:
        line, pad = b"POST /get_reward HTTP/1.1\r\n", b"X-Pad: " + b"p" * 1000
        heads = [trickle(port, line, pad, 5.0, args.give_up) for _ in range(half)]
        bodies = [
            trickle(port, whole[:cut], whole[cut:], 2.0, args.give_up) for _ in range(args.trickle - half)
        ]
        got = await asyncio.gather(*heads, *bodies)
        await asyncio.sleep(2.0)  # the good clients go on a little after the last cut
        done.set()
        return {"headers 1 B / 5 s": got[:half], "body 1 B / 2 s": got[half:]}

    results = await asyncio.gather(tricklers(), *(good() for _ in range(args.good)))
    return latencies, outcomes, results[0]


def part_slow(args: argparse.Namespace, code: Path) -> None:
    log = args.log.with_suffix(".slow.log")
    log.unlink(missing_ok=True)
    flags = ["--reward", "rule"]
    if code == REPO:  # a checkout from before issue 25 has no --header-timeout
        flags += ["--header-timeout", str(args.header_timeout), "--body-timeout", str(args.body_timeout)]
    master, port = serve(code, log, *flags)
    try:
        latencies, outcomes, tricklers = asyncio.run(slow_clients(port, args))
    finally:
        kill(master)
    print(f"\n## trickling clients ({code}; {args.trickle} trickling, {args.good} good clients)\n")
    print("| good requests | outcomes | p50 s | p99 s | max s |")
    print("|---:|---|---:|---:|---:|")
    top = max(latencies, default=float("nan"))
    row = [
        sum(outcomes.values()),
        dict(outcomes),
        f"{pct(latencies, 0.5):.3f}",
        f"{pct(latencies, 0.99):.3f}",
    ]
    print("| " + " | ".join(map(str, [*row, f"{top:.3f}"])) + " |")
    print("\n| trickling kind | n | got | slowest answer s |")
    print("|---|---:|---|---:|")
    for kind, got in tricklers.items():
        statuses = dict(Counter(status for status, _ in got))
        print(f"| {kind} | {len(got)} | {statuses} | {max(seconds for _, seconds in got):.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="sigterm,slow")
    ap.add_argument("--runs", type=int, default=5, help="sigterm: runs")
    ap.add_argument("--clients", type=int, default=256, help="sigterm: clients")
    ap.add_argument("--judge-latency", type=float, default=0.5, help="sigterm: the judge's seconds per call")
    ap.add_argument("--stop-after", type=float, default=3.0, help="sigterm: seconds into the burst")
    ap.add_argument("--trickle", type=int, default=80, help="slow: trickling connections")
    ap.add_argument("--good", type=int, default=4, help="slow: well-behaved clients")
    ap.add_argument("--header-timeout", type=float, default=10.0, help="slow: the server's --header-timeout")
    ap.add_argument("--body-timeout", type=float, default=30.0, help="slow: the server's --body-timeout")
    ap.add_argument("--give-up", type=float, default=90.0, help="slow: a trickler stops after this")
    ap.add_argument("--against", type=Path, help="also run with this checkout's code (before/after)")
    ap.add_argument("--log", type=Path, default=Path("/tmp/bench_serve_faults.log"))
    args = ap.parse_args()
    for code in [REPO, *([args.against.resolve()] if args.against else [])]:
        for part in args.parts.split(","):
            {"sigterm": part_sigterm, "slow": part_slow}[part](args, code)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
