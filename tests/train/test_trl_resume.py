"""A TRL run that is killed and rerun ends where a run that was never killed ends, weight for weight.

Same command, same seed, CPU, the tiny Qwen2.5-VL, 4 steps with a checkpoint after each, on two
rows (a pass over the data is 2 steps, so the run resumes in its second pass, whose order must be
the one the uninterrupted run drew). One run goes through uninterrupted. The other
(`tests/helpers/trl_interrupt.py`) is killed right after checkpoint-2, rerun and killed while
writing checkpoint-3; an incomplete `checkpoint-3` is then left as a writer without atomic saves
leaves one; the last rerun finishes. Real generation, rewards and updates throughout. A full disk:
a real small tmpfs where the test may mount one (the ENOSPC
stand-in at the save seam is in tests/integrations/trl/test_trl_checkpoints.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.prepare_data import PREPARE_SAMPLE

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
INTERRUPT = REPO / "tests" / "helpers" / "trl_interrupt.py"
KILLED = 9  # trl_interrupt.EXIT_KILLED


def _run(argv: list[str], cwd: Path, code: int = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == code, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _weights(folder: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _train(root: Path, output: Path, mode: str = "none", step: int = 0, code: int = 0, *extra: str):
    argv = [sys.executable, str(INTERRUPT), mode, str(step), "train"]
    argv += ["--config", str(REPO / "examples/configs/trl_cpu_smoke.toml")]
    for setting in (
        f"data.prompt_data={root / 'data/train.jsonl'}",
        f"checkpoint.save_path={output}",
        "trl.max_steps=4",
        "data.max_samples=2",  # a pass over the data is 2 steps: both resumes land in the second
        "checkpoint.save_steps=1",
        "checkpoint.max_num=10",
        *extra,
    ):
        argv += ["--set", setting]
    return _run(argv, root, code)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("trl-resume")
    _run([*PREPARE_SAMPLE, "--output", str(root / "data"), "--no-progress"], root)
    whole, cut = root / "whole", root / "cut"
    _train(root, whole)
    # The same tiny model (it is built and warmed up once, under the first run's OUTPUT).
    shutil.copytree(whole / "tiny-random-init", cut / "tiny-random-init")
    out = {"root": root, "whole": whole, "cut": cut}
    out["killed"] = _train(root, cut, "after-save", 2, KILLED)
    out["killed_saving"] = _train(root, cut, "mid-save", 3, KILLED)
    out["staged"] = sorted(p.name for p in (cut / ".checkpoint-staging").iterdir())
    stale = cut / "checkpoint-3"  # what a save cut off before atomic writes left behind
    shutil.copytree(cut / "checkpoint-2", stale)
    (stale / "trainer_state.json").unlink()
    out["finished"] = _train(root, cut)
    return out


def test_resumed_run_reaches_the_weights_of_an_uninterrupted_one_step_for_step(runs):
    whole, cut = runs["whole"], runs["cut"]
    start = _weights(whole / "tiny-random-init")
    for folder in ("checkpoint-2", "checkpoint-3", "checkpoint-4", "."):
        mine, reference = _weights(cut / folder), _weights(whole / folder)
        assert mine.keys() == reference.keys()
        worst = max((mine[k] - reference[k]).abs().max().item() for k in mine)
        assert worst <= 1e-6, f"{folder}: weights differ by up to {worst}"
        moved = max((reference[k] - start[k]).abs().max().item() for k in reference)
        assert moved > 1e-4, f"{folder}: training did not move the weights: the comparison shows nothing"
    summary = json.loads(runs["finished"].stdout.strip().splitlines()[-1])
    assert summary["resumed_from"] == str(cut / "checkpoint-2") and summary["steps"] == 4
    assert "missing keys" not in runs["finished"].stdout + runs["finished"].stderr


def test_logs_continue_without_duplicates(runs):
    whole, cut = runs["whole"], runs["cut"]
    metrics, reference = _rows(cut / "metrics.jsonl"), _rows(whole / "metrics.jsonl")
    assert [r["step"] for r in metrics] == [1, 2, 3, 4]
    for mine, theirs in zip(metrics, reference, strict=True):
        assert {k: v for k, v in mine.items() if k != "step_time"} == pytest.approx(
            {k: v for k, v in theirs.items() if k != "step_time"}, abs=1e-6
        )
    samples = _rows(cut / "samples.jsonl")
    assert [s["step"] for s in samples] == [s for s in (1, 2, 3, 4) for _ in range(8)]
    assert samples == _rows(whole / "samples.jsonl")  # the same completions, scored the same
    # Step 3 was logged and scored before its checkpoint write was cut off: redone, not repeated.
    said = runs["finished"].stdout
    assert "metrics.jsonl: dropped 1 row after step 2" in said
    assert "samples.jsonl: dropped 8 rows after step 2" in said


def test_a_checkpoint_cut_off_mid_write_is_never_resumed_from(runs):
    assert runs["staged"] == ["checkpoint-3"]  # the cut-off write stayed in the staging folder
    said = runs["finished"].stdout
    assert "resumes from checkpoint-2 (step 2); checkpoint-3 is incomplete" in said  # preflight, first
    assert "removed checkpoint-3 from" in said and "(a checkpoint write cut off)" in said
    assert f"{runs['cut'] / 'checkpoint-3'} is incomplete (no trainer_state.json): removed" in said
    assert f"resuming from {runs['cut'] / 'checkpoint-2'} (step 2)" in said
    assert not (runs["cut"] / ".checkpoint-staging").exists()


def test_full_tmpfs(runs, tmp_path):
    """A real full disk where this machine lets the test mount a small tmpfs (skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
    try:
        model = f"model.path={runs['whole'] / 'tiny-random-init'}"
        proc = _train(runs["root"], disk / "out", "none", 0, 2, model)
        error = next(line for line in proc.stderr.splitlines() if line.startswith("seekworld train:"))
        # checkpoint-1 (about 2.6 MB) fits in 4 MB; checkpoint-2 does not.
        assert error.startswith(
            f"seekworld train: checkpoint-2 not saved: the disk holding {disk / 'out'} is full"
        )
        assert f"{disk} (tmpfs) has " in error and "rerun to resume from checkpoint-1" in error
        assert sorted(p.name for p in (disk / "out").glob("checkpoint-*")) == ["checkpoint-1"]
        assert not (disk / "out" / ".checkpoint-staging").exists()
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
