"""examples/scripts/lmm_r1/train_direct_rl_seekworld.sh under bash with DRY_RUN=1: it passes its
preflight on the prepared sample data and leaves none of the processes it started behind (found by
the PIDs it records in its log folder, never by name).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.prepare_data import PREPARE_SAMPLE

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples/scripts/lmm_r1/train_direct_rl_seekworld.sh"
pytest.importorskip("openrlhf", reason="pip install --no-deps openrlhf==0.11.2")
pytest.importorskip("gunicorn", reason="the reward server needs the serve extra")
if shutil.which("bash") is None:
    pytest.skip("needs bash", allow_module_level=True)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prepared-script")
    subprocess.run(
        [*PREPARE_SAMPLE, "--output", str(out), "--no-progress"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out / "train.jsonl"


def script_env(data: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "SEEKWORLD_"))}
    env.update(
        DRY_RUN="1",
        PYTHON=sys.executable,
        DATA=str(data),
        SAVE_PATH=str(tmp_path / "ckpt"),
        LOG_ROOT=str(tmp_path / "logs"),
        **extra,
    )
    return env


def log_dir(tmp_path: Path) -> Path:
    (only,) = (tmp_path / "logs").iterdir()  # one timestamped folder per run
    return only


def recorded_pids(logs: Path) -> dict[str, int]:
    pids = {line.split()[0]: int(line.split()[1]) for line in (logs / "pids.log").read_text().splitlines()}
    pids["seekworld_train"] = int((logs / "seekworld_train.pid.txt").read_text())
    return pids


def gone(pid: int, group: bool, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            (os.killpg if group else os.kill)(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_dry_run_script_passes_and_cleans_up(prepared, tmp_path):
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--sample", "5"],
        env=script_env(prepared, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "DRY_RUN: would start a Ray head" in proc.stdout  # Ray is not needed (nor installed) here
    assert "dry run: every check passed" in proc.stdout
    assert "[ok  ] images           5 of 20 images" in proc.stdout  # script arguments reach seekworld train
    logs = log_dir(tmp_path)
    assert (logs / "train.log").read_text().count("[ok  ]") >= 5
    pids = recorded_pids(logs)
    assert gone(pids["reward_server"], group=True)  # the server and its gunicorn workers
    assert gone(pids["seekworld_train"], group=False)
    assert not list(logs.glob("*.pid"))


def test_trap_stops_the_server_when_seekworld_train_dies(prepared, tmp_path):
    """seekworld train killed outright (no chance to clean up): the script's trap stops the
    reward server it had started, by the PID file it left."""
    hang = socket.socket()  # a judge that accepts and never answers: keeps the preflight busy
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    env = script_env(
        prepared,
        tmp_path,
        REWARD="rule+judge",
        JUDGE_MODE="url",
        JUDGE_URL=f"http://127.0.0.1:{hang.getsockname()[1]}/v1",
    )
    proc = subprocess.Popen(
        ["bash", str(SCRIPT)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.append(line)
            if line.startswith("started reward_server: pid"):
                break
        logs = log_dir(tmp_path)
        pids = recorded_pids(logs)
        os.kill(pids["seekworld_train"], signal.SIGKILL)
        out.extend(proc.stdout)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        hang.close()
    text = "".join(out)
    assert proc.returncode == 128 + signal.SIGKILL, text
    assert f"stopping reward_server (process group {pids['reward_server']})" in text
    assert gone(pids["reward_server"], group=True)
    assert not list(logs.glob("*.pid"))
