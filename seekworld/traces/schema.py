"""Clue-tracking traces: one JSON object per line.

    {"id": "t1", "image": "images/jp.jpg", "label": "$Japan,Osaka$",
     "question": "...optional...", "difficulty": "medium", "source": "o3",
     "steps": [{"text": "A sign on the left; zoom in.", "zoom": [0.05, 0.3, 0.35, 0.55]},
               {"text": "It reads 大阪, Osaka."}],
     "answer": "$Japan,Osaka$"}

- `image`: a path (relative to the traces file, or `--image-root`) or absolute.
- `label`: a `$country,region$` string or a label object (see `seekworld.geo.label`).
- `steps`: the reasoning in order. A step with `zoom` (a box `[x1, y1, x2, y2]`, fractions of the
  original image) becomes one zoom turn whose `<think>` holds its text (and the text of zoom-less
  steps just before it); the zoom-less steps after the last zoom make the final turn's `<think>`.
- `answer`: the content of the final `<answer>` (tags optional; they are removed).

`trace_turns` turns a trace into the model's turns, exactly as the zoom agent expects them;
`trace_from_turns` is the inverse, used by `seekworld traces collect`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.zoom.protocol import (
    Box,
    BoxError,
    answer_turn,
    format_box,
    is_zoom_turn,
    parse_box,
    zoom_content,
    zoom_turn,
)

__all__ = ["Trace", "TraceError", "TraceStep", "read_traces", "trace_from_turns", "trace_turns"]

_TAGS = re.compile(r"</?(?:think|zoom|answer)>", re.I)
_ANSWER_TAGS = re.compile(r"^\s*<answer>(.*)</answer>\s*$", re.S | re.I)
_THINK = re.compile(r"\A\s*<think>(.*?)</think>", re.S)


class TraceError(SeekworldError, ValueError):
    """A trace that cannot become a training sample; the message says what is wrong."""


@dataclass(frozen=True)
class TraceStep:
    text: str
    zoom: Box | None = None


@dataclass
class Trace:
    id: str
    origin: str  # "traces.jsonl:12"
    image: str  # absolute path
    label: str | dict
    steps: list[TraceStep]
    answer: str
    question: str | None = None
    difficulty: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self, base: Path | None = None) -> dict[str, Any]:
        """The JSONL object (the image path relative to `base` when it lies under it)."""
        image = self.image
        if base is not None:
            try:
                image = str(Path(self.image).resolve().relative_to(base.resolve()))
            except ValueError:
                pass
        obj: dict[str, Any] = {"id": self.id, "image": image, "label": self.label}
        for name in ("question", "difficulty", "source"):
            if getattr(self, name) is not None:
                obj[name] = getattr(self, name)
        obj["steps"] = [
            {"text": s.text, "zoom": list(s.zoom)} if s.zoom is not None else {"text": s.text}
            for s in self.steps
        ]
        obj["answer"] = self.answer
        obj.update(self.extra)
        return obj


def _box(raw: Any, where: str) -> Box:
    if not isinstance(raw, list | tuple) or len(raw) != 4:
        raise TraceError(f"{where}: 'zoom' must be a list of four numbers, got {raw!r}")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
        raise TraceError(f"{where}: 'zoom' must hold numbers, got {raw!r}")
    # The text shows the box rounded (format_box); the crop must be of the box the text shows.
    try:
        return parse_box(format_box(raw))
    except BoxError as exc:
        raise TraceError(f"{where}: {exc}") from None


def parse_trace(obj: Any, origin: str, base: Path, default_id: str) -> Trace:
    """One JSON object -> Trace. Raises TraceError."""
    if not isinstance(obj, dict):
        raise TraceError("the line is not a JSON object")
    image = obj.get("image")
    if not isinstance(image, str) or not image.strip():
        raise TraceError("'image' must be a path string")
    label = obj.get("label")
    if not isinstance(label, str | dict) or not label:
        raise TraceError("'label' must be a label string or object")
    steps_raw = obj.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise TraceError("'steps' must be a non-empty list")
    steps = []
    for i, raw in enumerate(steps_raw, 1):
        where = f"step {i}"
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            raise TraceError(f"{where} must be an object with a 'text' string")
        if _TAGS.search(raw["text"]):
            raise TraceError(f"{where}: the text holds <think>/<zoom>/<answer> tags; give plain text")
        zoom = raw.get("zoom")
        steps.append(TraceStep(raw["text"].strip(), _box(zoom, where) if zoom is not None else None))
    answer = obj.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        raise TraceError("'answer' must be a non-empty string")
    m = _ANSWER_TAGS.match(answer)
    answer = (m.group(1) if m else answer).strip()
    if _TAGS.search(answer):
        raise TraceError("'answer' holds protocol tags")
    path = Path(image).expanduser()
    known = {"id", "image", "label", "steps", "answer", "question", "difficulty", "source"}
    return Trace(
        id=str(obj.get("id") or default_id),
        origin=origin,
        image=str(path if path.is_absolute() else (base / path).resolve()),
        label=label,
        steps=steps,
        answer=answer,
        question=obj.get("question") if isinstance(obj.get("question"), str) else None,
        difficulty=str(obj["difficulty"]) if obj.get("difficulty") is not None else None,
        source=str(obj["source"]) if obj.get("source") is not None else None,
        extra={k: v for k, v in obj.items() if k not in known},
    )


def read_traces(path: str | Path, image_root: str | None = None) -> Iterator[Trace | tuple[str, str, str]]:
    """Traces of a JSONL file; a line that cannot be read yields (id, origin, reason detail)."""
    p = Path(path)
    base = Path(image_root).resolve() if image_root else p.parent.resolve()
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            origin, default_id = f"{p.name}:{lineno}", f"{p.stem}-{lineno:06d}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield default_id, origin, f"line is not JSON: {exc.msg} at char {exc.pos}"
                continue
            try:
                yield parse_trace(obj, origin, base, default_id)
            except TraceError as exc:
                name = obj.get("id") if isinstance(obj, dict) and obj.get("id") else default_id
                yield str(name), origin, str(exc)


def trace_turns(trace: Trace) -> list[str]:
    """The model's turns for a trace (canonical text: `zoom_turn` / `answer_turn`)."""
    turns: list[str] = []
    pending: list[str] = []
    for i, step in enumerate(trace.steps, 1):
        if step.text:
            pending.append(step.text)
        if step.zoom is not None:
            if not pending:
                raise TraceError(f"step {i} zooms without any reasoning before it")
            turns.append(zoom_turn("\n\n".join(pending), step.zoom))
            pending = []
    if not pending:
        raise TraceError("the last step zooms; add a final step with the reasoning that leads to the answer")
    turns.append(answer_turn("\n\n".join(pending), trace.answer))
    return turns


def trace_from_turns(turns: Sequence[str]) -> tuple[list[TraceStep], str]:
    """(steps, answer) of a finished episode's turns, each of the canonical shape. Raises TraceError."""
    steps: list[TraceStep] = []
    for i, turn in enumerate(turns, 1):
        think = _THINK.match(turn)
        if think is None:
            raise TraceError(f"turn {i} does not start with <think>…</think>")
        text = think.group(1).strip()
        if is_zoom_turn(turn):
            try:
                box = parse_box(zoom_content(turn) or "")
            except BoxError as exc:
                raise TraceError(f"turn {i}: {exc}") from None
            steps.append(TraceStep(text, box))
        else:
            if i != len(turns):
                raise TraceError(f"turn {i} answers but more turns follow")
            m = re.search(r"<answer>(.*?)</answer>", turn, re.S)
            if m is None:
                raise TraceError("the last turn has no <answer>")
            steps.append(TraceStep(text))
            return steps, m.group(1).strip()
    raise TraceError("the turns end without an answer")
