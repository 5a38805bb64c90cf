"""What a judge outage costs a training step (issue 13 §3): latency per sample with the judge up,
down (nothing listening) or hanging (accepts, never answers), at concurrency 64 and 256.

    python benchmarks/bench_judge_outage.py                       # defaults below
    python benchmarks/bench_judge_outage.py --concurrency 64,256 --rounds 4 --modes up,down,hang

Everything runs on 127.0.0.1 and is started and stopped (by PID) by this script:
- a stand-in judge (this file with --standin MODE, a subprocess): `up` answers "1" after 20 ms, like
  a loaded vLLM judge; `hang` accepts connections and never answers; `down` is a port nobody
  listens on;
- `seekworld serve --reward rule+judge` (gunicorn, defaults: 20 s per judge call, 60 s request
  deadline, breaker after 5 outage failures);
- clients: `concurrency` threads, each posting `rounds` requests of ONE sample each (upstream's
  shape), a fresh connection per request, 200 s timeout each (upstream's is 180 s). Bounded loops.

Printed per (mode, concurrency): p50 / p95 / max latency per sample, the share over upstream's
180 s timeout (a failed training step), the judge_error rate, and p50 as a ratio of the `up` run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROMPT = "<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the stand-in judge (subprocess) -----------------------------------------------------------


def standin(mode: str, port: int) -> None:
    if mode == "hang":
        listener = socket.create_server(("127.0.0.1", port), backlog=4096)
        held = []
        while True:  # ends when the benchmark kills this process
            conn, _ = listener.accept()
            held.append(conn)  # read nothing, answer nothing
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(0.02)
            message = {"role": "assistant", "content": "1"}
            choice = {"index": 0, "finish_reason": "stop", "message": message}
            body = json.dumps({"id": "x", "object": "chat.completion", "model": "judge", "choices": [choice]})
            body = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


# --- the benchmark -----------------------------------------------------------------------------


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as fh:
        return subprocess.Popen(cmd, cwd=REPO, stdout=fh, stderr=fh, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # its own process group: only what this script started
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_health(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def one_request(port: int, i: int) -> tuple[float, float | None]:
    think = f"The first clue is the shop sign in simplified Chinese; the red soil fits Sichuan. Sample {i}."
    query = f"{PROMPT}<think>{think}</think>\n<answer>China, Sichuan</answer><|im_end|>"
    body = json.dumps({"query": [query], "prompts": [PROMPT], "labels": ["$china,sichuan$"]})
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=200)
        conn.request("POST", "/get_reward", body, {"Content-Type": "application/json"})
        reply = json.loads(conn.getresponse().read())
        conn.close()
        error = reply["extra_logs"]["judge_error"][0]
    except (OSError, ValueError, KeyError):
        error = None  # no answer: upstream would retry, then fail the step
    return time.monotonic() - start, error


def drive(port: int, concurrency: int, rounds: int) -> list[tuple[float, float | None]]:
    results: list[tuple[float, float | None]] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        for r in range(rounds):  # bounded
            out = one_request(port, c * rounds + r)
            with lock:
                results.append(out)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--standin", choices=("up", "hang"), help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--modes", default="up,down,hang")
    ap.add_argument("--concurrency", default="64,256")
    ap.add_argument("--rounds", type=int, default=4, help="requests per client")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=64)
    ap.add_argument("--log", default="/tmp/bench_judge_outage.log")
    args = ap.parse_args()
    if args.standin:
        standin(args.standin, args.port)
        return 0

    log = Path(args.log)
    rows = []
    base_p50: dict[int, float] = {}
    for mode in args.modes.split(","):
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            judge_port = free_port()
            judge = None
            if mode in ("up", "hang"):
                judge = start([sys.executable, __file__, "--standin", mode, "--port", str(judge_port)], log)
                time.sleep(0.5)
            port = free_port()
            server = start(
                [sys.executable, "-m", "seekworld", "serve", "--port", str(port), "--reward", "rule+judge",
                 "--judge-url", f"http://127.0.0.1:{judge_port}/v1", "--judge-model", "judge",
                 "--workers", str(args.workers), "--threads", str(args.threads)],
                log,
            )  # fmt: skip
            try:
                wait_health(port, server)
                t0 = time.monotonic()
                results = drive(port, concurrency, args.rounds)
                wall = time.monotonic() - t0
            finally:
                stop(server)
                if judge is not None:
                    stop(judge)
            lat = [r[0] for r in results]
            errors = [r[1] for r in results if r[1] is not None]
            failed = sum(1 for r in results if r[1] is None or r[0] > 180)
            p50 = pct(lat, 0.5)
            if mode == "up":
                base_p50[concurrency] = p50
            ratio = f"{p50 / base_p50[concurrency]:.1f}x" if concurrency in base_p50 else "-"
            rows.append((mode, concurrency, len(results), p50, pct(lat, 0.95), max(lat),
                         failed / len(results), sum(errors) / max(1, len(errors)), ratio, wall))  # fmt: skip
            print(f"done: {mode} @ {concurrency}", file=sys.stderr)

    print(f"{'judge':<6} {'conc':>5} {'n':>5} {'p50 s':>8} {'p95 s':>8} {'max s':>8} "
          f"{'>180s':>6} {'judge_err':>9} {'p50/up':>7} {'wall s':>7}")  # fmt: skip
    for mode, c, n, p50, p95, mx, failed, err, ratio, wall in rows:
        print(f"{mode:<6} {c:>5} {n:>5} {p50:>8.3f} {p95:>8.3f} {mx:>8.2f} {failed:>6.1%} {err:>9.1%} "
              f"{ratio:>7} {wall:>7.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
