"""scripts/install_gpu.sh: `--check` only reports; bad arguments are refused. (`--resolve` needs the
network and runs in .ci/run; the install itself needs a GPU node.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install_gpu.sh"


def run(*args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(Path.home())}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120)


def test_check_reports_each_pin_and_fails_without_a_gpu_stack():
    done = run("--check")
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line.strip()}
    assert rows["torch"][0] == "2.13.0" and rows["flash-attn"][0] == "2.8.3"
    assert rows["nvidia-driver"][0] == ">=580"
    # no GPU here: the driver is missing, so --check says so and exits 1, having installed nothing
    assert done.returncode == 1 and "something is missing or off its pin" in done.stderr


def test_unknown_argument_is_refused():
    done = run("--instal")
    assert done.returncode == 2 and "unknown argument" in done.stderr


def test_install_without_a_venv_is_refused_before_touching_anything():
    done = run()
    assert done.returncode == 2 and "no active virtual environment" in done.stderr
