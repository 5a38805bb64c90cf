"""Training curves (`seekworld train --plot RUN_DIR`): which panels a run's keys fill, what is skipped,
and the PNG itself."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seekworld.cli.main import main
from seekworld.errors import UsageError
from seekworld.train.curves import (
    MAX_PLACES,
    PLOT_FILE,
    panels,
    plot_at_end,
    plot_run,
    read_metrics,
    series,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def trl_row(step: int) -> dict:
    """A row of TRL's own numbers and the reward components, without the monitors (abridged)."""
    return {
        "step": step,
        "reward": 0.5 + step / 100,
        "format": 1.0,
        "accuracy": step / 100,
        "rewards/format/mean": 1.0,
        "rewards/accuracy/mean": step / 100,
        "frac_reward_zero_std": 0.0,
        "entropy": 0.1,
        "completions/mean_length": 22.0,
        "learning_rate": 1e-3,
    }


def monitored_row(step: int) -> dict:
    """That row plus the keys of held-out evaluation (every 5 steps) and of the monitors."""
    row = trl_row(step) | {
        "top_answer_share": 0.5,
        "top_label_share": 0.5,
        "padding_share": 0.0,
        "hedge_rate": 0.0,
        "format_failure_rate": 0.0,
        "judge_rule_disagreement": 0.1,
        "reasoning_length": 12.0,
    }
    row.update({f"accuracy/P{i:02d}": 0.5 for i in range(MAX_PLACES + 3)})
    if step % 5 == 0:
        row |= {"eval_accuracy": 0.6, "eval_country_accuracy": 0.7, "eval_format": 1.0}
    return row


def write_run(folder: Path, rows: list[dict], tail: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + tail)
    return folder


def test_trl_keys_without_monitors_fill_reward_accuracy_collapse_and_length_panels():
    chosen = panels([trl_row(s) for s in range(1, 11)])
    assert [p.title.split(" ")[0] for p in chosen] == ["Reward", "Accuracy:", "Collapse:", "Completion"]
    assert chosen[0].keys == ("reward", "format", "accuracy")  # components: a key with rewards/<key>/mean
    assert chosen[1].keys == ("accuracy",)  # no held-out keys: only the training samples' line
    assert chosen[2].keys == ("frac_reward_zero_std", "entropy")
    assert "learning_rate" not in {k for p in chosen for k in p.keys}


def test_every_assumed_key_is_drawn_and_places_are_capped():
    chosen = panels([monitored_row(s) for s in range(1, 11)])
    keys = {k for p in chosen for k in p.keys}
    for key in (
        "eval_accuracy",
        "eval_country_accuracy",
        "eval_format",
        "top_answer_share",
        "top_label_share",
        "padding_share",
        "hedge_rate",
        "format_failure_rate",
        "judge_rule_disagreement",
        "reasoning_length",
    ):
        assert key in keys
    places = next(p for p in chosen if p.title.startswith("Accuracy per place"))
    assert len(places.keys) == MAX_PLACES
    assert "3 more not shown" in places.title


def test_a_key_logged_on_some_steps_is_drawn_at_those_steps_only():
    rows = [monitored_row(s) for s in range(1, 11)]
    rows[2]["eval_accuracy"] = float("nan")  # never a point
    rows[4]["eval_accuracy"] = True  # a bool is not a number here
    assert series(rows, "eval_accuracy") == ([10.0], [0.6])
    assert series(rows, "accuracy")[0] == [float(s) for s in range(1, 11)]


def test_evaluation_rows_of_their_own_are_drawn_at_their_steps(tmp_path):
    rows = [trl_row(s) for s in range(1, 11)]
    rows += [{"step": s, "eval_accuracy": 0.5 + s / 100, "eval_runtime": 3.0} for s in (5, 10)]
    accuracy = next(p for p in panels(rows) if p.title.startswith("Accuracy:"))
    assert accuracy.keys == ("accuracy", "eval_accuracy")  # eval_runtime is not a curve anyone reads
    assert series(rows, "eval_accuracy") == ([5.0, 10.0], [0.55, 0.6])
    assert plot_run(write_run(tmp_path / "run", rows)).read_bytes().startswith(PNG_MAGIC)


def test_unreadable_lines_are_skipped_and_counted(tmp_path):
    run = write_run(
        tmp_path / "run", [trl_row(1), trl_row(2)], tail='[1, 2]\n{"step": "x"}\n{"step": 3, "rew'
    )
    rows, skipped = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2]
    assert skipped == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=20))
def test_any_file_reads_into_rows_with_a_numeric_step(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("m") / "metrics.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    rows, skipped = read_metrics(path)
    assert all(isinstance(r["step"], (int, float)) and math.isfinite(r["step"]) for r in rows)
    with open(path, encoding="utf-8") as f:  # the lines a reader sees (not str.splitlines's)
        assert len(rows) + skipped == sum(1 for line in f if line.strip())


def test_plot_run_writes_one_png_beside_metrics(tmp_path):
    run = write_run(tmp_path / "run", [monitored_row(s) for s in range(1, 61)])
    out = plot_run(run)
    assert out == run / PLOT_FILE
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert {p.name for p in run.iterdir()} == {"metrics.jsonl", PLOT_FILE}  # no temporary file left


def test_a_folder_without_metrics_or_numbers_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        plot_run(tmp_path)
    write_run(tmp_path / "empty", [], tail="not json\n")
    with pytest.raises(UsageError, match="no step with a number"):
        plot_run(tmp_path / "empty")
    assert plot_at_end(tmp_path) is None  # the end of a run: a line, never an exception


def test_cli_plot_draws_and_exits_0_or_says_why_with_2(tmp_path, capsys):
    run = write_run(tmp_path / "run", [trl_row(s) for s in range(1, 6)])
    assert main(["train", "--plot", str(run)]) == 0
    assert capsys.readouterr().out.strip() == str(run / PLOT_FILE)
    assert (run / PLOT_FILE).read_bytes().startswith(PNG_MAGIC)
    assert main(["train", "--plot", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert "metrics.jsonl does not exist" in err and len(err.splitlines()) == 1
