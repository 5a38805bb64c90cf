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
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import UnidentifiedImageError

from seekworld.errors import SeekworldError
from seekworld.io.files import atomic_write
from seekworld.io.images import (
    DEFAULT_MAX_PIXELS,
    FACTOR,
    QWEN_MAX_PIXELS,
    QWEN_MIN_PIXELS,
    decode_image,
    fit_image,
    fit_to_budget,
    smart_resize,
    visual_tokens,
)

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

# Bump when the way images are written changes: it is part of the content address.
# 2: transparency composited onto white (seekworld.io.images), no longer dropped to black.
PIPELINE_VERSION = 2
JPEG_QUALITY = 95

# Decoders that keep every pixel; their images are stored as PNG so re-encoding loses nothing.
_LOSSLESS = {"PNG", "BMP", "TIFF", "GIF", "PPM", "TGA"}


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


def _paths(cfg: ImageConfig, key: str) -> tuple[Path, Path]:
    folder = Path(cfg.out_dir) / key[:2]
    return folder / f"{key}.json", folder


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


def process_image(source: str | bytes, cfg: ImageConfig) -> ImageResult:
    """Check and store one image (a path or encoded bytes). Raises ImageRejected."""
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

    if not data:
        raise ImageRejected("undecodable", "empty file (0 bytes)")
    try:
        decoded = decode_image(data)
    except UnidentifiedImageError:
        # PIL's message names the in-memory buffer (an address that changes every run).
        raise ImageRejected("undecodable", "not an image format PIL can read") from None
    except Exception as exc:  # PIL's plugins raise many types on hostile files: reject, never crash
        raise ImageRejected("undecodable", f"{type(exc).__name__}: {exc}") from None
    img, fmt, rotated, converted = decoded.image, decoded.format, decoded.rotated, decoded.converted

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
        img = fit_image(img, cfg.max_pixels)

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
    atomic_write(out_path, payload)

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
    atomic_write(meta_path, json.dumps(meta, sort_keys=True).encode())
    return result


def run_task(source: str | bytes, cfg: ImageConfig) -> ImageResult | tuple[str, str]:
    """Worker entry point: the result, or (reason, detail) for a rejected image (picklable)."""
    try:
        return process_image(source, cfg)
    except ImageRejected as exc:
        return exc.reason, exc.detail
