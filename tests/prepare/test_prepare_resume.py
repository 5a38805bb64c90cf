"""An interrupted run resumes: finished images are reused, the output equals a clean run's."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.crash import crash_on
from helpers.prepare_data import lmm_r1_row, make_image, read_rows, run, write_jsonl

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ten_images(tmp_path) -> Path:
    d = tmp_path / "in"
    rows = [
        lmm_r1_row(str(make_image(d / f"img{i}.jpg", (300, 200), seed=i)), "$japan,osaka$", id=f"s{i}",
                   difficulty=["easy", "medium", "hard"][i % 3])
        for i in range(10)
    ]  # fmt: skip
    return write_jsonl(d / "data.jsonl", rows)


def _sidecars(out: Path) -> set[Path]:
    return set((out / "images").rglob("*.json"))


def _normalised(out: Path, name: str = "train.jsonl") -> str:
    return (out / name).read_text().replace(str(out), "DIR")


@pytest.mark.parametrize("workers", [1, 2])
def test_crash_then_resume(ten_images, tmp_path, monkeypatch, workers):
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        m.setattr("seekworld.prepare.pipeline.run_task", functools.partial(crash_on, "img6.jpg"))  # 7th image
        with pytest.raises(KeyboardInterrupt):
            run(ten_images, out, workers=workers)
    assert not (out / "train.jsonl").exists()  # nothing half-written under a final name
    assert not list(out.glob("*.tmp")) and not list((out / "images").rglob("*.tmp"))
    done = _sidecars(out)
    assert 6 <= len(done) <= 9 if workers > 1 else len(done) == 6
    mtimes = {p: p.stat().st_mtime_ns for p in done}

    report = run(ten_images, out, workers=workers)
    images = report["splits"]["train"]["images"]
    assert images["reused"] == len(done) and images["written"] == 10 - len(done)
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())  # finished work not redone

    clean = tmp_path / "clean"
    run(ten_images, clean, workers=1)
    assert _normalised(out) == _normalised(clean)
    assert len(read_rows(out / "train.jsonl")) == 4 * 2 + 3 * 2 + 3  # balanced

    again = run(ten_images, out, workers=workers)  # a third run: everything reused
    assert again["splits"]["train"]["images"] == {"written": 0, "reused": 10, "resized": 0}


def test_worker_killed_then_resume(ten_images, tmp_path, monkeypatch):
    from seekworld.prepare.pipeline import PrepareError

    out = tmp_path / "out"
    with monkeypatch.context() as m:  # the worker process dies
        m.setattr("seekworld.prepare.pipeline.run_task", functools.partial(crash_on, "img5.jpg", hard=True))
        with pytest.raises(PrepareError, match="worker process died"):
            run(ten_images, out, workers=2)
    done = len(_sidecars(out))
    assert done < 10 and not (out / "train.jsonl").exists()
    report = run(ten_images, out, workers=2)
    assert report["splits"]["train"]["images"]["reused"] == done


def test_cli_interrupted_in_a_subprocess_then_resumed(ten_images, tmp_path):
    out = tmp_path / "out"
    # The prepare subcommand alone, as cli/main.py wires it (other subcommands are written in parallel).
    driver = (
        "import argparse, sys; from seekworld.cli import prepare as p; ap = argparse.ArgumentParser(); "
        "p.add_parser(ap.add_subparsers()).set_defaults(run=p.run); a = ap.parse_args(); sys.exit(a.run(a))"
    )
    # The first run stops on img3.jpg: the stand-in task is patched in before the CLI runs.
    crashing = (
        "import functools, seekworld.prepare.pipeline as pl; from helpers.crash import crash_on; "
        "pl.run_task = functools.partial(crash_on, 'img3.jpg'); "
    )
    cmd = [sys.executable, "-c", driver, "prepare", "--input", str(ten_images), "--output", str(out),
           "--no-progress"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    first_cmd = [*cmd[:2], crashing + driver, *cmd[3:]]
    first = subprocess.run(first_cmd, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 130 and "rerun the same command to resume" in first.stderr
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert "train: 17 rows (10 samples, 0 rejected)" in second.stdout
