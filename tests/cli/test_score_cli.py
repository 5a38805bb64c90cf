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
    assert proc.returncode == 1  # lines were not scored: the run says so in its status
    assert ":1: skipped" in proc.stderr and ":2: skipped: missing label" in proc.stderr
    assert ":4: label:" in proc.stderr
    out = [json.loads(line) for line in output.read_text().splitlines()]
    assert len(out) == 2
    assert out[0]["accuracy"] == 1.0 and out[0]["reward"] > 1.5  # length counted in
    assert out[1]["reward"] == 0.0 and out[1]["error"].startswith("label:")
    # Two rows scored (one with a label error); the two unreadable lines are counted apart.
    assert "scored 2 rows (1 with errors, 2 lines skipped, 0 labels not in the gazetteer)" in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "seekworld score: 2 of 4 lines skipped (lines 1, 2); 1 of 4 lines whose label could not be read "
        "(line 4); fix them, or pass --allow-skipped to accept them"
    )


def test_skipped_lines_fail_the_run_unless_accepted(tmp_path):
    good = {"response": "<think>a</think><answer>Japan, Osaka</answer>", "label": "$japan,osaka$"}
    rows = [good, "[1]", good, good, good]  # 1 of 5 lines skipped
    assert run_score(tmp_path, [good, good]).returncode == 0
    proc = run_score(tmp_path, rows)
    assert proc.returncode == 1
    assert "1 of 5 lines skipped (line 2)" in proc.stderr.splitlines()[-1]
    assert len(proc.stdout.splitlines()) == 4  # the good rows are still written
    accepted = run_score(tmp_path, rows, "--allow-skipped")
    assert accepted.returncode == 0 and accepted.stdout == proc.stdout
    assert accepted.stderr.splitlines()[-1].endswith("(accepted: --allow-skipped)")


def test_labels_not_in_the_gazetteer_are_named_and_counted(tmp_path):
    rows = [
        {"response": "<answer>Atlantis, Poseidonia</answer>", "label": "$atlantis,poseidonia$"},
        {"response": "<answer>China, Foo</answer>", "label": "$china,foo$"},
        {"response": "<answer>China, Sichuan</answer>", "label": "$china,sichuan$"},
    ]
    proc = run_score(tmp_path, rows)
    # Scored by their names (a gap in the table never fails a right answer): named, counted, exit 0.
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    src = tmp_path / "in.jsonl"
    assert lines[0] == (
        f"{src}:1: label '$atlantis,poseidonia$': 'atlantis' is not a country name in the gazetteer"
    )
    assert lines[1] == (
        f"{src}:2: label '$china,foo$': 'foo' is not a first-level region of CN in the gazetteer"
    )
    assert "2 labels not in the gazetteer" in lines[2]
    regions = [json.loads(line)["gold_ids"]["region"] for line in proc.stdout.splitlines()]
    assert regions == [None, None, "CN-SC"]


def test_a_flood_of_bad_lines_prints_twenty_then_counts(tmp_path):
    proc = run_score(tmp_path, ["[1]"] * 500)
    lines = proc.stderr.splitlines()
    assert proc.returncode == 1 and len(lines) == 20 + 2  # 20 messages, the summary, the verdict
    assert lines[-1].startswith("seekworld score: 500 of 500 lines skipped (lines 1, 2, 3, 4, 5, …)")


def test_unknown_variant_is_a_usage_error(tmp_path):
    proc = run_score(tmp_path, [], "--reward", "rulez")
    assert proc.returncode == 2
    assert "Did you mean: rule" in proc.stderr


def test_country_credit_out_of_range_is_a_one_line_error(tmp_path):
    for value in ("5", "-0.5"):
        proc = run_score(tmp_path, [], "--country-credit", value)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [
            "seekworld score: --country-credit must be "
            f"{'<= 1' if value == '5' else '>= 0'}, got {float(value)}"
        ]


def test_distance_variant_still_reports_accuracy_and_format(tmp_path):
    row = {
        "response": "<think>x</think><answer>Spain, Galicia, 42.88, -8.54</answer>",
        "label": {"country": "Spain", "region": "Galicia", "lat": 42.88, "lon": -8.54},
    }
    proc = run_score(tmp_path, [row], "--reward", "distance")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["accuracy"] == 1.0 and out["format"] == 1.0 and out["distance"] > 0.99
    assert out["reward"] == out["distance"] and out["distance_km"] < 1


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
