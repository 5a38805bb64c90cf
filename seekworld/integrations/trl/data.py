"""`seekworld prepare` rows -> the dataset `GRPOTrainer` reads for a VLM.

A prepared row is upstream OpenRLHF's shape: `prompt` (system + user messages whose text holds a
literal `<image>` where the photo goes), `images` (absolute paths) and `label`. TRL wants chat
messages whose content is a list of blocks, with `{"type": "image"}` placeholders that it fills from
the `images` column (decoded lazily by `datasets`). The label stays a column: TRL passes it to every
reward function as a keyword argument.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError

__all__ = ["PreparedDataError", "load_prompt_dataset", "to_trl_messages", "to_trl_row"]

IMAGE_TAG = "<image>"


class PreparedDataError(SeekworldError, ValueError):
    """Prepared data TRL cannot train on; the message names the file and row."""


def to_trl_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """String contents split on `<image>` into text blocks and image placeholders (order kept)."""
    out = []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            blocks: list[dict[str, Any]] = []
            for i, piece in enumerate(content.split(IMAGE_TAG)):
                if i:
                    blocks.append({"type": "image", "text": None})
                if piece:
                    blocks.append({"type": "text", "text": piece})
            content = blocks
        out.append({"role": message["role"], "content": content})
    return out


def to_trl_row(row: dict[str, Any], where: str) -> dict[str, Any]:
    """One prepared row -> {prompt, images, label}. Raises PreparedDataError."""
    try:
        messages, images, label = row["prompt"], row["images"], row["label"]
    except KeyError as exc:
        raise PreparedDataError(
            f"{where}: missing {exc.args[0]!r} (is this `seekworld prepare` output?)"
        ) from None
    if not isinstance(messages, list):
        raise PreparedDataError(f"{where}: prompt must be a list of chat messages")
    prompt = to_trl_messages(messages)
    slots = sum(1 for m in prompt for b in m["content"] if b.get("type") == "image")
    if slots != len(images):
        raise PreparedDataError(f"{where}: {slots} <image> tag(s) for {len(images)} image(s)")
    label = label if isinstance(label, str) else json.dumps(label, ensure_ascii=False)
    return {"prompt": prompt, "images": list(images), "label": label}


def load_prompt_dataset(paths: str, max_samples: int | None = None) -> Any:
    """Comma-separated prepared JSONL files -> a `datasets.Dataset` (images decoded on access)."""
    import datasets

    rows = []
    for path in filter(None, (p.strip() for p in paths.split(","))):
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise PreparedDataError(f"cannot read {path}: {exc.strerror or exc}") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PreparedDataError(f"{path}:{n}: not JSON ({exc.msg})") from None
            rows.append(to_trl_row(row, f"{path}:{n}"))
    if not rows:
        raise PreparedDataError(f"no rows in {paths}")
    if max_samples:
        rows = rows[:max_samples]
    dataset = datasets.Dataset.from_list(rows)
    return dataset.cast_column("images", datasets.Sequence(datasets.Image()))
