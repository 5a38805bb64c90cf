"""Decode, check, orient, downscale and store one image, content-addressed.

`process_image(source, cfg)` is the unit of work a `prepare` worker runs. It is a pure function of
the source bytes and the settings, so its output can be named by their hash: a rerun finds the
finished file (and its `.json` sidecar) and does no work twice.

Visual tokens follow Qwen2.5-VL's image processor: the image is resized to multiples of 28
(`smart_resize`), and each 28×28 block is one token (14-pixel patches merged 2×2).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image, ImageOps

from seekworld.errors import SeekworldError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FACTOR",
    "QWEN_MAX_PIXELS",
    "QWEN_MIN_PIXELS",
    "ImageConfig",
    "ImageRejected",
    "ImageResult",
    "fit_to_budget",
    "process_image",
    "run_task",
    "smart_resize",
    "visual_tokens",
]

FACTOR = 28  # patch 14 × spatial merge 2
DEFAULT_MAX_PIXELS = 1024 * FACTOR * FACTOR  # at most 1,024 visual tokens per image
QWEN_MIN_PIXELS = 56 * 56  # Qwen2.5-VL processor defaults (what training sees with no budget)
QWEN_MAX_PIXELS = 16384 * FACTOR * FACTOR
# Bump when the way images are written changes: it is part of the content address.
PIPELINE_VERSION = 1
JPEG_QUALITY = 95

# Decoders that keep every pixel; their images are stored as PNG so re-encoding loses nothing.
_LOSSLESS = {"PNG", "BMP", "TIFF", "GIF", "PPM", "TGA"}
_ORIENTATION = 0x0112  # EXIF tag


class ImageRejected(SeekworldError):
    """The image cannot be used. `reason` is one of the rejection reasons in rejected.jsonl."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ImageConfig:
    """Settings that change the written image; all of them go into the content address."""

    out_dir: str  # DIR/images
    max_pixels: int = DEFAULT_MAX_PIXELS
    min_side: int = 64

    def tag(self) -> bytes:
        return f"v{PIPELINE_VERSION};max_pixels={self.max_pixels};min_side={self.min_side}".encode()


@dataclass(frozen=True)
class ImageResult:
    key: str  # content address: hash of the source bytes and the settings
    path: str  # absolute path of the written image
    pixel_hash: str  # hash of the decoded, oriented RGB pixels (finds the same picture in two splits)
    width_in: int
    height_in: int
    width: int
    height: int
    tokens_in: int  # visual tokens at native size under the processor's defaults
    tokens: int  # visual tokens of the written image
    resized: bool
    reused: bool = False


def smart_resize(
    height: int,
    width: int,
    factor: int = FACTOR,
    min_pixels: int = QWEN_MIN_PIXELS,
    max_pixels: int = QWEN_MAX_PIXELS,
) -> tuple[int, int]:
    """Qwen2-VL's `smart_resize` (transformers' `image_processing_qwen2_vl.smart_resize`).

    Re-implemented because importing it pulls in torch (~5 s per worker); a test checks that both
    agree. Returns (height, width), multiples of `factor`, with min_pixels ≤ h·w ≤ max_pixels.
    """
    if max(height, width) / min(height, width) > 200:
        raise ValueError(
            f"absolute aspect ratio must be smaller than 200, got {max(height, width) / min(height, width)}"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def visual_tokens(height: int, width: int, max_pixels: int = QWEN_MAX_PIXELS) -> int:
    """Visual tokens Qwen2.5-VL's processor gives an image of this size (`<|image_pad|>` count)."""
    h, w = smart_resize(height, width, max_pixels=max_pixels)
    return (h // FACTOR) * (w // FACTOR)


def fit_to_budget(height: int, width: int, max_pixels: int) -> tuple[int, int] | None:
    """The size to store an image at, or None when it already fits.

    It fits when the processor (default settings) turns it into at most max_pixels/28² tokens. When
    it does not, the answer is `smart_resize` under the budget: multiples of 28, which the processor
    then leaves unchanged, so the token count seen in training is exactly the one reported here.
    """
    budget = max_pixels // (FACTOR * FACTOR)
    if visual_tokens(height, width) <= budget:
        return None
    if budget * FACTOR * FACTOR < QWEN_MIN_PIXELS:
        raise ValueError(f"max_pixels {max_pixels} is under the processor's minimum {QWEN_MIN_PIXELS}")
    h, w = smart_resize(height, width, max_pixels=max_pixels)
    # smart_resize can land outside [min_pixels, max_pixels] (each side is kept ≥ 28 and floored
    # separately); the processor would then resize again. Step to the nearest size it keeps.
    while h * w < QWEN_MIN_PIXELS:
        if h <= w:
            h += FACTOR
        else:
            w += FACTOR
    while (h // FACTOR) * (w // FACTOR) > budget:
        if h >= w:
            h -= FACTOR
        else:
            w -= FACTOR
    return h, w


def _paths(cfg: ImageConfig, key: str) -> tuple[Path, Path]:
    folder = Path(cfg.out_dir) / key[:2]
    return folder / f"{key}.json", folder


def _atomic_write(path: Path, data: bytes) -> None:
    # A unique temporary name: two workers writing the same content never clash, and a crash
    # leaves no half-written file under the final name.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _read_source(source: str | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except FileNotFoundError:
        raise ImageRejected("missing_file", f"no such file: {source}") from None
    except IsADirectoryError:
        raise ImageRejected("missing_file", f"is a directory, not an image: {source}") from None
    except OSError as exc:
        raise ImageRejected("missing_file", f"cannot read {source}: {exc.strerror or exc}") from None


def _crash_hook(source: str | bytes) -> None:
    # Test hook: simulate a run stopped mid-way (tests/prepare/test_prepare_resume.py). NAME raises
    # KeyboardInterrupt (Ctrl-C); "exit:NAME" kills the process outright (a worker OOM-killed).
    target = os.environ.get("SEEKWORLD_PREPARE_CRASH_ON")
    if not target or not isinstance(source, str):
        return
    hard = target.startswith("exit:")
    if os.path.basename(source) == target.removeprefix("exit:"):
        if hard:
            os._exit(3)
        raise KeyboardInterrupt(f"SEEKWORLD_PREPARE_CRASH_ON={target}")


def process_image(source: str | bytes, cfg: ImageConfig) -> ImageResult:
    """Check and store one image (a path or encoded bytes). Raises ImageRejected."""
    _crash_hook(source)
    data = _read_source(source)
    key = hashlib.sha256(cfg.tag() + b"\0" + data).hexdigest()[:40]
    meta_path, folder = _paths(cfg, key)
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            if Path(meta["path"]).exists():
                return ImageResult(**{**meta, "reused": True})
        except (ValueError, KeyError, TypeError):
            pass  # a damaged sidecar: redo the image

    try:
        with Image.open(io.BytesIO(data)) as opened:
            fmt = opened.format or ""
            opened.load()  # decode every pixel now: truncated files fail here, not in training
            rotated = opened.getexif().get(_ORIENTATION, 1) not in (1, None)
            oriented = ImageOps.exif_transpose(opened) if rotated else opened
            converted = oriented.mode != "RGB"
            img = oriented.convert("RGB") if converted else oriented
    except Exception as exc:  # PIL's plugins raise many types on hostile files: reject, never crash
        raise ImageRejected("undecodable", f"{type(exc).__name__}: {exc}") from None

    width_in, height_in = img.size
    if min(width_in, height_in) < cfg.min_side:
        raise ImageRejected("too_small", f"{width_in}x{height_in} has a side under --min-side {cfg.min_side}")
    try:
        tokens_in = visual_tokens(height_in, width_in)
        target = fit_to_budget(height_in, width_in, cfg.max_pixels)
    except ValueError as exc:  # aspect ratio over 200: Qwen's processor refuses it too
        raise ImageRejected("too_small", str(exc)) from None

    # sha256 runs on the CPU's SHA instructions: ~2× faster than blake2b on a 3-MP image here.
    pixel_hash = hashlib.sha256(f"{width_in}x{height_in};".encode() + img.tobytes()).hexdigest()[:32]
    if target is not None:
        h, w = target
        # reducing_gap: a cheap box pre-shrink before the bicubic pass (≈3× faster, same look).
        img = img.resize((w, h), Image.Resampling.BICUBIC, reducing_gap=3.0)

    folder.mkdir(parents=True, exist_ok=True)
    plain_copy = fmt == "JPEG" and target is None and not rotated and not converted
    if plain_copy:
        ext, payload = "jpg", data  # already what we would write: keep the original bytes
    elif fmt in _LOSSLESS:
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=False)
        ext, payload = "png", buf.getvalue()
    else:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=JPEG_QUALITY)
        ext, payload = "jpg", buf.getvalue()
    out_path = folder / f"{key}.{ext}"
    _atomic_write(out_path, payload)

    result = ImageResult(
        key=key,
        path=str(out_path.resolve()),
        pixel_hash=pixel_hash,
        width_in=width_in,
        height_in=height_in,
        width=img.size[0],
        height=img.size[1],
        tokens_in=tokens_in,
        tokens=visual_tokens(img.size[1], img.size[0]),
        resized=target is not None,
    )
    meta = asdict(result)
    meta.pop("reused")
    # The sidecar is written last: its presence means the image is complete.
    _atomic_write(meta_path, json.dumps(meta, sort_keys=True).encode())
    return result


def run_task(source: str | bytes, cfg: ImageConfig) -> ImageResult | tuple[str, str]:
    """Worker entry point: the result, or (reason, detail) for a rejected image (picklable)."""
    try:
        return process_image(source, cfg)
    except ImageRejected as exc:
        return exc.reason, exc.detail
