"""`seekworld score` end to end, through the console entry point."""

import json
import subprocess
import sys


def run_score(tmp_path, rows, *extra):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "seekworld", "score", "--input", str(src), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc


def test_score_outputs_components_and_ids(tmp_path):
    rows = [
        {
            "id": 1,
            "response": "<think>signs</think><answer>中国，广东省</answer>",
            "label": "$china,guangdong$",
        },
        {"id": 2, "response": "<think>x</think><answer>China, Hunan</answer>", "label": "$china,henan$"},
    ]
    proc = run_score(tmp_path, rows)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, 2]
    assert out[0]["accuracy"] == 1.0 and out[0]["format"] == 1.0 and out[0]["reward"] == 1.5
    assert out[0]["gold_ids"] == {"country": "CN", "region": "CN-GD"}
    assert out[0]["answer_ids"] == out[0]["gold_ids"]
    assert out[1]["accuracy"] == 0.0 and out[1]["answer_ids"]["region"] == "CN-HN"
    assert out[1]["answer_reason"] == "wrong region"
    assert "length" in out[0]
    assert "scored 2 rows" in proc.stderr and "accuracy 0.5000" in proc.stderr


def test_bad_lines_are_reported_and_skipped(tmp_path):
    rows = [
        "{not json",
        {"response": "x"},
        {"response": "<think>a</think><answer>Japan, Osaka</answer>", "label": "$japan,osaka$"},
        {"response": "<think>a</think><answer>Japan, Osaka</answer>", "label": "{bad"},
    ]
    output = tmp_path / "out.jsonl"
    proc = run_score(tmp_path, rows, "--output", str(output), "--reward", "rule+length")
    assert proc.returncode == 0
    assert ":1: skipped" in proc.stderr and ":2: skipped: missing label" in proc.stderr
    assert ":4: label:" in proc.stderr
    out = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(out) == 2
    assert out[0]["accuracy"] == 1.0 and out[0]["reward"] > 1.5  # length counted in
    assert out[1]["reward"] == 0.0 and out[1]["error"].startswith("label:")
    # Two rows scored (one with a label error); the two unreadable lines are counted apart.
    assert "scored 2 rows (1 with errors, 2 lines skipped)" in proc.stderr


def test_unknown_variant_is_a_usage_error(tmp_path):
    proc = run_score(tmp_path, [], "--reward", "rulez")
    assert proc.returncode == 2
    assert "Did you mean: rule" in proc.stderr


def test_missing_extra_is_named(monkeypatch, capsys):
    """A subcommand whose dependencies are not installed says which extra to install."""
    import sys
    import types

    from seekworld.cli import main as cli_main

    fake = types.ModuleType("seekworld.cli.fake_serve")  # a subcommand whose run() lacks a package
    fake.add_parser = lambda sub: sub.add_parser("serve")

    def run(args):
        raise ModuleNotFoundError("No module named 'gunicorn'", name="gunicorn")

    fake.run = run
    monkeypatch.setitem(sys.modules, "seekworld.cli.fake_serve", fake)
    monkeypatch.setattr(cli_main, "SUBCOMMANDS", {"serve": "fake_serve"})
    assert cli_main.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "seekworld serve: needs the Python package 'gunicorn', which is not installed; "
        "install the extra: pip install 'seekworld[serve]'"
    )
