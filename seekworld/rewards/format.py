"""Format reward: `<think>...</think>` then `<answer>...</answer>`, one of each, nothing after."""

from __future__ import annotations

import re

__all__ = ["compute_score", "think_content"]

_SHAPE = re.compile(r"\A\s*<think>(.*?)</think>\s*<answer>(.*?)</answer>\s*\Z", re.S)
_TAGS = ("<think>", "</think>", "<answer>", "</answer>")


def compute_score(response: str) -> float:
    """1.0 when the response is exactly one non-empty think block followed by one non-empty
    answer block (whitespace around them allowed), else 0.0."""
    match = _SHAPE.match(response)
    if match is None or not match[1].strip() or not match[2].strip():
        return 0.0
    return 1.0 if all(response.count(tag) == 1 for tag in _TAGS) else 0.0


def think_content(response: str) -> str | None:
    """The text inside the single `<think>` block, or None when there is not exactly one."""
    if response.count("<think>") != 1 or response.count("</think>") != 1:
        return None
    start = response.index("<think>") + len("<think>")
    end = response.find("</think>", start)
    return response[start:end] if end >= 0 else None
