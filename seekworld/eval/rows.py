"""Evaluation rows: read `seekworld prepare` JSONL, name each row, and turn it into model input.

A row is what training reads: `prompt` (chat messages; a string content holds a literal `<image>`
where an image goes), `images` (absolute paths), `label`, `datasource`, `difficulty`.

`to_messages(row, style)` is the one conversion from a row to chat messages, so every engine sees
the prompt the model was trained with:

- style "hf": content lists with `{"type": "image"}` parts, split exactly as upstream OpenRLHF's
  `PromptDataset` splits them (text parts stripped, empty ones dropped), for the processor's chat
  template (transformers and vLLM);
- style "openai": the same messages with each image part carrying the image as a base64 data URL.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError

__all__ = [
    "IMAGE_TAG",
    "RowError",
    "image_data_url",
    "load_images",
    "load_rows",
    "row_for_image",
    "row_id",
    "split_image_tags",
    "to_messages",
]

IMAGE_TAG = "<image>"


class RowError(SeekworldError, ValueError):
    """An evaluation row that cannot be used; the message names the file and line."""


def split_image_tags(text: str) -> str | list[dict[str, str]]:
    """Upstream's `_str_to_content_list`: "<image>Where?" -> [image part, text part].

    A string without the tag is returned unchanged (a plain text message)."""
    if IMAGE_TAG not in text:
        return text
    content: list[dict[str, str]] = []
    for i, part in enumerate(text.split(IMAGE_TAG)):
        if i > 0:
            content.append({"type": "image"})
        if part.strip():
            content.append({"type": "text", "text": part.strip()})
    return content


def _prompt_messages(row: dict) -> list[dict]:
    prompt = row.get("prompt")
    if isinstance(prompt, str):  # upstream accepts a bare string as one user message
        return [{"role": "user", "content": prompt}]
    if not isinstance(prompt, list) or not all(isinstance(m, dict) for m in prompt):
        raise RowError("row 'prompt' must be a list of chat messages or a string")
    return copy.deepcopy(prompt)


def to_messages(row: dict, style: str = "hf") -> list[dict[str, Any]]:
    """Chat messages for one row, in the engine's style ("hf" or "openai")."""
    if style not in ("hf", "openai"):
        raise ValueError(f"unknown message style {style!r}; use 'hf' or 'openai'")
    messages = _prompt_messages(row)
    for message in messages:
        if isinstance(message.get("content"), str):
            message["content"] = split_image_tags(message["content"])
    images = list(row.get("images") or [])
    slots = sum(
        1
        for m in messages
        if isinstance(m.get("content"), list)
        for part in m["content"]
        if part.get("type") == "image"
    )
    if slots != len(images):
        # Upstream does not check this and fails inside the model; say it here instead.
        raise RowError(f"prompt has {slots} <image> tags but the row has {len(images)} images")
    if style == "openai":
        it = iter(images)
        for message in messages:
            if not isinstance(message.get("content"), list):
                continue
            message["content"] = [
                {"type": "image_url", "image_url": {"url": image_data_url(next(it))}}
                if part.get("type") == "image"
                else part
                for part in message["content"]
            ]
    return messages


def image_data_url(image: Any) -> str:
    """A `data:` URL for an image path (sent as stored: no re-encoding) or a PIL image (PNG)."""
    if isinstance(image, (str, Path)):
        data = Path(image).read_bytes()
        mime = mimetypes.guess_type(str(image))[0] or "image/jpeg"
    else:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        data, mime = buf.getvalue(), "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def load_images(row: dict) -> list[Any]:
    """The row's images as RGB PIL images (paths are opened; PIL images pass through)."""
    from PIL import Image

    out = []
    for image in row.get("images") or []:
        if isinstance(image, (str, Path)):
            with Image.open(image) as im:
                out.append(im.convert("RGB"))
        else:
            out.append(image.convert("RGB"))
    return out


def row_id(row: dict) -> str:
    """The row's `id` when it has one, else a hash of what defines the sample (prompt, images,
    label): stable across reruns and file reorderings, which resuming relies on."""
    if row.get("id") is not None:
        return str(row["id"])
    blob = json.dumps(
        [row.get("prompt"), [str(i) for i in row.get("images") or []], row.get("label")],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:16]


def load_rows(paths: Iterable[str | Path], limit: int | None = None) -> list[dict]:
    """Read JSONL rows from one or more files, give each an `id` and a `key`, check the basics.

    `key` = "<datasource>/<id>" names a sample in predictions: two test sets may both number their
    rows 1, 2, 3. A row without `datasource` gets its file's name. `limit` keeps the first N rows
    of each file (a quick look at every datasource). Rows with `copy` > 0 (repeats that
    `prepare --balance` writes for training) are skipped. Raises RowError on a line that is not an
    object, lacks prompt/label, or repeats a key."""
    rows: list[dict] = []
    seen: dict[str, str] = {}
    for path in paths:
        kept = 0
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                if limit is not None and kept >= limit:
                    break
                where = f"{path}:{lineno}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise RowError(f"{where}: not JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise RowError(f"{where}: line is not a JSON object")
                missing = [k for k in ("prompt", "label") if k not in row]
                if missing:
                    raise RowError(f"{where}: missing {', '.join(missing)}")
                if row.get("copy"):
                    continue  # a repeat `prepare --balance` added for training: count each sample once
                row["id"] = row_id(row)
                if row.get("datasource") is None:
                    row["datasource"] = Path(path).stem
                row.setdefault("difficulty", None)
                key = row["key"] = f"{row['datasource']}/{row['id']}"
                if key in seen:
                    raise RowError(f"{where}: {key!r} repeats {seen[key]} (keys must be unique to resume)")
                seen[key] = where
                rows.append(row)
                kept += 1
    return rows


def row_for_image(image: Any, prompt_template: str | Path | None = None) -> dict:
    """A one-image row with the training prompt (`seekworld prepare`'s default, or a template
    file as given to `prepare --prompt-template`), for `predict` and the demo."""
    from seekworld.prepare.prompts import PromptTemplate

    template = PromptTemplate.load(prompt_template) if prompt_template else PromptTemplate()
    return {"id": "image", "key": "image", "prompt": template.messages(1), "images": [image], "label": None}
