"""What the judge costs a training step: outages (issue 13 §3) and capacity (issue 25).

    python benchmarks/bench_judge_outage.py                          # both parts, defaults below
    python benchmarks/bench_judge_outage.py --parts outage --modes up,down,hang --concurrency 64,256
    python benchmarks/bench_judge_outage.py --parts capacity --judges 0.5x256,0.25x32,2x8
    python benchmarks/bench_judge_outage.py --parts capacity --against /tmp/base   # A/B with a checkout

Everything runs on 127.0.0.1 and is started and stopped (by PID) by this script:
- a stand-in judge (benchmarks/standin_judge.py, a subprocess): `LATENCY x SLOTS` answers "1"
  after LATENCY seconds, SLOTS calls at a time (capacity SLOTS / LATENCY calls/s; more calls queue
  at the judge); `hang` accepts connections and never answers; `down` is a port nobody listens on;
- `seekworld serve --reward rule+judge` (gunicorn);
- clients (asyncio, raw sockets): `concurrency` at a time, each request ONE sample (upstream's
  shape, every sample distinct: no cache hits), a fresh connection per request, 200 s timeout each
  (upstream's is 180 s). Bounded: a fixed number of requests (capacity: the judge's capacity x
  --seconds, at least --clients).

Part `outage` (server: 2 workers x 64 threads; judge `up` = 0.02 s, unlimited slots): per (mode,
concurrency) the latency per sample (p50 / p95 / max), the share over upstream's 180 s timeout (a
failed training step), the judge_error rate, and p50 as a ratio of the `up` run.

Part `capacity` (server at its defaults: the settings table's workers, threads and judge limit):
per judge shape, judged samples per second and that as a share of the judge's capacity, the
judge_error share, p50 / p99 latency per request, and how often the circuit breaker opened (from
the server's log). With --against DIR the same runs use DIR's code (its checkout on PYTHONPATH),
e.g. `git worktree add /tmp/base <commit>` for a before/after in one session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from processes import REPO, free_port, process_group_cpu, serve, start_judge, stop

PROMPT = "<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n"


# --- clients -----------------------------------------------------------------------------------


def request_body(i: int) -> bytes:
    think = f"The first clue is the shop sign in simplified Chinese; the red soil fits Sichuan. Sample {i}."
    query = f"{PROMPT}<think>{think}</think>\n<answer>China, Sichuan</answer><|im_end|>"
    return json.dumps({"query": [query], "prompts": [PROMPT], "labels": ["$china,sichuan$"]}).encode()


async def one_request(port: int, i: int, timeout: float = 200) -> tuple[float, float | None]:
    """(seconds, judge_error) for one request on a fresh connection; judge_error None: no answer
    (upstream would retry, then fail the step)."""
    body = request_body(i)
    head = f"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    start = time.monotonic()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head + body)
            header = await reader.readuntil(b"\r\n\r\n")
            fields = (line.partition(b":") for line in header.split(b"\r\n"))
            length = next(int(v) for n, _, v in fields if n.lower() == b"content-length")
            reply = json.loads(await reader.readexactly(length))
        return time.monotonic() - start, reply["extra_logs"]["judge_error"][0]
    except (OSError, TimeoutError, ValueError, KeyError, StopIteration, asyncio.IncompleteReadError):
        return time.monotonic() - start, None
    finally:
        if writer is not None:
            writer.close()


Outcome = tuple[float, float | None]  # (seconds, judge_error or None: no answer)


async def drive(port: int, concurrency: int, requests: int, first: int = 0) -> list[Outcome]:
    numbers = iter(range(first, first + requests))
    results: list[Outcome] = []

    async def client() -> None:
        for i in numbers:  # bounded: `requests` in all
            results.append(await one_request(port, i))

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return results


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


# --- the parts ---------------------------------------------------------------------------------


def run_one(shape: str, code: Path, log: Path, extra: list[str], concurrency: int, requests: int) -> dict:
    judge, judge_port = start_judge(shape, log)
    server_log = log.with_suffix(f".{free_port()}.log")
    try:
        server, port = serve(code, server_log, "--reward", "rule+judge", "--judge-model", "judge",
                             "--judge-url", f"http://127.0.0.1:{judge_port}/v1", *extra)  # fmt: skip
        try:
            asyncio.run(drive(port, 8, 16, first=10**9))  # warm up (distinct samples)
            t0, cpu0 = time.monotonic(), process_group_cpu(server.pid)
            results = asyncio.run(drive(port, concurrency, requests))
            wall, cpu = time.monotonic() - t0, process_group_cpu(server.pid) - cpu0
        finally:
            stop(server)
    finally:
        if judge is not None:
            stop(judge)
    answered = [r for r in results if r[1] is not None]
    opened = server_log.read_text(errors="replace").count("circuit breaker opened")
    return {
        "n": len(results),
        "wall": wall,
        "lat": [r[0] for r in results],
        "unanswered": len(results) - len(answered),
        "over_180": sum(1 for r in results if r[1] is None or r[0] > 180),
        "judge_error": sum(r[1] for r in answered) / max(1, len(answered)),
        "judged": sum(1 for r in answered if r[1] == 0),
        "opened": opened,
        "cpu_ms": cpu / len(results) * 1000,
    }


def part_outage(args: argparse.Namespace, code: Path, log: Path) -> None:
    extra = ["--workers", "2", "--threads", "64"]
    print(f"\n## outage ({code}; server: 2 workers x 64 threads)\n")
    print("| judge | clients | n | p50 s | p95 s | max s | over 180 s | judge_error | p50 / up | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base: dict[int, float] = {}
    for mode in args.modes.split(","):
        for c in (int(x) for x in args.concurrency.split(",")):
            r = run_one(mode, code, log, extra, c, c * args.rounds)
            p50 = pct(r["lat"], 0.5)
            if mode == "up":
                base[c] = p50
            ratio = f"{p50 / base[c]:.1f}x" if c in base else "-"
            print(f"| {mode} | {c} | {r['n']} | {p50:.3f} | {pct(r['lat'], 0.95):.3f} | {max(r['lat']):.2f} "
                  f"| {r['over_180'] / r['n']:.1%} | {r['judge_error']:.1%} | {ratio} | {r['wall']:.1f} |",
                  flush=True)  # fmt: skip


def part_capacity(args: argparse.Namespace, code: Path, log: Path) -> None:
    flags = args.serve_flags or "defaults"
    print(f"\n## capacity ({code}; server: {flags}; {os.cpu_count()} CPUs, shared)\n")
    print("| judge (latency x slots) | capacity calls/s | clients | n | judged/s | share of capacity "
          "| judge_error | p50 s | p99 s | breaker opened | server CPU ms/request | wall s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for shape in args.judges.split(","):
        latency, slots = (float(v) for v in shape.split("x"))
        capacity = slots / latency
        requests = max(args.clients, int(capacity * args.seconds))
        r = run_one(shape, code, log, args.serve_flags.split(), args.clients, requests)
        rate = r["judged"] / r["wall"]
        print(f"| {shape} | {capacity:.0f} | {args.clients} | {r['n']} | {rate:.1f} | {rate / capacity:.2f} "
              f"| {r['judge_error']:.1%} | {pct(r['lat'], 0.5):.2f} | {pct(r['lat'], 0.99):.2f} "
              f"| {r['opened']} | {r['cpu_ms']:.2f} | {r['wall']:.1f} |", flush=True)  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="outage,capacity")
    ap.add_argument("--modes", default="up,down,hang", help="outage: judge modes")
    ap.add_argument("--concurrency", default="64,256", help="outage: clients")
    ap.add_argument("--rounds", type=int, default=4, help="outage: requests per client")
    ap.add_argument("--judges", default="0.5x256,0.25x32,2x8", help="capacity: LATENCYxSLOTS shapes")
    ap.add_argument("--clients", type=int, default=512, help="capacity: requests in flight")
    ap.add_argument(
        "--seconds", type=float, default=10.0,
        help="capacity: requests per judge shape = its capacity x this (at least --clients)",
    )  # fmt: skip
    ap.add_argument("--serve-flags", default="", help="capacity: seekworld serve flags ('--threads 64')")
    ap.add_argument("--against", type=Path, help="also run with this checkout's code (before/after)")
    ap.add_argument("--log", type=Path, default=Path("/tmp/bench_judge_outage.log"))
    args = ap.parse_args()
    for code in [REPO, *([args.against.resolve()] if args.against else [])]:
        for part in args.parts.split(","):
            {"outage": part_outage, "capacity": part_capacity}[part](args, code, args.log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
