"""The learning canary: the whole RL loop learns from pixels.

The cheapest setting of `benchmarks/bench_learn_toy.py` that learned on every seed tried (docs/
benchmarks.md has the table): two places told apart by colour alone, `seekworld train --backend trl`
with the tiny random Qwen2.5-VL (format warm-up on the data's own places, then GRPO with the `rule`
reward), then `seekworld eval --engine transformers` on fresh pictures never trained on. The
warmed-up model cannot see which place a picture is (its replies were drawn independently of the
picture), so greedy decoding names one place for every picture: accuracy 0.5. Nothing is stood in.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_learn_toy.py"
_spec = importlib.util.spec_from_file_location("bench_learn_toy", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

CANARY = [
    "--places", "2",
    "--clue", "solid",
    "--prompts-per-step", "8",
    "--samples", "8",
    "--lr", "2e-3",
    "--steps", "30",
    "--heldout-per-place", "25",
    "--seed", "0",
]  # fmt: skip


@pytest.mark.timeout(900)
def test_grpo_teaches_the_tiny_model_to_read_the_picture(tmp_path):
    args = bench.parse_args(CANARY)
    train, heldout = bench.write_data(tmp_path, args)  # refuses a held-out picture seen in training
    run = tmp_path / "run"
    bench.run_cli(bench.train_overrides(train, run, args), tmp_path / "train.log", echo=False)
    places = bench.PLACES[: args.places]
    preds = bench.evaluate(run, heldout, tmp_path / "eval", temperature=0.0, seed=args.seed)
    assert len(preds) == 2 * 25
    accuracy, per_place = bench.accuracy_by_place(preds, places)
    curve = "\n".join(bench.training_table(run / "metrics.jsonl"))
    assert accuracy >= 0.9, f"held-out greedy {accuracy:.2f} per place {per_place}; training:\n{curve}"
