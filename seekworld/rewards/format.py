"""Format reward: `<think>...</think>` then `<answer>...</answer>`, one of each, nothing after."""

from __future__ import annotations

import re

__all__ = ["compute_score", "think_content"]

_TAGS = ["<think>", "</think>", "<answer>", "</answer>"]
# One scan finds every tag (split keeps them, and the text between): each string method call
# would be a scan of its own.
_FORMAT_TAGS = re.compile("(" + "|".join(map(re.escape, _TAGS)) + ")")
_THINK_TAGS = re.compile("(</?think>)")


def _blank(text: str) -> bool:
    return not text or text.isspace()  # `isspace` is the `\s` of `re`, without a regex call


def compute_score(response: str) -> float:
    """1.0 when the response is exactly one non-empty think block followed by one non-empty
    answer block (whitespace around them allowed), else 0.0."""
    # At most 5 splits: a fifth tag already fails, and the pieces of every tag of a tag-stuffed
    # response would be a list as long as the text.
    pieces = _FORMAT_TAGS.split(response, 5)
    # [before, <think>, reasoning, </think>, between, <answer>, answer, </answer>, after]
    if len(pieces) != 9 or pieces[1::2] != _TAGS:
        return 0.0
    before, _, reasoning, _, between, _, answer, _, after = pieces
    if _blank(before) and _blank(between) and _blank(after):
        return 0.0 if _blank(reasoning) or _blank(answer) else 1.0
    return 0.0


def think_content(response: str) -> str | None:
    """The text inside the single `<think>` block, or None when there is not exactly one."""
    pieces = _THINK_TAGS.split(response, 3)  # a third tag already fails
    if len(pieces) != 5 or pieces[1] != "<think>" or pieces[3] != "</think>":
        return None
    return pieces[2]
