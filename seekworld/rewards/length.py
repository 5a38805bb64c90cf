"""Length incentive (SeekWorld's): 0.001 per character of reasoning, capped at 1.0.

Counted characters: those inside the `<think>` block that are neither whitespace nor punctuation
(ASCII or CJK), so padding with dots or spaces earns nothing.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from seekworld.geo.normalize import ASTRAL, bmp_class
from seekworld.rewards.format import think_content

__all__ = ["compute_score", "count_reasoning_chars", "reasoning_counts"]

# Uncounted: whitespace, ASCII punctuation and symbols, and every Unicode punctuation character
# (categories P*). Counting is done by C-level scans, not a `unicodedata` call per character:
# - ASCII: `str.encode("ascii", "ignore")` keeps the ASCII characters, `bytes.translate` drops the
#   uncounted ones, and the lengths tell how many went;
# - the rest of the Basic Multilingual Plane: one regex of single characters finds the uncounted
#   ones (a class of single characters lets `re` skip through the text with its bitmap);
# - past U+FFFF (emoji, rare scripts): only in a text that holds such characters, each is checked
#   by its Unicode category. Leaving them out of the regex's class makes it ~30% faster.
_ASCII_UNCOUNTED = bytes(c for c in range(128) if chr(c).isspace() or chr(c) in string.punctuation)


def _uncounted(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] == "P" or ch in string.punctuation


@lru_cache(maxsize=1)
def _non_ascii_uncounted() -> re.Pattern[str]:
    def test(ch: str) -> bool:
        return not "\ud800" <= ch <= "\udfff" and _uncounted(ch)

    return bmp_class(test, runs=False, start=0x80)


def _make_astral_test() -> Callable[[str], bool]:
    """A constant-time "may `text` hold a character past U+FFFF?".

    CPython stores a string with 1, 2 or 4 bytes per character, 4 only when it holds a character
    past U+FFFF, and `sys.getsizeof` counts that storage: a size below the 4-byte layout's rules
    them out. The layout is measured here on probe strings; where it does not hold (another
    interpreter), every non-ASCII text is searched instead. A wrong "maybe" only costs a search."""
    getsizeof = sys.getsizeof
    # Built at run time, so no probe is a constant with a cached UTF-8 copy (which would add to its size).
    low, high = chr(0x100), chr(0x10000)
    probes = {chr(0xFF) * 3: False, low * 3: False, high * 3: True, high + "a" * 40: True}
    try:
        base = getsizeof(high * 5) - 4 * 6

        def test(text: str) -> bool:
            return getsizeof(text) >= base + 4 * (len(text) + 1)

        if all(test(text) == want for text, want in probes.items()):
            return test
    except TypeError:  # no getsizeof on this interpreter
        pass
    return lambda text: ASTRAL.search(text) is not None


_may_hold_astral = _make_astral_test()
_SLICE = 1 << 16  # characters per `findall`


def count_reasoning_chars(text: str) -> int:
    """Characters that are neither whitespace nor punctuation (ASCII or any other script)."""
    ascii_part = text.encode("ascii", "ignore")
    count = len(text) - len(ascii_part) + len(ascii_part.translate(None, _ASCII_UNCOUNTED))
    if len(ascii_part) == len(text):
        return count
    findall = _non_ascii_uncounted().findall
    # By slices: each match is a string in a list, so a whole long run of "，" at once would hold
    # ~85 bytes per character; a slice bounds that to a few MB.
    if len(text) <= _SLICE:
        count -= len(findall(text))
    else:
        for start in range(0, len(text), _SLICE):
            count -= len(findall(text, start, start + _SLICE))
    if _may_hold_astral(text):
        for start in range(0, len(text), _SLICE):
            count -= sum(1 for ch in ASTRAL.findall(text, start, start + _SLICE) if _uncounted(ch))
    return count


def compute_score(response: str, per_char: float = 0.001, cap: float = 1.0) -> float:
    think = think_content(response)
    if think is None:
        return 0.0
    return min(cap, per_char * count_reasoning_chars(think))


def reasoning_counts(response: str) -> tuple[int, int]:
    """(characters of reasoning, those of them `compute_score` pays for before its cap); (0, 0)
    without exactly one think block. The padding monitor (`seekworld.rewards.monitors`) reports
    the rest as padding, so this follows the component's own rule."""
    think = think_content(response)
    if think is None:
        return 0, 0
    return len(think), count_reasoning_chars(think)
