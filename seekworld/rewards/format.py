"""Format reward: `<think>...</think>` then `<answer>...</answer>`, one of each, nothing after."""

from __future__ import annotations

__all__ = ["compute_score", "think_content"]

_TAGS = ("<think>", "</think>", "<answer>", "</answer>")


def compute_score(response: str) -> float:
    """1.0 when the response is exactly one non-empty think block followed by one non-empty
    answer block (whitespace around them allowed), else 0.0. Counts and finds only (C speed)."""
    if any(response.count(tag) != 1 for tag in _TAGS):
        return 0.0
    think, think_end, answer, answer_end = (response.index(tag) for tag in _TAGS)
    if not think < think_end < answer < answer_end:
        return 0.0
    outside = (response[:think], response[think_end + 8 : answer], response[answer_end + 9 :])
    inside = (response[think + 7 : think_end], response[answer + 8 : answer_end])
    if any(part.strip() for part in outside) or not all(part.strip() for part in inside):
        return 0.0
    return 1.0


def think_content(response: str) -> str | None:
    """The text inside the single `<think>` block, or None when there is not exactly one."""
    if response.count("<think>") != 1 or response.count("</think>") != 1:
        return None
    start = response.index("<think>") + len("<think>")
    end = response.find("</think>", start)
    return response[start:end] if end >= 0 else None
