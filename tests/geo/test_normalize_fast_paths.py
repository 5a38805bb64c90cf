"""normalize's regex fast paths give exactly what the character-by-character definitions give
(the committed gazetteer's keys depend on it: the table must rebuild byte for byte)."""

import random
import unicodedata

import pytest

from seekworld.geo import normalize as n
from seekworld.text.canonical import fold_table

_POOL = (
    [chr(c) for c in range(0x20, 0x250)]
    + [chr(c) for c in range(0x300, 0x370)]  # combining marks
    + [chr(c) for c in range(0x900, 0x980)]  # Devanagari: vowel signs that must stay
    + [chr(c) for c in range(0x3040, 0x3100)]  # kana, dakuten
    + [chr(c) for c in range(0xFF00, 0xFF70)]  # full-width forms
    + list("廣東臺灣國語łøđðþæœıħŀ'’‘ʼ`´ʻ،؟«»—–·")
)


def _samples(seed: int, count: int = 3000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_POOL) for _ in range(rng.randint(1, 24))) for _ in range(count)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strip_marks_fast_path_matches_the_definition(seed):
    for text in _samples(seed):
        text = unicodedata.normalize("NFKC", text)
        assert n._strip_marks(text, False) == n._strip_marks_slow(text), repr(text)


@pytest.mark.parametrize("seed", [3, 4])
def test_separator_and_translate_fast_paths_match_str_translate(seed):
    for text in _samples(seed):
        # runs of separators become one space; normalize collapses spaces afterwards anyway
        slow = "".join(" " if n._is_separator(ch) else ch for ch in text)
        assert n._separators_to_spaces(text, False).split() == slow.split(), repr(text)
        assert n._translate(text, n._t2s_sub(), False) == text.translate(n._t2s_table())
        folds = {**fold_table(), **n._LETTER_FOLDS, **n._APOSTROPHES}
        assert n._translate(text, n._folds_sub(), False) == text.translate(folds)


def test_text_past_the_basic_plane_takes_the_exact_path():
    # a mathematical bold A (astral) with an accent: a Latin letter, so the accent goes
    assert n.normalize("𝐀\u0301rea") == "area"
    assert n.normalize("😀 Guangdong") == "guangdong"
