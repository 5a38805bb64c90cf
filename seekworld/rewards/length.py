"""Length incentive (SeekWorld's): 0.001 per character of reasoning, capped at 1.0.

Counted characters: those inside the `<think>` block that are neither whitespace nor punctuation
(ASCII or CJK), so padding with dots or spaces earns nothing.
"""

from __future__ import annotations

import string
import unicodedata

from seekworld.rewards.format import think_content

__all__ = ["compute_score", "count_reasoning_chars"]

_ASCII_PUNCT = frozenset(string.punctuation)


def count_reasoning_chars(text: str) -> int:
    return sum(
        1
        for ch in text
        if not ch.isspace() and ch not in _ASCII_PUNCT and not unicodedata.category(ch).startswith("P")
    )


def compute_score(response: str, per_char: float = 0.001, cap: float = 1.0) -> float:
    think = think_content(response)
    if think is None:
        return 0.0
    return min(cap, per_char * count_reasoning_chars(think))
