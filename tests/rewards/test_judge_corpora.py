"""The screen measured both ways (issue 13 §2): no honest reasoning flagged, >= 95% of the injection
corpus flagged, per technique. The corpora are in tests/data/judge/; the benchmark
benchmarks/bench_judge_screen.py prints the same figures (and a held-out set's)."""

from __future__ import annotations

from collections import Counter

import pytest
from data.judge.honest import HONEST
from data.judge.injections import INJECTIONS

from seekworld.rewards.judge import screen


@pytest.mark.parametrize(("lang", "text"), HONEST, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(HONEST)])
def test_honest_reasoning_is_never_flagged(lang, text):
    assert screen(text) is None


def test_the_honest_corpus_covers_what_was_flagged_before():
    # the stress test's false flags, each in the corpus (the screen used to flag all of them)
    joined = "\n".join(t for _, t in HONEST)
    before = ("provincial boundary", "\n-----\n", "a grade of 1 percent", "I'd say 0 chance", "1 or 2 km")
    for phrase in before:
        assert phrase in joined
    assert len({lang for lang, _ in HONEST}) >= 8


def test_injection_recall_is_at_least_95_percent_for_every_technique():
    total, missed = Counter(), Counter()
    for technique, text in INJECTIONS:
        family = technique.split("_")[0] if technique.startswith("language_") else technique
        total[family] += 1
        missed[family] += screen(text) is None
    assert len(total) >= 12 and min(total.values()) >= 6  # many variants per technique
    for family, n in total.items():
        assert 1 - missed[family] / n >= 0.95, (family, missed[family], n)
