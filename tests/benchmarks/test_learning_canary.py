"""The learning canary: the whole RL loop learns something only the pictures show.

`benchmarks/bench_learn_toy.py` as a user runs it (its own subprocesses: `seekworld train --backend
trl` on the tiny Qwen2.5-VL, then `seekworld eval` on fresh pictures never trained on), two places,
its default 60 steps, half its held-out pictures. When measured, 6 seeds of 7 (0-6) learned, by
step 20-30; one (5) drifted onto one answer. A run is deterministic on one machine, but another CPU
may sum in another order and make the same seed a fresh draw, so a second seed runs when the first
did not learn: both failing (about 2% if the loop is sound) means the loop broke or stopped
learning (docs/benchmarks.md, "Learning canary").

Sampled accuracy is asserted with greedy: before RL the policy's odds are even, and greedy decoding
turns a tiny lean of each picture into 0.00 or 1.00 by chance (1.00 for seed 0), while sampled
accuracy stays near 0.50 until RL has taught the clue."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_learn_toy.py"
LAST_LINE = re.compile(
    r"held-out accuracy: greedy ([\d.]+), sampled ([\d.]+) on 50 fresh images, 2 places \(chance 0\.50\)"
)


def _canary(seed: int, out: Path) -> tuple[float, float, str]:
    argv = [sys.executable, str(BENCH), "--places", "2", "--heldout-per-place", "25", "--seed", str(seed)]
    proc = subprocess.run([*argv, "--quiet", "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    found = LAST_LINE.fullmatch(proc.stdout.strip().splitlines()[-1])
    assert found, proc.stdout[-3000:]
    return float(found[1]), float(found[2]), proc.stdout


def test_two_places_are_told_apart_on_fresh_pictures(tmp_path):
    pytest.importorskip("trl")
    runs = []
    for seed in (0, 1):
        greedy, sampled, said = _canary(seed, tmp_path / f"seed{seed}")
        runs.append(f"seed {seed}: greedy {greedy:.2f}, sampled {sampled:.2f}\n{said[-2500:]}")
        if greedy >= 0.9 and sampled >= 0.9:
            return
    pytest.fail("neither seed learned (chance 0.50):\n" + "\n".join(runs))
