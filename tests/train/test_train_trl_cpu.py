"""The main job end to end on CPU: `seekworld prepare` on the shipped sample, then `seekworld train`
with examples/configs/trl_cpu_smoke.toml (TRL GRPOTrainer, tiny offline Qwen2.5-VL, 3 steps), then
`seekworld eval --engine transformers` on the checkpoint. Nothing is stood in: real generation,
our reward functions, real updates."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.prepare_data import PREPARE_SAMPLE

from seekworld.rewards.scoring import score_response
from seekworld.rewards.variants import RewardConfig

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def _run(argv: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def _tensors(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("trl-smoke")
    _run([*PREPARE_SAMPLE, "--output", str(root / "data"), "--no-progress"], root, 300)
    train = _run(
        [
            sys.executable,
            "-m",
            "seekworld",
            "train",
            "--config",
            str(REPO / "examples/configs/trl_cpu_smoke.toml"),
            "--set",
            f"data.prompt_data={root / 'data/train.jsonl'}",
        ],
        root,  # the config's relative save_path lands here
        600,
    )
    (root / "train.log").write_text(train.stdout + train.stderr)
    return root / "checkpoints/trl-cpu-smoke"


def test_model_card_names_the_base_model_and_the_data(smoke_run):
    card = (smoke_run / "README.md").read_text()
    assert "[None]" not in card  # TRL's own card, for a model loaded from a folder
    assert "a tiny Qwen2.5-VL with random weights" in card
    data = smoke_run.parents[1] / "data/train.jsonl"
    assert f"| data | `{data}` (4 prompt rows" in card
    assert "| steps | 3 |" in card and "| reward | `rule`" in card


def test_train_prints_nothing_a_user_cannot_act_on(smoke_run):
    log = (smoke_run.parents[1] / "train.log").read_text()
    assert "PAD/BOS/EOS" not in log


def test_metrics_has_a_finite_reward_row_per_step(smoke_run):
    rows = [json.loads(line) for line in (smoke_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    for row in rows:
        for key in ("reward", "format", "accuracy"):
            assert math.isfinite(row[key])
        assert row["reward"] == pytest.approx(0.5 * row["format"] + 1.0 * row["accuracy"], abs=1e-6)


def test_logged_rewards_are_our_verifiers(smoke_run):
    samples = [json.loads(line) for line in (smoke_run / "samples.jsonl").read_text().splitlines()]
    metrics = {r["step"]: r for r in map(json.loads, (smoke_run / "metrics.jsonl").read_text().splitlines())}
    assert len(samples) == 3 * 8  # 1 prompt x 8 samples per step
    config = RewardConfig.from_variant("rule")
    for sample in samples:
        assert sample["reward"] == pytest.approx(
            score_response(sample["completion"], sample["label"], config).reward
        )
    for step, row in metrics.items():  # TRL's logged mean is the mean of what our functions returned
        mine = [s["reward"] for s in samples if s["step"] == step]
        assert row["reward"] == pytest.approx(sum(mine) / len(mine), abs=1e-5)


def test_the_run_ends_by_drawing_its_curves_beside_metrics(smoke_run):
    assert (smoke_run / "metrics.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_policy_weights_changed(smoke_run):
    before, after = _tensors(smoke_run / "tiny-random-init"), _tensors(smoke_run)
    assert before.keys() == after.keys()
    changed = [k for k in before if not (before[k] == after[k]).all()]
    assert changed, "no parameter changed: every advantage was 0 or no update ran"


def test_checkpoint_loads_in_eval(smoke_run, tmp_path):
    data = smoke_run.parents[1] / "data/train.jsonl"
    _run(
        [
            sys.executable,
            "-m",
            "seekworld",
            "eval",
            "--engine",
            "transformers",
            "--model",
            str(smoke_run),
            "--data",
            str(data),
            "--limit",
            "2",
            "--max-new-tokens",
            "16",
            "--device",
            "cpu",
            "--output",
            str(tmp_path / "eval"),
            "--no-progress",
        ],
        tmp_path,
        300,
    )
    predictions = (tmp_path / "eval/predictions.jsonl").read_text().splitlines()
    assert len(predictions) == 2
