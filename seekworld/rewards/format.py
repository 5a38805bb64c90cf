"""Format reward: `<think>...</think>` then `<answer>...</answer>`, one of each, nothing after."""

from __future__ import annotations

import re

__all__ = ["compute_score", "think_content"]

_TAGS = ("<think>", "</think>", "<answer>", "</answer>")
_NON_SPACE = re.compile(r"\S")


def compute_score(response: str) -> float:
    """1.0 when the response is exactly one non-empty think block followed by one non-empty
    answer block (whitespace around them allowed), else 0.0.

    Finds only (C speed): each tag is looked for twice (the first, then a second one), and the
    spans are checked for non-space characters in place, without copying the reasoning."""
    find = response.find
    at = []
    for tag in _TAGS:
        first = find(tag)
        if first < 0 or find(tag, first + 1) >= 0:
            return 0.0
        at.append(first)
    think, think_end, answer, answer_end = at
    if not think < think_end < answer < answer_end:
        return 0.0
    search = _NON_SPACE.search
    if (
        search(response, 0, think)
        or search(response, think_end + 8, answer)
        or search(response, answer_end + 9)
    ):
        return 0.0
    if search(response, think + 7, think_end) is None or search(response, answer + 8, answer_end) is None:
        return 0.0
    return 1.0


def think_content(response: str) -> str | None:
    """The text inside the single `<think>` block, or None when there is not exactly one."""
    start = response.find("<think>")
    if start < 0 or response.find("<think>", start + 1) >= 0:
        return None
    end = response.find("</think>")
    if end < 0 or response.find("</think>", end + 1) >= 0:
        return None
    start += len("<think>")
    return response[start:end] if end >= start else None
