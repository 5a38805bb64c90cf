"""`seekworld prepare` on the command line: quickstart, splits, prompt templates, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.prepare_data import read_rows

from seekworld.cli.main import SUBCOMMANDS, main
from seekworld.cli.prepare import parse_inputs
from seekworld.prepare.prompts import DEFAULT_QUESTION, DEFAULT_SYSTEM

REPO = Path(__file__).resolve().parents[2]


def test_registered_in_the_cli():
    assert SUBCOMMANDS["prepare"] == "prepare"


def test_quickstart(sample_dir, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["prepare", "--input", str(sample_dir / "lmm_r1.jsonl"), "--output", str(out), "--no-progress"])
    assert rc == 0
    stdout = capsys.readouterr().out
    assert "train: 29 rows (20 samples, 0 rejected)" in stdout
    for name in ("train.jsonl", "rejected.jsonl", "report.json", "report.md", "countries.png"):
        assert (out / name).exists(), name
    assert (out / "countries.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    row = read_rows(out / "train.jsonl")[0]
    assert row["prompt"] == [
        {"role": "system", "content": DEFAULT_SYSTEM},
        {"role": "user", "content": "<image>" + DEFAULT_QUESTION},
    ]
    assert "<think></think>" in DEFAULT_SYSTEM and "<answer>$Japan,Osaka$</answer>" in DEFAULT_SYSTEM


def test_split_prefixes_and_workers(sample_dir, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(
        ["prepare", "--input", f"train={sample_dir / 'lmm_r1.jsonl'}", "--input",
         f"china_test={sample_dir / 'table.csv'}", "--output", str(out), "--workers", "2", "--no-progress"]
    )  # fmt: skip
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["splits"]) == {"train", "china_test"}
    assert len(report["leakage"]) == 20  # the same 20 pictures in both: all flagged
    assert "warning: 20 image(s) appear in more than one split" in capsys.readouterr().out


def test_parse_inputs(tmp_path):
    odd = tmp_path / "a=b.jsonl"
    odd.write_text("")
    assert parse_inputs(["x.jsonl", "test=y.csv", str(odd), "hf:org/name:test"], "train") == [
        ("train", "x.jsonl"),
        ("test", "y.csv"),
        ("train", str(odd)),  # an existing path is never split on '='
        ("train", "hf:org/name:test"),
    ]


def test_prompt_templates(sample_dir, tmp_path):
    src = str(sample_dir / "lmm_r1.jsonl")
    tpl = tmp_path / "tpl.json"
    tpl.write_text(json.dumps({"system": None, "question": "{question}"}))
    assert main(["prepare", "--input", src, "--output", str(tmp_path / "a"), "--prompt-template", str(tpl),
                 "--balance", "none", "--no-progress"]) == 0  # fmt: skip
    row = read_rows(tmp_path / "a" / "train.jsonl")[0]
    own = json.loads(json.loads((sample_dir / "lmm_r1.jsonl").read_text().splitlines()[0])["message"])
    assert row["prompt"] == [{"role": "user", "content": "<image>" + own[0]["content"][1]["text"]}]

    txt = tmp_path / "q.txt"
    txt.write_text("Guess {the} place: $country,region$ <image>\n")  # braces are literal; tag placed
    assert main(["prepare", "--input", src, "--output", str(tmp_path / "b"), "--prompt-template", str(txt),
                 "--no-progress"]) == 0  # fmt: skip
    row = read_rows(tmp_path / "b" / "train.jsonl")[0]
    assert row["prompt"] == [
        {"role": "system", "content": DEFAULT_SYSTEM},
        {"role": "user", "content": "Guess {the} place: $country,region$ <image>"},
    ]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--input", "{missing}"], "does not exist"),
        (["--balance", "easy=two"], "whole number"),
        (["--input-format", "lmm_r1"], "Did you mean: lmm-r1"),
        (["--max-pixels", "100"], "--max-pixels must be at least 3136"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--prompt-template", "{missing}"], "cannot read prompt template"),
        (["--prompt-template", "{badtpl}"], "unknown keys"),
        (["--split", "report"], "bad split name"),
    ],
)
def test_errors_are_clear(args, message, sample_dir, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"sytem": "typo"}')
    subs = {"{missing}": str(tmp_path / "nope.jsonl"), "{badtpl}": str(bad)}
    args = [subs.get(a, a) for a in args]
    base = ["prepare", "--output", str(tmp_path / "out"), "--no-progress"]
    if "--input" not in args:
        base += ["--input", str(sample_dir / "lmm_r1.jsonl")]
    assert main(base + args) == 2
    err = capsys.readouterr().err
    assert err.startswith("seekworld prepare: ") and message in err
    assert err.count("\n") == 1, err  # one line, no traceback


def test_bad_flags_exit_non_zero(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["prepare", "--output", str(tmp_path)])  # no --input
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["prepare", "--input", "x", "--output", str(tmp_path), "--label-format", "xml"])
    assert exc.value.code == 2


def test_help_imports_nothing_heavy():
    code = (
        "import argparse, sys; from seekworld.cli import prepare; "
        "prepare.add_parser(argparse.ArgumentParser().add_subparsers()); "
        "print([m for m in ('seekworld.prepare.pipeline', 'PIL', 'datasets') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_knobs_split_datasource_min_side_input_format(tmp_path, capsys):
    from helpers.prepare_data import lmm_r1_row, make_image, write_jsonl

    rows = [
        lmm_r1_row(str(make_image(tmp_path / "big.jpg", (120, 90), seed=1)), "$japan,osaka$", id="big"),
        lmm_r1_row(str(make_image(tmp_path / "small.jpg", (90, 70), seed=2)), "$japan,osaka$", id="small"),
    ]
    src = write_jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "out"
    rc = main(["prepare", "--input", str(src), "--input-format", "lmm-r1", "--output", str(out), "--split",
               "val", "--datasource", "global", "--min-side", "80", "--no-progress"])  # fmt: skip
    assert rc == 0
    [row] = read_rows(out / "val.jsonl")
    assert (row["id"], row["datasource"]) == ("big", "global")
    [rej] = read_rows(out / "rejected.jsonl")
    assert (rej["id"], rej["reason"], rej["split"]) == ("small", "too_small", "val")
    # Forcing the wrong reader is an error that names the problem, not a crash.
    assert main(["prepare", "--input", str(src), "--input-format", "table", "--output", str(out)]) == 2
    assert "no image column" in capsys.readouterr().err


@pytest.mark.parametrize("input_format", ["auto", "table"])
def test_a_bare_image_folder_is_refused_before_any_output_is_made(input_format, sample_dir, tmp_path, capsys):
    bare = tmp_path / "photos"
    bare.mkdir()
    for image in sorted((sample_dir / "images").iterdir())[:3]:
        (bare / image.name).write_bytes(image.read_bytes())
    out = tmp_path / "out"
    argv = ["prepare", "--input", str(bare), "--input-format", input_format, "--output", str(out)]
    assert main([*argv, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"seekworld prepare: {bare}") and "metadata.csv" in err
    assert err.count("\n") == 1, err
    assert not out.exists()  # docs/prepare.md: inputs are checked before any output folder is made


def test_countries_chart_legend_covers_no_bar():
    from seekworld.prepare.report import countries_figure

    counts = {"RU": 9, "JP": 5, "AU": 1}  # the shortest bar, last, is where a corner legend sat
    report = {"splits": {"train": {"countries": counts}, "test": {"countries": {"AU": 1}}}}
    fig = countries_figure(report)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in fig.axes[0].patches]
    assert len(bars) == 6 and not any(box.overlaps(bar) for bar in bars)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1  # and the legend is inside the image
    assert [t.get_text() for t in legend.get_texts()] == ["train", "test"]
