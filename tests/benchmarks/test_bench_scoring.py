"""The scoring benchmark measures what its table says: distinct answers, new reasoning in the
warm pass, the answers unchanged. (Its timings are printed by the script, never asserted here.)"""

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_scoring.py"
_spec = importlib.util.spec_from_file_location("bench_scoring", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def _think(query: str) -> str:
    return query[query.index("<think>") : query.index("</think>")]


def test_workload_answers_are_distinct_and_avoid_another_set():
    queries, labels = bench.build(300, seed=1)
    answers = bench.answers_of(queries)
    assert len(queries) == len(labels) == len(answers) == 300
    fresh, _ = bench.build(300, seed=6, avoid=answers)
    assert not answers & bench.answers_of(fresh)


def test_new_reasoning_keeps_the_answer_and_changes_everything_before_it():
    queries, _ = bench.build(50, seed=1)
    again = bench.with_new_reasoning(queries, seed=4)
    assert bench.answers_of(again) == bench.answers_of(queries)
    assert all(_think(a) != _think(q) for a, q in zip(again, queries, strict=True))
    assert all(a.startswith(bench.PROMPT) and a.endswith("<|im_end|>") for a in again)
