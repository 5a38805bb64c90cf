"""What the fault and capacity benchmarks share (bench_judge_outage.py, bench_serve_faults.py):
starting `seekworld serve` and the stand-in judge (benchmarks/standin_judge.py) on free loopback
ports, each in its own process group, with a chosen checkout's code on PYTHONPATH, and stopping
them by that group only (nothing this script did not start)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], log: Path, code: Path = REPO) -> subprocess.Popen:
    """`cmd` in its own process group, run in `code` with it on PYTHONPATH, output to `log`."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    with open(log, "ab") as fh:
        return subprocess.Popen(cmd, cwd=code, stdout=fh, stderr=fh, start_new_session=True, env=env)


def stop(proc: subprocess.Popen, grace_s: float = 40) -> None:
    """SIGTERM to the process group, SIGKILL after `grace_s`."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            kill(proc)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def serve(code: Path, log: Path, *flags: str) -> tuple[subprocess.Popen, int]:
    """`seekworld serve FLAGS` from `code` on a free port, once /health answers: (master, port)."""
    port = free_port()
    proc = start([sys.executable, "-m", "seekworld", "serve", "--port", str(port), *flags], log, code)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    kill(proc)
    raise RuntimeError(f"server did not start; see {log}")


def start_judge(shape: str, log: Path) -> tuple[subprocess.Popen | None, int]:
    """A stand-in judge: `down` (nothing listens), `hang`, `up` (0.02 s, no slot limit) or
    `LATENCYxSLOTS`. (process or None, port), once it listens."""
    port = free_port()
    if shape == "down":
        return None, port
    args = ["--hang"] if shape == "hang" else []
    if shape == "up":
        args = ["--latency", "0.02"]
    elif "x" in shape:
        latency, slots = shape.split("x")
        args = ["--latency", latency, "--slots", slots]
    proc = start([sys.executable, str(HERE / "standin_judge.py"), "--port", str(port), *args], log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    kill(proc)
    raise RuntimeError("stand-in judge did not start")


def process_group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of a process group's live processes, from /proc (Linux)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                total += (int(fields[11]) + int(fields[12])) / tick
    return total
