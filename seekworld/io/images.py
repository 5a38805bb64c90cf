"""Images: decode to upright RGB (one transparency rule), Qwen2.5-VL size maths, data URLs.

    image = open_rgb("photo.png")                 # EXIF-oriented RGB, transparency on white
    h, w = fit_to_budget(image.height, image.width, max_pixels) or (image.height, image.width)
    url = data_url(image)                         # or data_url("photo.jpg") to send the file as is

Every part of seekworld that turns a file into pixels (prepare, eval and predict, the demo, zoom
crops, SFT, preflight) calls `open_rgb`/`decode_image`, so training and inference see one picture.

Transparency: RGBA, LA and palette images with transparency are composited onto white, as vLLM's
and most inference stacks' image loaders do (dropping alpha instead leaves black wherever the
image is transparent, a picture the model is never shown at inference).

Visual tokens follow Qwen2.5-VL's image processor: the image is resized to multiples of 28
(`smart_resize`), and each 28×28 block is one token (14-pixel patches merged 2×2).
"""

from __future__ import annotations

import base64
import io
import math
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FACTOR",
    "MAX_ASPECT_RATIO",
    "QWEN_MAX_PIXELS",
    "QWEN_MIN_PIXELS",
    "DecodedImage",
    "data_url",
    "decode_image",
    "fit_image",
    "fit_to_budget",
    "open_rgb",
    "png_bytes",
    "smart_resize",
    "to_rgb",
    "visual_tokens",
]

FACTOR = 28  # patch 14 × spatial merge 2
DEFAULT_MAX_PIXELS = 1024 * FACTOR * FACTOR  # at most 1,024 visual tokens per image
QWEN_MIN_PIXELS = 56 * 56  # Qwen2.5-VL processor defaults (what training sees with no budget)
QWEN_MAX_PIXELS = 16384 * FACTOR * FACTOR
MAX_ASPECT_RATIO = 200  # the processor refuses a longer side over 200 times the shorter one
_ORIENTATION = 0x0112  # EXIF tag
_WHITE = (255, 255, 255)


# --- decoding ----------------------------------------------------------------------------------


@dataclass
class DecodedImage:
    image: Any  # PIL.Image.Image, mode RGB, upright
    format: str  # the decoder's name ("JPEG", "PNG", ...; "" for a PIL image passed in)
    rotated: bool  # an EXIF orientation was applied
    converted: bool  # the mode was not RGB (transparency composited, or another mode converted)


def _has_alpha(img: Any) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info)


def to_rgb(img: Any) -> Any:
    """`img` in mode RGB; transparent pixels composited onto white (the one rule)."""
    from PIL import Image

    if img.mode == "RGB":
        return img
    if _has_alpha(img):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _orient(img: Any) -> tuple[Any, bool]:
    from PIL import ImageOps

    if img.getexif().get(_ORIENTATION, 1) in (1, None):
        return img, False
    return ImageOps.exif_transpose(img), True


def decode_image(source: str | Path | bytes | Any) -> DecodedImage:
    """Decode every pixel of a path, encoded bytes or PIL image: upright (EXIF) and RGB.

    Raises what PIL raises on a broken file (many types), or ValueError for zero bytes."""
    from PIL import Image

    if isinstance(source, Image.Image):
        img, rotated = _orient(source)
        rgb = to_rgb(img)
        return DecodedImage(rgb if rgb is not source else source.copy(), "", rotated, rgb is not img)
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise ValueError("empty file (0 bytes)")
        fp: Any = io.BytesIO(source)
    else:
        fp = Path(source)
        if fp.is_file() and fp.stat().st_size == 0:
            raise ValueError("empty file (0 bytes)")
    with Image.open(fp) as opened:
        fmt = opened.format or ""
        opened.load()  # decode every pixel now: a truncated file fails here, not later
        img, rotated = _orient(opened)
        rgb = to_rgb(img)
        converted = rgb is not img
        if rgb is opened:
            rgb = opened.copy()  # detach from the file before it closes
    return DecodedImage(rgb, fmt, rotated, converted)


def open_rgb(source: str | Path | bytes | Any) -> Any:
    """A path, encoded bytes or PIL image as an upright RGB PIL image (see `decode_image`)."""
    return decode_image(source).image


# --- sizes (Qwen2.5-VL) ------------------------------------------------------------------------


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
    if max(height, width) / min(height, width) > MAX_ASPECT_RATIO:
        raise ValueError(
            f"absolute aspect ratio must be smaller than {MAX_ASPECT_RATIO}, "
            f"got {max(height, width) / min(height, width)}"
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


def visual_tokens(
    height: int, width: int, max_pixels: int = QWEN_MAX_PIXELS, min_pixels: int = QWEN_MIN_PIXELS
) -> int:
    """Visual tokens Qwen2.5-VL's processor gives an image of this size (`<|image_pad|>` count)."""
    h, w = smart_resize(height, width, min_pixels=min_pixels, max_pixels=max_pixels)
    return (h // FACTOR) * (w // FACTOR)


def fit_to_budget(height: int, width: int, max_pixels: int) -> tuple[int, int] | None:
    """The size (height, width) to store an image at, or None when it already fits.

    It fits when the processor (default settings) turns it into at most max_pixels/28² tokens. When
    it does not, the answer is `smart_resize` under the budget: multiples of 28, which the processor
    then leaves unchanged, so the token count seen in training is exactly the one reported here.
    Raises ValueError for a budget under the processor's minimum (56², one rule for every caller).
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
    # Flooring the short side to 28 can tip an allowed shape (42×4887: 1:116) past the processor's
    # 200:1 limit (28×5628), which it refuses at training time: shorten the long side to fit it.
    while max(h, w) > MAX_ASPECT_RATIO * min(h, w):
        if h > w:
            h -= FACTOR
        else:
            w -= FACTOR
    return h, w


def fit_image(image: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> Any:
    """`image` shrunk as `seekworld prepare` shrinks training images (unchanged when it fits)."""
    from PIL import Image

    target = fit_to_budget(image.height, image.width, max_pixels)
    if target is None:
        return image
    h, w = target
    # reducing_gap: a cheap box pre-shrink before the bicubic pass (≈3× faster, same look).
    return image.resize((w, h), Image.Resampling.BICUBIC, reducing_gap=3.0)


# --- data URLs ---------------------------------------------------------------------------------


def data_url(image: Any, *, mime: str | None = None, max_bytes: int | None = None) -> str:
    """A base64 `data:` URL (OpenAI `image_url` content).

    A path is sent as stored (no re-encoding; MIME from its name), bytes as given (`mime`, default
    JPEG), a PIL image as PNG. `max_bytes` bounds the payload: ValueError when it is over."""
    if isinstance(image, (str, Path)):
        data = Path(image).read_bytes() if max_bytes is None else _read_bounded(Path(image), max_bytes)
        mime = mime or mimetypes.guess_type(str(image))[0] or "image/jpeg"
    elif isinstance(image, (bytes, bytearray)):
        data, mime = bytes(image), mime or "image/jpeg"
    else:
        data, mime = png_bytes(image), "image/png"
    if max_bytes is not None and len(data) > max_bytes:
        raise ValueError(f"image is {len(data)} bytes, over the {max_bytes}-byte limit")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def png_bytes(image: Any) -> bytes:
    """A PIL image encoded as PNG (lossless: what a crop or an in-memory image is sent or stored as)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _read_bounded(path: Path, max_bytes: int) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"image {path} is over the {max_bytes}-byte limit")
    return data
