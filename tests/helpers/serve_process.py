"""Start real `seekworld serve` processes (gunicorn) on free loopback ports, and stop only those."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcesses:
    """`start(*flags) -> port`; `procs` are the masters started, in order; `stop()` ends them."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def __call__(self, *args: str, timeout_s: float = 30) -> int:
        port = free_port()
        log_path = self.log_dir / f"serve-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "seekworld", "serve", "--port", str(port), "--workers", "1", *args],
                cwd=REPO, stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        self.procs.append(proc)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
                return port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(log_path.read_text()[-2000:])

    def stop(self) -> None:
        for proc in self.procs:  # only the servers this test started, by their process group
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
