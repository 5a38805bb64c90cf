"""The reward-hacks benchmark's catalogue, checked on a few base responses: no hack pays under
`rule`, nor under `rule+length` beyond the first copy of a new sentence (new text: its 46 letters
earn 0.05 of the length cap), except the one the table marks as not caught; padding pays under
SeekWorld's exact rule."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_reward_hacks.py"
_spec = importlib.util.spec_from_file_location("bench_reward_hacks", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

PAIRS = zip(bench.REASONING[:4:3], bench.PLACES, strict=False)  # English and Spanish reasoning
BASES = [
    (ok, label, answer, second, ("", reasoning, f"\n<answer>{answer}</answer>"))
    for (_, reasoning), (label, right, wrong, second) in PAIRS
    for ok, answer in ((True, right), (False, wrong))
]


@pytest.mark.parametrize("name", list(bench.HACKS))
def test_no_hack_pays(name):
    for ok, label, answer, second, response in BASES:
        before = bench._rewards(bench._text(response), label)
        after = bench._rewards(bench._text(bench.HACKS[name](response, answer, second)), label)
        rule, with_length = after[0] - before[0], after[1] - before[1]
        assert rule <= 1e-9, (name, ok)
        if "(not caught)" not in name:
            assert with_length <= (0.0011 * 46 + 1e-9 if ok else 1e-9), (name, ok, with_length)


def test_padding_pays_under_seekworlds_exact_rule():
    _, label, answer, second, response = BASES[0]
    before = bench._rewards(bench._text(response), label)[2]
    for name, hack in bench.HACKS.items():
        if name.startswith("pad: x * 2000"):
            assert bench._rewards(bench._text(hack(response, answer, second)), label)[2] > before + 0.5
