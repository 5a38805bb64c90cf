"""`seekworld eval --compare`: paired difference and McNemar on shared prompts, by hand."""

import json

import pytest

from seekworld.cli.main import main
from seekworld.eval.compare import compare_runs


def _write_run(path, model, correct, ids):
    path.mkdir()
    with open(path / "predictions.jsonl", "w") as f:
        for i in ids:
            source = "Global-Test" if i <= 6 else "China-Test"
            row = {
                "key": f"{source}/{i}",
                "sample": 0,
                "model": model,
                "datasource": source,
                "accuracy": float(i in correct),
            }
            f.write(json.dumps(row) + "\n")


@pytest.fixture
def runs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write_run(a, "base", {1, 2, 3, 4, 5}, range(1, 11))
    _write_run(b, "tuned", {1, 2, 3, 6, 7, 8, 9, 11}, range(1, 12))  # id 11 only in B
    return a, b


def test_compare_by_hand(runs):
    result = compare_runs(*runs, resamples=500)
    assert result["shared"] == 10 and result["b"]["prompts"] == 11
    overall = result["overall"]
    assert overall["a"]["value"] == pytest.approx(0.5) and overall["b"]["value"] == pytest.approx(0.7)
    assert overall["difference"]["value"] == pytest.approx(0.2)
    lo, hi = overall["difference"]["ci"]
    assert lo <= 0.2 <= hi and lo < 0 < hi  # ten prompts cannot tell these apart
    g, c = result["by_datasource"]["Global-Test"], result["by_datasource"]["China-Test"]
    assert (g["n"], c["n"]) == (6, 4)
    assert g["difference"]["value"] == pytest.approx(4 / 6 - 5 / 6)
    assert c["difference"]["value"] == pytest.approx(3 / 4)
    m = result["mcnemar"]
    # A right/B wrong: 4, 5; A wrong/B right: 6, 7, 8, 9 -> p = 2·P(X ≤ 2), X ~ Bin(6, ½) = 44/64.
    assert (m["a_right_b_wrong"], m["a_wrong_b_right"], m["n"]) == (2, 4, 10)
    assert m["p_value"] == pytest.approx(44 / 64)


def test_compare_cli(runs, tmp_path, capsys):
    out = tmp_path / "cmp.json"
    assert main(["eval", "--compare", str(runs[0]), str(runs[1]), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "# tuned (B) vs base (A)" in printed
    assert "| Overall | 10 | 50.00 | 70.00 | +20.00 [" in printed and "p = 0.6875" in printed
    assert json.loads(out.read_text())["mcnemar"]["p_value"] == pytest.approx(0.6875)
    assert main(["eval", "--compare", str(runs[0]), str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_verdict_line_says_whether_the_difference_is_significant(tmp_path, runs, capsys):
    assert main(["eval", "--compare", str(runs[0]), str(runs[1])]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Verdict:"))
    assert line.startswith("Verdict: B − A = +20.00 points (95% CI [")
    assert "McNemar p = 0.688: not significant at 0.05." in line
    # 12 prompts B gets right and A wrong, none the other way: p = 2/2^12, significant.
    a, b = tmp_path / "a2", tmp_path / "b2"
    _write_run(a, "same", set(), range(1, 13))
    _write_run(b, "same", set(range(1, 13)), range(1, 13))
    assert main(["eval", "--compare", str(a), str(b)]) == 0
    printed = capsys.readouterr().out
    assert f"# same ({b}) (B) vs same ({a}) (A)" in printed  # one model name, told apart
    line = next(x for x in printed.splitlines() if x.startswith("Verdict:"))
    assert "+100.00 points" in line and "McNemar p = 0.000488: significant at 0.05 (B better)." in line
