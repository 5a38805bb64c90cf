"""Difficulty balancing: counts, determinism, which splits it applies to, spec parsing."""

from __future__ import annotations

from collections import Counter

import pytest
from helpers.prepare_data import read_rows, run

from seekworld.prepare.balance import BalanceError, balance, parse_balance


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("easy=2,medium=2,hard=1", {"easy": 2, "medium": 2, "hard": 1}),  # SeekWorld's best run
        (" Easy = 3 , HARD=0 ", {"easy": 3, "hard": 0}),  # case and spaces ignored; 0 leaves a class out
        ("unknown=2", {"unknown": 2}),  # rows without a difficulty
        ("none", None),  # off: input order kept
    ],
)
def test_parse_balance(spec, expected):
    assert parse_balance(spec) == expected


@pytest.mark.parametrize("spec", ["easy", "easy=1.5", "easy=-1", "easy=1,easy=2", "=2"])
def test_parse_balance_errors(spec):
    with pytest.raises(BalanceError):
        parse_balance(spec)


def test_seekworld_counts():
    # The release: easy 1,945 / medium 941 / hard 5,655 -> 3,890 + 1,882 + 5,655.
    items = [("easy", i) for i in range(1945)] + [("medium", i) for i in range(941)]
    items += [("hard", i) for i in range(5655)]
    out = balance(items, lambda x: x[0], {"easy": 2, "medium": 2, "hard": 1}, seed=0)
    assert Counter(x[0] for x, _ in out) == {"easy": 3890, "medium": 1882, "hard": 5655}
    assert len(out) == 11427
    # Deterministic per seed, different across seeds.
    assert out == balance(items, lambda x: x[0], {"easy": 2, "medium": 2, "hard": 1}, seed=0)
    assert out != balance(items, lambda x: x[0], {"easy": 2, "medium": 2, "hard": 1}, seed=1)


def test_unknown_difficulty_weight():
    items = ["a", "b"]
    assert len(balance(items, lambda _: None, {"easy": 2}, seed=0)) == 2  # default weight 1
    assert len(balance(items, lambda _: None, {"unknown": 3}, seed=0)) == 6


def test_prepare_sample_balancing_and_determinism(sample_dir, tmp_path):
    src = sample_dir / "lmm_r1.jsonl"
    report = run(src, tmp_path / "a", seed=7)
    s = report["splits"]["train"]
    assert s["difficulty_before"] == {"easy": 4, "hard": 11, "medium": 5}
    assert s["difficulty_after"] == {"easy": 8, "hard": 11, "medium": 10}
    rows = read_rows(tmp_path / "a" / "train.jsonl")
    assert len(rows) == s["rows"] == 29
    assert Counter(r["copy"] for r in rows) == {0: 20, 1: 9}
    # Same input and seed: byte-identical output (the paths differ only by the output folder).
    run(src, tmp_path / "b", seed=7)
    a = (tmp_path / "a" / "train.jsonl").read_text().replace(str(tmp_path / "a"), "DIR")
    b = (tmp_path / "b" / "train.jsonl").read_text().replace(str(tmp_path / "b"), "DIR")
    assert a == b
    run(src, tmp_path / "c", seed=8)
    c = (tmp_path / "c" / "train.jsonl").read_text().replace(str(tmp_path / "c"), "DIR")
    assert c != a and sorted(c.splitlines()) == sorted(a.splitlines())  # same rows, other order


def test_default_balance_only_for_train_splits(sample_dir, tmp_path):
    src = sample_dir / "lmm_r1.jsonl"
    report = run([("train", src), ("global_test", src)], tmp_path / "out")
    assert report["splits"]["train"]["rows"] == 29
    assert report["splits"]["global_test"]["rows"] == 20  # a test split is never repeated by default
    assert [r["id"] for r in read_rows(tmp_path / "out" / "global_test.jsonl")][:2] == [
        "ru-moscow",
        "gr-attica",
    ]
    # An explicit spec applies to every split.
    report = run([("global_test", src)], tmp_path / "out2", balance={"hard": 3})
    assert report["splits"]["global_test"]["rows"] == 9 + 11 * 3
