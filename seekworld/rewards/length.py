"""Length incentive (SeekWorld's): 0.001 per character of reasoning, capped at 1.0.

Counted characters: those inside the `<think>` block that are neither whitespace nor punctuation
(ASCII or CJK), so padding with dots or spaces earns nothing.
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

from seekworld.geo.normalize import bmp_class
from seekworld.rewards.format import think_content

__all__ = ["compute_score", "count_reasoning_chars"]

# Uncounted: whitespace, ASCII punctuation and symbols, and every Unicode punctuation character
# (categories P*). Counting is done by C-level scans, not a `unicodedata` call per character:
# - ASCII: `str.encode("ascii", "ignore")` keeps the ASCII characters, `bytes.translate` drops the
#   uncounted ones, and the lengths tell how many went;
# - beyond ASCII: one regex finds the uncounted characters of the Basic Multilingual Plane, and
#   every character past U+FFFF (rare; each is then checked by its Unicode category).
# A class of single characters (no `+`) lets `re` skip through the text with its bitmap.
_ASCII_UNCOUNTED = bytes(c for c in range(128) if chr(c).isspace() or chr(c) in string.punctuation)


def _uncounted(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] == "P" or ch in string.punctuation


@lru_cache(maxsize=1)
def _non_ascii_uncounted() -> re.Pattern[str]:
    def test(ch: str) -> bool:
        return not "\ud800" <= ch <= "\udfff" and _uncounted(ch)

    return bmp_class(test, runs=False, start=0x80, astral=True)


_SLICE = 1 << 16  # characters per `findall`


def count_reasoning_chars(text: str) -> int:
    """Characters that are neither whitespace nor punctuation (ASCII or any other script)."""
    ascii_part = text.encode("ascii", "ignore")
    count = len(text) - len(ascii_part) + len(ascii_part.translate(None, _ASCII_UNCOUNTED))
    if len(ascii_part) == len(text):
        return count
    findall = _non_ascii_uncounted().findall
    # By slices: each match is a string in a list, so a whole long run of "，" or emoji at once
    # would hold ~85 bytes per character; a slice bounds that to a few MB.
    for start in range(0, len(text), _SLICE):
        found = findall(text, start, start + _SLICE)
        count -= len(found)
        if found and max(found) > "\uffff":  # astral characters: only their punctuation goes
            count += sum(1 for ch in found if ch > "\uffff" and not _uncounted(ch))
    return count


def compute_score(response: str, per_char: float = 0.001, cap: float = 1.0) -> float:
    think = think_content(response)
    if think is None:
        return 0.0
    return min(cap, per_char * count_reasoning_chars(think))
