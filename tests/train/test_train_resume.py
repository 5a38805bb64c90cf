"""Where a rerun resumes (`seekworld.train.resume`): TRL's `checkpoint-N` folders and OpenRLHF's
`ckpt/_actor/latest`, and the line preflight prints for each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seekworld.train.config import load_config
from seekworld.train.preflight import common
from seekworld.train.resume import (
    STAGING,
    checkpoint_problem,
    describe_resume,
    openrlhf_resume_point,
    trl_checkpoints,
    trl_resume_point,
)

WHOLE = {"trainer_state.json", "model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth"}


def trl_checkpoint(output: Path, step: int, files=WHOLE, state_step: int | None = None) -> Path:
    folder = output / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    for name in files:
        if name == "trainer_state.json":
            recorded = step if state_step is None else state_step
            (folder / name).write_text(json.dumps({"global_step": recorded}))
        else:
            (folder / name).write_bytes(b"x")
    return folder


@pytest.mark.parametrize(
    ("files", "state_step", "problem"),
    [
        (WHOLE, 5, None),
        (WHOLE - {"trainer_state.json"}, None, "no trainer_state.json"),
        (WHOLE, None, "trainer_state.json unreadable"),
        (WHOLE, 4, "trainer_state.json records step 4"),
        (WHOLE - {"model.safetensors"}, 5, "no model weights"),
        (WHOLE - {"optimizer.pt"}, 5, "no optimizer.pt"),
        ({"trainer_state.json", "global_step5"}, 5, None),  # DeepSpeed keeps weights and optimizer there
        ((WHOLE - {"model.safetensors"}) | {"model.safetensors.index.json"}, 5, None),
    ],
)
def test_checkpoint_problem(files, state_step, problem):
    assert checkpoint_problem(files, state_step, 5) == problem


def test_trl_resume_point_is_the_last_whole_checkpoint(tmp_path):
    trl_checkpoint(tmp_path, 10)
    trl_checkpoint(tmp_path, 20)
    trl_checkpoint(tmp_path, 30, WHOLE - {"trainer_state.json"})  # cut off by a non-atomic writer
    trl_checkpoint(tmp_path, 40, state_step=39)
    (tmp_path / "checkpoint-50").write_text("a file, not a checkpoint")
    (tmp_path / STAGING / "checkpoint-60").mkdir(parents=True)  # a staged write is never a checkpoint
    found = {c.step: c.problem for c in trl_checkpoints(tmp_path)}
    assert found == {
        10: None,
        20: None,
        30: "no trainer_state.json",
        40: "trainer_state.json records step 39",
    }
    assert trl_resume_point(tmp_path).path == tmp_path / "checkpoint-20"
    assert trl_resume_point(tmp_path / "nowhere") is None


def test_a_sharded_checkpoint_needs_every_shard(tmp_path):
    shard = "model-00001-of-00002.safetensors"
    files = (WHOLE - {"model.safetensors"}) | {"model.safetensors.index.json", shard}
    folder = trl_checkpoint(tmp_path, 3, files)
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    assert trl_checkpoints(tmp_path)[0].problem == "no model-00002-of-00002.safetensors"
    (folder / "model-00002-of-00002.safetensors").write_bytes(b"x")
    assert trl_resume_point(tmp_path).step == 3


def test_openrlhf_resume_point(tmp_path):
    actor = tmp_path / "_actor"
    assert openrlhf_resume_point(actor) is None
    actor.mkdir()
    assert "no `latest` file" in openrlhf_resume_point(actor).problem
    (actor / "latest").write_text("global_step40\n")
    assert "not there" in openrlhf_resume_point(actor).problem
    (actor / "global_step40").mkdir()
    assert "model_states.pt" in openrlhf_resume_point(actor).problem
    (actor / "global_step40" / "mp_rank_00_model_states.pt").write_bytes(b"x")
    point = openrlhf_resume_point(actor)
    assert point.problem is None and point.step == 40 and point.path == actor / "global_step40"


def test_preflight_reports_the_trl_resume_point(tmp_path):
    run = tmp_path / "run"

    def outputs(load: bool = True):
        overrides = ["backend=trl", f"checkpoint.save_path={run}", f"checkpoint.load={str(load).lower()}"]
        return common.check_outputs(load_config(overrides=overrides))

    assert outputs().ok and "no checkpoint to resume (starts fresh)" in outputs().detail
    trl_checkpoint(run, 20)
    trl_checkpoint(run, 30, WHOLE - {"optimizer.pt"})
    (run / STAGING / "checkpoint-40").mkdir(parents=True)
    result = outputs()
    assert result.ok and "resumes from checkpoint-20 (step 20)" in result.detail
    assert "checkpoint-30 is incomplete (no optimizer.pt): removed at start" in result.detail
    assert "(checkpoint-40): removed at start" in result.detail
    assert "starts fresh" in outputs(load=False).detail


def test_preflight_reports_the_openrlhf_resume_point(tmp_path):
    run = tmp_path / "run"
    config = load_config(overrides=["backend=openrlhf", f"checkpoint.save_path={run}"])
    assert "starts fresh" in common.check_outputs(config).detail
    actor = run / "ckpt" / "_actor"
    actor.mkdir(parents=True)  # a first save cut off: OpenRLHF 0.11.2 would stop with KeyError 'episode'
    bad = common.check_outputs(config)
    assert not bad.ok and "no `latest` file" in bad.detail and "checkpoint.load=false" in bad.detail
    (actor / "global_step8").mkdir()
    (actor / "global_step8" / "mp_rank_00_model_states.pt").write_bytes(b"x")
    (actor / "latest").write_text("global_step8")
    good = common.check_outputs(config)
    assert good.ok and "global_step8 (step 8)" in good.detail
    off = load_config(overrides=["backend=openrlhf", f"checkpoint.save_path={run}", "checkpoint.load=false"])
    assert "starts fresh" in common.check_outputs(off).detail


def test_describe_resume_never_fails_a_trl_run(tmp_path):
    trl_checkpoint(tmp_path, 5, {"model.safetensors"})
    ok, detail = describe_resume(tmp_path, "trl", True)
    assert ok and "starts fresh" in detail and "checkpoint-5 is incomplete" in detail
