"""Length incentive (SeekWorld's): 0.001 per character of reasoning, capped at 1.0.

Counted characters: those inside the `<think>` block that are neither whitespace nor punctuation
(ASCII or CJK), so padding with dots or spaces earns nothing.
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

from seekworld.rewards.format import think_content

__all__ = ["compute_score", "count_reasoning_chars"]

# Uncounted: whitespace, ASCII punctuation and symbols, and every Unicode punctuation character
# (categories P*). Counting is done by C-level scans, not a `unicodedata` call per character.
_ASCII_UNCOUNTED = bytes(c for c in range(128) if chr(c).isspace() or chr(c) in string.punctuation)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _char_class(lo: int, hi: int) -> re.Pattern[str]:
    codes = [
        cp
        for cp in range(lo, hi)
        if 0xD800 > cp or cp > 0xDFFF
        if chr(cp).isspace() or unicodedata.category(chr(cp))[0] == "P" or chr(cp) in string.punctuation
    ]
    ranges: list[list[int]] = []
    for cp in codes:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
    return re.compile(f"[{body}]+")


@lru_cache(maxsize=1)
def _bmp_uncounted() -> re.Pattern[str]:
    # Only Basic Multilingual Plane characters: `re` then checks the class with a bitmap (fast);
    # a class with higher code points is checked range by range (slow).
    return _char_class(0, 0x10000)


@lru_cache(maxsize=1)
def _astral_uncounted() -> re.Pattern[str]:
    return _char_class(0x10000, 0x110000)  # built only when such text is seen (~1 s, once)


def count_reasoning_chars(text: str) -> int:
    """Characters that are neither whitespace nor punctuation (ASCII or any other script)."""
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_UNCOUNTED))
    uncounted = sum(map(len, _bmp_uncounted().findall(text)))
    if _ASTRAL.search(text):
        uncounted += sum(map(len, _astral_uncounted().findall(text)))
    return len(text) - uncounted


def compute_score(response: str, per_char: float = 0.001, cap: float = 1.0) -> float:
    think = think_content(response)
    if think is None:
        return 0.0
    return min(cap, per_char * count_reasoning_chars(think))
