"""Load test of the reward server in upstream OpenRLHF's request shape, against a baseline.

    python benchmarks/bench_reward_server.py                      # defaults: 4,096 requests per level
    python benchmarks/bench_reward_server.py --requests 8192 --concurrency 1,16,64,256 --workers 4
    python benchmarks/bench_reward_server.py --judge-latency-ms 50 --requests 2048   # rule+judge

Upstream posts ONE sample per request, each from a fresh aiohttp session (a new TCP connection),
many in flight. The client here does the same with raw asyncio sockets (cheaper than aiohttp, so
the client steals less CPU from the servers on a small machine): connect, POST (keep-alive, as
aiohttp sends it), read the response, close.

Servers, each a subprocess on a free loopback port, started and stopped by this script:
- `gunicorn-gthread`: `seekworld serve` (the default worker class)
- `gunicorn-sync`:    `seekworld serve --worker-class sync` (with --compare-sync)
- `baseline`:         the same Flask app under Flask's development server, `app.run(threaded=True)`

With --judge-latency-ms the variant is rule+judge, and a stand-in judge (a subprocess answering
"1" after that delay, like a loaded vLLM judge) sits behind every server.

Also printed: each server's CPU time per request (all its processes, from /proc), a figure that
does not depend on how many cores the machine has or on what else runs on it. Then the
in-process reward file: calls/s from one thread and from many (upstream calls it via
asyncio.to_thread). Bounded: every request has a timeout and the script stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SYSTEM = "You are a helpful assistant."
QUESTION = (
    "In which country and first-level region was this photo taken? Think inside <think></think>, "
    "then answer inside <answer></answer> as $country,region$."
)
# (label, answer): right, wrong region, wrong country, hedge, no answer block.
CASES = [
    ("$china,sichuan/四川$", "$China,四川省$"),
    ("$japan,osaka/osaka prefecture$", "$Japan,Osaka$"),
    ("$united states,california$", "$United States,Nevada$"),
    ("$brazil,são paulo$", "$Argentina,Buenos Aires$"),
    ("$france,provence-alpes-côte d'azur$", "$France,Provence or Occitanie$"),
    ('{"country": "Kenya", "region": "Nairobi", "lat": -1.29, "lon": 36.82}', None),
]
REASONING = (
    "The road markings are yellow in the centre and the vehicles drive on the right. The signs use a "
    "script I can read, and the vegetation is subtropical with red soil. The architecture shows tiled "
    "roofs and concrete blocks typical of the region; utility poles are concrete. "
) * 3


def make_query(answer: str | None, pads: int, n: int = 0) -> str:
    image = "<|vision_start|>" + "<|image_pad|>" * pads + "<|vision_end|>"
    # a distinct sentence per request: the judge's cache must not answer for it
    think = f"<think>{REASONING}Sample {n}.</think>"
    response = think + (f"<answer>{answer}</answer>" if answer else "")
    return (
        f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{image}{QUESTION}<|im_end|>\n"
        f"<|im_start|>assistant\n{response}<|im_end|>"
    )


def make_bodies(n: int, pads: int, start: int = 0) -> list[bytes]:
    """n request bodies; samples numbered from `start` (distinct numbers: no judge cache hits)."""
    rng = random.Random(0)
    prompt = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n<|image_pad|>{QUESTION}"
    bodies = []
    for i in range(start, start + n):
        label, answer = rng.choice(CASES)
        row = {"query": [make_query(answer, pads, i)], "prompts": [prompt], "labels": [label]}
        bodies.append(json.dumps(row).encode())
    return bodies


# --- client ------------------------------------------------------------------------------------


async def post_once(host: str, port: int, body: bytes, timeout: float) -> tuple[float, str | None]:
    """One request the way upstream's aiohttp session-per-request does it: HTTP/1.1 keep-alive
    (no `Connection: close`), read the response by Content-Length, then the client closes."""
    start = time.perf_counter()
    head = (
        f"POST /get_reward HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(head + body)
            await writer.drain()
            header = await reader.readuntil(b"\r\n\r\n")
            length = None
            for line in header.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            data = await (reader.readexactly(length) if length is not None else reader.read())
        status = header[9:12]
        if status != b"200":
            return time.perf_counter() - start, f"HTTP {status.decode(errors='replace') or 'none'}"
        if "rewards" not in json.loads(data):
            return time.perf_counter() - start, "no rewards"
        return time.perf_counter() - start, None
    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
        return time.perf_counter() - start, type(exc).__name__
    finally:
        if writer is not None:
            writer.close()


@dataclass
class Result:
    server: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    error_kinds: dict[str, int]
    cpu_us: float | None = None  # server CPU time per request (all its processes), microseconds

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def load(host: str, port: int, bodies: list[bytes], concurrency: int, timeout: float) -> Result:
    queue = iter(bodies)
    latencies: list[float] = []
    kinds: dict[str, int] = {}

    async def worker() -> None:
        for body in queue:
            seconds, error = await post_once(host, port, body, timeout)
            if error is None:
                latencies.append(seconds)
            else:
                kinds[error] = kinds.get(error, 0) + 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return Result("", concurrency, len(bodies), elapsed, latencies, sum(kinds.values()), kinds)


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BASELINE = """
import logging, sys
from seekworld.serve.app import create_app
from seekworld.service.settings import RewardSettings
logging.getLogger("werkzeug").setLevel(logging.INFO)  # the dev server's default request log
judge = dict(judge_url=sys.argv[3], judge_model="standin") if len(sys.argv) > 3 else {}
settings = RewardSettings(reward=sys.argv[2], **judge)
app = create_app(settings.service_config(), settings.server_options())
app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
"""

# An OpenAI-compatible judge that answers "1" after a fixed delay (a stand-in for vLLM).
JUDGE = """
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
delay = float(sys.argv[2])
body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "standin", "choices": [
    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "1"}}]}).encode()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as vLLM
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(delay)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
ThreadingHTTPServer.request_queue_size = 1024
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
server.daemon_threads = True
server.serve_forever()
"""


def wait_until(ready, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.05)
    stop_server(proc)
    raise RuntimeError(f"{what} did not come up")


def start_server(kind: str, port: int, args: argparse.Namespace) -> subprocess.Popen:
    judge = [args.judge_url] if args.judge_url else []
    if kind == "baseline":
        cmd = [sys.executable, "-c", BASELINE, str(port), args.reward, *judge]
    else:
        cmd = [
            sys.executable, "-m", "seekworld", "serve", "--port", str(port), "--reward", args.reward,
            "--workers", str(args.workers),
            "--worker-class", kind.split("-", 1)[1], "--log-level", "warning",
        ]  # fmt: skip
        if args.threads is not None:
            cmd += ["--threads", str(args.threads)]
        if judge:
            cmd += ["--judge-url", args.judge_url, "--judge-model", "standin"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )

    def ready() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
            return r.status == 200

    wait_until(ready, proc, f"{kind} server on port {port}")
    return proc


def start_judge(port: int, delay_s: float) -> subprocess.Popen:
    cmd = [sys.executable, "-c", JUDGE, str(port), str(delay_s)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_until(
        lambda: socket.create_connection(("127.0.0.1", port), timeout=0.5).close() or True, proc, "judge"
    )
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server's own process group (master + workers)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def server_cpu_seconds(pgid: int) -> float | None:
    """CPU time (user + system) of a process group's live processes, from /proc; None off Linux."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # the process group id
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


# --- in-process reward file --------------------------------------------------------------------


def bench_reward_func(n: int, threads: int, reward: str) -> list[tuple[str, int, float]]:
    import importlib.util

    os.environ["SEEKWORLD_REWARD"] = reward
    path = os.path.join(ROOT, "seekworld", "integrations", "openrlhf", "reward_func.py")
    spec = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    rows = [json.loads(b) for b in make_bodies(n, 391)]
    calls = [(r["query"], r["prompts"], r["labels"]) for r in rows]
    out = []
    start = time.perf_counter()
    for call in calls:
        module.reward_func(*call)
    out.append(("1 thread", n, n / (time.perf_counter() - start)))

    async def threaded() -> None:
        sem = asyncio.Semaphore(threads)

        async def one(call: tuple) -> None:
            async with sem:
                await asyncio.to_thread(module.reward_func, *call)

        await asyncio.gather(*(one(c) for c in calls))

    loop = asyncio.new_event_loop()
    loop.set_default_executor(ThreadPoolExecutor(threads))
    start = time.perf_counter()
    loop.run_until_complete(threaded())
    out.append((f"asyncio.to_thread x{threads}", n, n / (time.perf_counter() - start)))
    loop.close()
    return out


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=4096, help="requests per concurrency level")
    p.add_argument("--concurrency", default="1,16,64,256")
    p.add_argument("--workers", type=int, default=max(1, min(os.cpu_count() or 1, 8)))
    p.add_argument("--threads", type=int, help="threads per worker (default: the server's default)")
    p.add_argument("--reward", default="rule")
    p.add_argument("--pads", type=int, default=391, help="<|image_pad|> tokens per query (640x480: 391)")
    p.add_argument("--timeout", type=float, default=30.0, help="per request, seconds")
    p.add_argument("--compare-sync", action="store_true", help="also run gunicorn with sync workers")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument("--reward-func-calls", type=int, default=4096)
    p.add_argument(
        "--judge-latency-ms", type=float, default=0.0,
        help="> 0: variant rule+judge, against a stand-in judge answering after this delay",
    )  # fmt: skip
    args = p.parse_args()
    args.judge_url = None
    judge_proc = None
    if args.judge_latency_ms > 0:
        args.reward = "rule+judge"
        judge_port = free_port()
        judge_proc = start_judge(judge_port, args.judge_latency_ms / 1000)
        args.judge_url = f"http://127.0.0.1:{judge_port}/v1"
    try:
        return run(args)
    finally:
        if judge_proc is not None:
            stop_server(judge_proc)


def run(args: argparse.Namespace) -> int:
    levels = [int(c) for c in args.concurrency.split(",")]
    # Each level gets its own samples: a judge verdict cached at one level must not serve the next.
    per_level = [make_bodies(args.requests, args.pads, (i + 1) * args.requests) for i in range(len(levels))]
    warm_up = make_bodies(64, args.pads, 0)
    bodies = per_level[0]
    kinds = ["gunicorn-gthread"] + (["gunicorn-sync"] if args.compare_sync else [])
    kinds += [] if args.skip_baseline else ["baseline"]
    judge = f", judge answers in {args.judge_latency_ms:g} ms" if args.judge_url else ""
    print(
        f"# {args.requests} requests per level, 1 sample each ({len(bodies[0])} bytes), "
        f"reward={args.reward}{judge}, gunicorn workers={args.workers} threads={args.threads or 'default'}, "
        f"{os.cpu_count()} CPUs, loopback"
    )
    results: dict[tuple[str, int], Result] = {}
    for kind in kinds:
        port = free_port()
        proc = start_server(kind, port, args)
        try:
            asyncio.run(load("127.0.0.1", port, warm_up, 8, args.timeout))
            for c, bodies in zip(levels, per_level, strict=True):
                cpu_before = server_cpu_seconds(proc.pid)
                r = asyncio.run(load("127.0.0.1", port, bodies, c, args.timeout))
                cpu_after = server_cpu_seconds(proc.pid)
                if cpu_before is not None and cpu_after is not None:
                    r.cpu_us = (cpu_after - cpu_before) / r.requests * 1e6
                r.server = kind
                results[(kind, c)] = r
                print(
                    f"{kind:17s} c={c:<4d} {r.rps:9.1f} req/s  p50 {r.pct(0.5):8.2f} ms  "
                    f"p99 {r.pct(0.99):8.2f} ms  cpu/req {r.cpu_us or float('nan'):5.0f} us  "
                    f"errors {r.errors}" + (f" {r.error_kinds}" if r.errors else ""),
                    flush=True,
                )
        finally:
            stop_server(proc)

    print("\n| server | concurrency | requests | req/s | p50 ms | p99 ms | server CPU µs/req | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (kind, c), r in results.items():
        print(
            f"| {kind} | {c} | {r.requests} | {r.rps:.1f} | {r.pct(0.5):.2f} | {r.pct(0.99):.2f} "
            f"| {r.cpu_us or float('nan'):.0f} | {r.errors} |"
        )
    if "baseline" in kinds:
        print(
            "\n| concurrency | req/s vs baseline | p99 baseline / p99 gthread | CPU/req baseline / gthread |"
        )
        print("|---:|---:|---:|---:|")
        for c in levels:
            g, b = results[("gunicorn-gthread", c)], results[("baseline", c)]
            cpu = f"{b.cpu_us / g.cpu_us:.2f}x" if g.cpu_us and b.cpu_us else "n/a"
            print(f"| {c} | {g.rps / b.rps:.2f}x | {b.pct(0.99) / g.pct(0.99):.2f}x | {cpu} |")
    if args.reward_func_calls and args.judge_url is None:
        print("\n| in-process reward_func | calls | calls/s |")
        print("|---|---:|---:|")
        for name, n, rate in bench_reward_func(args.reward_func_calls, 64, args.reward):
            print(f"| {name} | {n} | {rate:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
