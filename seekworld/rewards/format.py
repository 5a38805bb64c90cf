"""Format reward: `<think>...</think>` then `<answer>...</answer>`, one of each, nothing after,
and the answer well formed: it holds a letter or a digit that the canonical reading
(seekworld.text.canonical) keeps (an answer of `$`, punctuation or invisible characters names no
place)."""

from __future__ import annotations

import re

__all__ = ["compute_score", "think_content"]

_TAGS = ["<think>", "</think>", "<answer>", "</answer>"]
# One scan finds every tag (split keeps them, and the text between): each string method call
# would be a scan of its own.
_FORMAT_TAGS = re.compile("(" + "|".join(map(re.escape, _TAGS)) + ")")
_THINK_TAGS = re.compile("(</?think>)")
# A letter or a digit, in any script, that the canonical reading keeps (the Hangul fillers are
# letters to `re` but invisible, and removed; the other ignorable characters are not letters).
_TEXT = re.compile("[^\\W_\u115f\u1160\u3164\uffa0]")


def compute_score(response: str) -> float:
    """1.0 when the response is exactly one non-empty think block followed by one answer block
    that holds a letter or a digit (whitespace around them allowed), else 0.0."""
    # At most 5 splits: a fifth tag already fails, and the pieces of every tag of a tag-stuffed
    # response would be a list as long as the text.
    pieces = _FORMAT_TAGS.split(response, 5)
    # [before, <think>, reasoning, </think>, between, <answer>, answer, </answer>, after]
    if len(pieces) != 9 or pieces[1::2] != _TAGS:
        return 0.0
    before, _, reasoning, _, between, _, answer, _, after = pieces
    # Blank: empty or whitespace (`isspace` is the `\s` of `re`, without a regex call).
    for outside in (before, between, after):
        if outside and not outside.isspace():
            return 0.0
    if not reasoning or reasoning.isspace():
        return 0.0
    return 1.0 if _TEXT.search(answer) else 0.0


def think_content(response: str) -> str | None:
    """The text inside the single `<think>` block, or None when there is not exactly one."""
    pieces = _THINK_TAGS.split(response, 3)  # a third tag already fails
    if len(pieces) != 5 or pieces[1] != "<think>" or pieces[3] != "</think>":
        return None
    return pieces[2]
