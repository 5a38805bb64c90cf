"""The answer zone: where a response's one answer is (docs/accuracy-policy.md, rule 0).

    answer_zone("<think>...</think><answer>Spain, Galicia</answer>").content == "Spain, Galicia"

The reasoning ends at the last `</think>` (a `<think>` never closed holds everything after it);
without think tags the whole response is the zone. In the zone there is exactly one `<answer>`
block, and nothing else that offers a place:
- a second block, or an answer tag written another way outside the block (spacing, attributes,
  case, self-closing: `<answer id=2>`, `< answer >`, `<ANSWER/>`), is a second answer;
- an answer tag before the reasoning (before the first `<think>`) is a second answer;
- the zone may not hold bidi controls that reorder text (seekworld.text.canonical.reorders): a
  place written backwards under a right-to-left override displays as another; it is refused;
- the text of the zone outside the block is returned as `outside`: when it names a place, the
  answer is a second answer (seekworld.rewards.accuracy checks it against the gazetteer).
Blocks inside the reasoning never count. Linear in the response, constant memory however many tags.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from seekworld.errors import SeekworldError
from seekworld.text import canonical

__all__ = [
    "MAX_ANSWER_CHARS",
    "SECOND_ANSWER",
    "TOO_LONG",
    "AnswerError",
    "AnswerTooLong",
    "AnswerZone",
    "answer_zone",
    "extract_answer",
]


class AnswerError(SeekworldError, ValueError):
    """The response has no single scorable `<answer>` block."""


class AnswerTooLong(AnswerError):
    """The answer block is longer than MAX_ANSWER_CHARS: scored 0 without being parsed."""


# An answer names a country and a region, perhaps with a gloss and a short clause of prose. Anything
# longer is degenerate output (collapsing policies repeat themselves): it scores 0 in O(1) parsing
# work, and is never cached.
MAX_ANSWER_CHARS = 300
TOO_LONG = "answer too long"
SECOND_ANSWER = "second answer"

# The leading "<" stays case-sensitive so `re` can skip to each "<" quickly.
_THINK_CLOSE = re.compile(r"</(?i:think)\s*>")
_THINK_OPEN = re.compile(r"<(?i:think)\s*>")
_ANSWER_TAG = re.compile(r"<(/?)(?i:answer)\s*>")
_ANSWER_OPEN = re.compile(r"<(?i:answer)\s*>")
# Any tag naming `answer`: spacing, a slash anywhere, attributes, any case.
_ANY_ANSWER_TAG = re.compile(r"<\s*/?\s*(?i:answer)(?:\s[^<>]{0,200})?\s*/?\s*>")
_ONE_BLOCK = re.compile(r"[^<]*<answer>([^<]*)</answer>[^<]*")


class AnswerZone(NamedTuple):
    content: str  # the one block's content
    outside: str  # the zone's other text (before and after the block), usually blank


def _reasoning_end(response: str) -> int:
    """Where the zone starts: after the last `</think>`; the end for an unclosed `<think>`; 0
    without think tags."""
    # The last exact `</think>` (a C-level search from the end), then any other spelling after it.
    at = response.rfind("</think>")
    start = at + 8 if at >= 0 else -1
    other = _THINK_CLOSE.search(response, max(start, 0))
    while other is not None:  # the last one wins
        start = other.end()
        other = _THINK_CLOSE.search(response, start)
    if start < 0:
        return len(response) if _THINK_OPEN.search(response) else 0
    return start


def answer_zone(response: str) -> AnswerZone:
    """The content of the one `<answer>` block after the reasoning, and the zone's other text.
    Raises AnswerError (module docstring)."""
    start = _reasoning_end(response)
    # The usual shape: the only "<" after the reasoning are one `<answer>` and one `</answer>`.
    block = _ONE_BLOCK.fullmatch(response, start)
    if block is not None:
        open_end, close = block.span(1)
        open_start, close_end = open_end - 8, close + 9
    else:
        open_end, close = _find_block(response, start)
        open_start, close_end = response.rfind("<", start, open_end), response.index(">", close) + 1
        for lo, hi in ((start, open_start), (close_end, len(response))):
            tag = _ANY_ANSWER_TAG.search(response, lo, hi)
            if tag is not None:
                raise AnswerError(f"{SECOND_ANSWER}: the answer tag {tag[0]!r} outside the <answer> block")
    if close - open_end > MAX_ANSWER_CHARS:
        raise AnswerTooLong(f"{TOO_LONG}: {close - open_end} characters, the cap is {MAX_ANSWER_CHARS}")
    if start:
        think = _THINK_OPEN.search(response, 0, start)
        head = _ANY_ANSWER_TAG.search(response, 0, think.start()) if think is not None else None
        if head is not None:
            raise AnswerError(f"{SECOND_ANSWER}: {head[0]!r} before the reasoning")
    if canonical.reorders(response[start:]):
        raise AnswerError(
            "refused: the answer holds bidi controls that reorder text (it displays in another order "
            "than it is stored)"
        )
    before, after = response[start:open_start], response[close_end:]
    outside = "" if before.isspace() or not before else before
    if after and not after.isspace():
        outside = f"{outside}\n{after}" if outside else after
    return AnswerZone(response[open_end:close], outside)


def extract_answer(response: str) -> str:
    """Content of the one `<answer>...</answer>` block after the reasoning (`answer_zone`).
    Raises AnswerError."""
    return answer_zone(response).content


def _find_block(response: str, start: int) -> tuple[int, int]:
    """Where the content of the one answer block after `start` begins and ends. Raises AnswerError."""
    # Constant memory however many tags follow: the first opening tag, how many there are, and
    # the first closing tag after it.
    n_opens, open_end, close = 0, -1, None
    for tag in _ANSWER_TAG.finditer(response, start):
        if not tag[1]:
            n_opens += 1
            if n_opens == 1:
                open_end = tag.end()
        elif close is None and n_opens and tag.start() >= open_end:
            close = tag.start()
    if not n_opens:
        if _ANSWER_OPEN.search(response):
            raise AnswerError("the only <answer> is inside <think>; the answer must follow </think>")
        raise AnswerError("no <answer>...</answer> block")
    if n_opens > 1:
        raise AnswerError(f"{n_opens} <answer> blocks after </think>; exactly one is scored")
    if close is None:
        raise AnswerError("no <answer>...</answer> block (the <answer> is never closed)")
    return open_end, close
