"""Crop the original image to a zoom box: upscale small crops, then apply the pixel budget.

    image = load_image(label.image)
    refusal = check_box(box, image.size, config)      # None, or why the box cannot be cropped
    tile = crop(image, box, config)                    # PIL image, ready for the processor

The size rules come from `seekworld.io.images` (Qwen2.5-VL's `smart_resize` and the budget fit),
so a crop's visual-token count is known before the processor sees it. One resize per crop: the
upscale and the budget are folded into one target size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from seekworld.io.images import QWEN_MAX_PIXELS, QWEN_MIN_PIXELS, fit_to_budget, open_rgb, visual_tokens
from seekworld.zoom.protocol import Box, Refusal, ZoomConfig

__all__ = ["box_pixels", "check_box", "crop", "crop_size", "load_image", "visual_tokens_of"]

_MAX_ASPECT = 200  # Qwen's processor refuses more elongated images


def load_image(path: str | Path) -> Image.Image:
    """Decode an image fully, upright and RGB, like `prepare` stores it (`seekworld.io.images`)."""
    return open_rgb(path)


def box_pixels(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel rectangle (left, top, right, bottom) covering the box; never empty for a valid box."""
    x1, y1, x2, y2 = box
    left = min(width - 1, max(0, math.floor(x1 * width)))
    top = min(height - 1, max(0, math.floor(y1 * height)))
    right = max(left + 1, min(width, math.ceil(x2 * width)))
    bottom = max(top + 1, min(height, math.ceil(y2 * height)))
    return left, top, right, bottom


def check_box(box: Box, size: Sequence[int], config: ZoomConfig) -> Refusal | None:
    """None when the box can be cropped from an image of `size` (width, height)."""
    left, top, right, bottom = box_pixels(box, int(size[0]), int(size[1]))
    w, h = right - left, bottom - top
    if min(w, h) < config.min_box_px:
        return Refusal(
            "too_small",
            f"the box covers only {w}x{h} pixels of the {size[0]}x{size[1]} image "
            f"(at least {config.min_box_px} per side)",
        )
    if max(w, h) / min(w, h) > _MAX_ASPECT:
        return Refusal("too_small", f"the box is {w}x{h} pixels, too thin to show")
    return None


def crop_size(width: int, height: int, config: ZoomConfig) -> tuple[int, int]:
    """Size (width, height) a `width`×`height` pixel crop is returned at."""
    w, h = width, height
    if min(w, h) < config.crop_min_side:
        # Upscale small crops: a 40-pixel sign is unreadable at its native size.
        scale = config.crop_min_side / min(w, h)
        w, h = max(1, round(w * scale)), max(1, round(h * scale))
    fitted = fit_to_budget(h, w, config.crop_max_pixels)
    if fitted is not None:
        h, w = fitted
    return w, h


def crop(image: Image.Image, box: Box, config: ZoomConfig) -> Image.Image:
    """The box cut out of `image` (the original), resized by `crop_size`. Call `check_box` first."""
    left, top, right, bottom = box_pixels(box, *image.size)
    region = image.crop((left, top, right, bottom))
    target = crop_size(region.width, region.height, config)
    if target != region.size:
        region = region.resize(target, Image.Resampling.BICUBIC)
    return region


def visual_tokens_of(
    size: Sequence[int], max_pixels: int = QWEN_MAX_PIXELS, min_pixels: int = QWEN_MIN_PIXELS
) -> int:
    """`<|image_pad|>` tokens a Qwen2.5-VL processor with these bounds gives an image of `size`."""
    return visual_tokens(int(size[1]), int(size[0]), max_pixels=max_pixels, min_pixels=min_pixels)
