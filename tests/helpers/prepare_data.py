"""Small builders for `seekworld prepare` tests: images with distinct content, input files, runs.

make_image(path, size=(200, 150), seed=0, fmt=None, exif_orientation=None, mode="RGB") -> Path
lmm_r1_row(image, answer, text="Where?", difficulty=None, **extra) -> dict
write_jsonl(path, rows) -> Path
run(inputs, out, **config_overrides) -> report dict     (progress bar off)
read_rows(path) -> list[dict]
PREPARE_SAMPLE: argv of `seekworld prepare` on the shipped lmm-r1 sample (add --output DIR)
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

from PIL import Image

__all__ = ["PREPARE_SAMPLE", "lmm_r1_row", "make_image", "read_rows", "run", "write_jsonl"]

REPO = Path(__file__).resolve().parents[2]
PREPARE_SAMPLE = [
    sys.executable, "-m", "seekworld", "prepare", "--input", str(REPO / "seekworld_data/sample/lmm_r1.jsonl"),
]  # fmt: skip


def make_image(
    path: str | Path,
    size: tuple[int, int] = (200, 150),
    seed: int = 0,
    fmt: str | None = None,
    exif_orientation: int | None = None,
    mode: str = "RGB",
) -> Path:
    """A noisy picture (distinct per seed, so content hashes differ) saved at `path`."""
    rng = random.Random(seed)
    w, h = size
    # Coarse random blocks scaled up: distinct per seed and cheap to make at any size.
    small = Image.frombytes("RGB", (16, 12), bytes(rng.randrange(256) for _ in range(16 * 12 * 3)))
    img = small.resize((w, h), Image.Resampling.NEAREST)
    if mode != "RGB":
        img = img.convert(mode)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif
    img.save(p, format=fmt, **kwargs)
    return p


def lmm_r1_row(image: str | None, answer: str, text: str = "Where?", difficulty: str | None = None, **extra):
    content: list[dict] = [{"type": "image", "image": image} if image is not None else {"type": "image"}]
    content.append({"type": "text", "text": text})
    row = {"message": json.dumps([{"role": "user", "content": content}]), "answer": answer, **extra}
    if difficulty is not None:
        row["difficulty"] = difficulty
    return row


def write_jsonl(path: str | Path, rows: list[dict]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return p


def run(inputs: list[tuple[str, str | Path]] | str | Path, out: str | Path, **overrides: Any) -> dict:
    from seekworld.prepare.pipeline import PrepareConfig, prepare

    if not isinstance(inputs, list):
        inputs = [("train", inputs)]
    cfg = PrepareConfig(
        inputs=[(s, str(p)) for s, p in inputs], output=out, **{"progress": False, **overrides}
    )
    return prepare(cfg)


def read_rows(path: str | Path) -> list[dict]:
    text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
