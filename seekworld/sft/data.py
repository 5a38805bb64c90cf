"""SFT samples from prepared traces, tokenised exactly as the zoom agent's RL transcript.

A row of `seekworld prepare --input-format traces` holds the RL prompt, the images (photo, then
one crop per zoom) and the model's turns. `encode_row` rebuilds the transcript with
`seekworld.zoom.protocol.transcript_segments` (the function the agent's observations come from)
and tokenises it piece by piece the way upstream's `MultiTurnAgentExecutor` does at RL time:

- the prompt: the chat template (`add_generation_prompt=True`) + the processor, with the photo;
- each model turn: the tokenizer alone; labels = the tokens (the loss is on the model's turns);
- each observation: the processor with its crop; labels = -100;
- the last turn ends with the end-of-turn token, which is learned too (the model must stop).

So the token ids SFT trains on are the ones RL would produce for the same turns (a test checks).

A row's transcript has a form: `tag_form` (above, the OpenRLHF agent's) or, passed as `form`, the
zoom tool's call form on TRL (`seekworld.integrations.trl.sft.tool_call_form`): each zoom turn a
`zoom` tool call, each crop a tool message, cut where TRL cuts an RL rollout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seekworld.chat import QWEN, ChatTemplate
from seekworld.errors import SeekworldError
from seekworld.zoom.protocol import Segment, TranscriptError, ZoomConfig, chat_parts, transcript_segments

__all__ = [
    "IGNORE_INDEX",
    "SFTDataError",
    "TranscriptForm",
    "ZoomSFTCollator",
    "check_rows",
    "encode_row",
    "load_rows",
    "row_zoom_config",
    "tag_form",
]

IGNORE_INDEX = -100
# The zoom settings that change the transcript's text; prepare writes them into each row.
ROW_ZOOM_KEYS = ("max_crops", "max_turns")


class SFTDataError(SeekworldError, ValueError):
    """A row that cannot be trained on; the message names the row and what is wrong."""


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a prepared traces split (JSONL). Raises SFTDataError on a row without turns."""
    rows = []
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise SFTDataError(f"{path}:{lineno}: not JSON ({exc})") from None
            if not isinstance(row, dict):
                raise SFTDataError(f"{path}:{lineno}: not a JSON object")
            missing = [k for k in ("prompt", "images", "turns") if k not in row]
            if missing:
                raise SFTDataError(
                    f"{path}:{lineno}: row has no {', '.join(missing)}; "
                    "prepare traces with `seekworld prepare --input-format traces`"
                )
            rows.append(row)
    return rows


def row_zoom_config(row: dict[str, Any]) -> ZoomConfig:
    """The zoom settings the row was rendered with (observation texts depend on them)."""
    values = {k: v for k, v in (row.get("zoom") or {}).items() if k in ROW_ZOOM_KEYS}
    return ZoomConfig.from_mapping(values)


def _load_image(path: str) -> Any:
    from seekworld.io.images import open_rgb

    # The one decoding rule (upright RGB, transparency on white), as prepare stored the image.
    return open_rgb(path)


def _tokens(processor: Any, text: str) -> list[int]:
    tokenizer = getattr(processor, "tokenizer", processor)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _with_images(processor: Any, text: str, images: Sequence[Any]) -> tuple[list[int], dict[str, Any]]:
    out = processor(text=[text], images=list(images), add_special_tokens=False, return_tensors="pt")
    mm = {k: v for k, v in out.items() if k not in ("input_ids", "attention_mask", "mm_token_type_ids")}
    return out["input_ids"][0].tolist(), mm


# A transcript form: (processor, prompt messages, model turns, zoom settings, chat markers) ->
# (prompt text, segments). The tag form is `tag_form`; the zoom tool's call form on TRL is
# `seekworld.integrations.trl.sft.tool_call_form`.
TranscriptForm = Callable[
    [Any, list[dict[str, Any]], list[str], ZoomConfig, ChatTemplate], tuple[str, list[Segment]]
]


def tag_form(
    processor: Any,
    prompt_messages: list[dict[str, Any]],
    turns: list[str],
    zoom: ZoomConfig,
    markers: ChatTemplate,
) -> tuple[str, list[Segment]]:
    """The `<zoom>` tag form: the prompt through the model's chat template, the turns and
    observations as the zoom agent writes them (`transcript_segments`)."""
    prompt_text = processor.apply_chat_template(prompt_messages, tokenize=False, add_generation_prompt=True)
    return prompt_text, transcript_segments(turns, zoom, markers)


def encode_row(
    processor: Any,
    row: dict[str, Any],
    markers: ChatTemplate = QWEN,
    max_length: int | None = None,
    form: TranscriptForm = tag_form,
) -> dict[str, Any]:
    """Token ids, labels and image tensors of one prepared trace row (module docstring)."""
    import torch

    zoom = row_zoom_config(row)
    images = [_load_image(p) for p in row["images"]]
    prompt_messages = chat_parts(row["prompt"])
    n_prompt = sum(1 for m in prompt_messages for p in _parts(m) if p.get("type") == "image")
    prompt_text, segments = form(processor, prompt_messages, row["turns"], zoom, markers)
    ids, mm = _with_images(processor, prompt_text, images[:n_prompt])
    labels = [IGNORE_INDEX] * len(ids)
    mm_parts = [mm]
    used = n_prompt
    for seg in segments:
        if seg.trainable:
            seg_ids = _tokens(processor, seg.text)
            ids += seg_ids
            labels += seg_ids
            continue
        if seg.n_images:
            seg_ids, mm = _with_images(processor, seg.text, images[used : used + seg.n_images])
            mm_parts.append(mm)
            used += seg.n_images
        else:
            seg_ids = _tokens(processor, seg.text)
        ids += seg_ids
        labels += [IGNORE_INDEX] * len(seg_ids)
    if used != len(images):
        raise SFTDataError(f"row {row.get('id')}: {len(images)} images but the transcript shows {used}")
    if max_length is not None and len(ids) > max_length:
        image_ids = _image_token_ids(processor)
        if any(t in image_ids for t in ids[max_length:]):
            raise SFTDataError(
                f"row {row.get('id')}: {len(ids)} tokens > max_length {max_length} and the cut would "
                "split an image; raise max_length or lower the pixel budgets"
            )
        ids, labels = ids[:max_length], labels[:max_length]
    merged = {k: torch.cat([m[k] for m in mm_parts if k in m], dim=0) for k in mm_parts[0]}
    return {"input_ids": ids, "labels": labels, **merged}


def _parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return content if isinstance(content, list) else []


def _pad_ids(processor: Any) -> tuple[int | None, int | None]:
    """Token ids of the image and video placeholders (Qwen: `<|image_pad|>`, `<|video_pad|>`)."""
    tokenizer = getattr(processor, "tokenizer", processor)
    found = []
    for attr, token in (("image_token_id", "<|image_pad|>"), ("video_token_id", "<|video_pad|>")):
        value = getattr(processor, attr, None)
        if not isinstance(value, int):
            value = tokenizer.convert_tokens_to_ids(token)
        ok = isinstance(value, int) and value >= 0 and value != tokenizer.unk_token_id
        found.append(value if ok else None)
    return found[0], found[1]


def _image_token_ids(processor: Any) -> set[int]:
    return {i for i in _pad_ids(processor) if i is not None}


@dataclass
class ZoomSFTCollator:
    """Batches prepared trace rows for TRL's SFTTrainer: right padding, image tensors concatenated
    in row order (the order of the image tokens), labels -100 outside the model's turns."""

    processor: Any
    max_length: int | None = None
    markers: ChatTemplate = QWEN
    form: TranscriptForm = tag_form  # the zoom tool's call form on TRL: see the module docstring

    def __call__(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        import torch

        encoded = [encode_row(self.processor, row, self.markers, self.max_length, self.form) for row in rows]
        tokenizer = getattr(self.processor, "tokenizer", self.processor)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        width = max(len(e["input_ids"]) for e in encoded)
        input_ids = torch.full((len(encoded), width), pad, dtype=torch.long)
        labels = torch.full((len(encoded), width), IGNORE_INDEX, dtype=torch.long)
        attention = torch.zeros((len(encoded), width), dtype=torch.long)
        for i, e in enumerate(encoded):
            n = len(e["input_ids"])
            input_ids[i, :n] = torch.tensor(e["input_ids"])
            labels[i, :n] = torch.tensor(e["labels"])
            attention[i, :n] = 1
        batch: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention, "labels": labels}
        for key in encoded[0]:
            if key not in ("input_ids", "labels"):
                batch[key] = torch.cat([e[key] for e in encoded], dim=0)
        # Qwen-VL's M-RoPE reads which positions hold image (1) or video (2) tokens from this, as
        # the processor returns it for a whole text.
        image_id, video_id = _pad_ids(self.processor)
        types = torch.zeros_like(input_ids)
        if image_id is not None:
            types[input_ids == image_id] = 1
        if video_id is not None:
            types[input_ids == video_id] = 2
        batch["mm_token_type_ids"] = types
        return batch


def check_rows(rows: list[dict[str, Any]], where: str) -> None:
    """Every row's transcript replays and its images exist (cheap: no pixels). Raises SFTDataError."""
    problems = []
    for row in rows:
        try:
            segments = transcript_segments(row["turns"], row_zoom_config(row))
        except (TranscriptError, ValueError) as exc:
            problems.append(f"{row.get('id')}: {exc}")
            continue
        crops = sum(s.n_images for s in segments)
        if len(row["images"]) != 1 + crops:
            problems.append(f"{row.get('id')}: {len(row['images'])} images for 1 photo + {crops} crops")
        missing = [p for p in row["images"] if not Path(p).exists()]
        if missing:
            problems.append(f"{row.get('id')}: missing image {missing[0]}")
    if problems:
        shown = "\n".join(problems[:5]) + (f"\n... and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise SFTDataError(f"{where}: {len(problems)} unusable row(s):\n{shown}")
