"""Image work: Qwen token arithmetic, the pixel budget, EXIF, colour modes, content addressing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.prepare_data import lmm_r1_row, make_image, read_rows, run, write_jsonl
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from seekworld.prepare.images import (
    DEFAULT_MAX_PIXELS,
    FACTOR,
    ImageConfig,
    ImageRejected,
    fit_to_budget,
    process_image,
    smart_resize,
    visual_tokens,
)

sides = st.integers(min_value=28, max_value=6000)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(h=sides, w=sides, budget=st.integers(min_value=4, max_value=20000))
def test_smart_resize_matches_transformers(h, w, budget):
    # Our copy must be the library's function: tokens counted here are the ones training sees.
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize as hf_smart_resize

    if max(h, w) / min(h, w) > 200:
        return
    max_pixels = budget * FACTOR * FACTOR
    assert smart_resize(h, w, max_pixels=max_pixels) == hf_smart_resize(h, w, max_pixels=max_pixels)
    assert smart_resize(h, w) == hf_smart_resize(h, w, max_pixels=16384 * 28 * 28)


@pytest.mark.parametrize(
    "size,tokens",
    [
        ((480, 640), 391),  # the notes' measurements with the processor's defaults
        ((768, 1024), 999),
        ((1536, 2048), 4015),
    ],
)
def test_visual_tokens_known_sizes(size, tokens):
    assert visual_tokens(*size) == tokens


@settings(max_examples=500, deadline=None)
@given(h=sides, w=sides, budget=st.integers(min_value=4, max_value=4096))  # 4 = Qwen's minimum
# Rare among random examples, so pinned: an allowed 42×4887 whose short side floors to 28 gives
# 28×5628, over the processor's 200:1 limit.
@example(h=42, w=4887, budget=348)
@example(h=4887, w=42, budget=348)
def test_fit_to_budget_never_exceeds_and_is_stable(h, w, budget):
    if max(h, w) / min(h, w) > 200:
        return
    max_pixels = budget * FACTOR * FACTOR
    target = fit_to_budget(h, w, max_pixels)
    if target is None:
        assert visual_tokens(h, w) <= budget  # left alone only when it already fits
        return
    th, tw = target
    assert th % FACTOR == 0 and tw % FACTOR == 0
    assert (th // FACTOR) * (tw // FACTOR) <= budget
    # The processor (default settings) keeps a multiple-of-28 size as it is: same token count.
    assert visual_tokens(th, tw) == (th // FACTOR) * (tw // FACTOR)
    assert fit_to_budget(th, tw, max_pixels) is None


def test_default_budget_is_1024_tokens():
    assert DEFAULT_MAX_PIXELS == 1024 * 28 * 28
    h, w = fit_to_budget(1536, 2048, DEFAULT_MAX_PIXELS)
    assert (h // 28) * (w // 28) <= 1024
    assert fit_to_budget(768, 1024, DEFAULT_MAX_PIXELS) is None  # 999 tokens: kept as is


def test_exif_rotation_rgb_and_plain_copy(tmp_path):
    cfg = ImageConfig(out_dir=str(tmp_path / "images"))
    # Orientation 6 = rotate 90° clockwise to display: a 200×100 file is a 100×200 picture.
    rotated = process_image(str(make_image(tmp_path / "r.jpg", (200, 100), exif_orientation=6)), cfg)
    assert (rotated.width, rotated.height) == (100, 200)
    with Image.open(rotated.path) as im:
        assert im.size == (100, 200) and im.mode == "RGB"
        assert im.getexif().get(0x0112, 1) == 1

    grey = process_image(str(make_image(tmp_path / "g.png", (120, 90), seed=2, mode="L")), cfg)
    with Image.open(grey.path) as im:
        assert im.mode == "RGB" and grey.path.endswith(".png")  # lossless source stays lossless
    rgba = process_image(str(make_image(tmp_path / "a.png", (120, 90), seed=3, mode="RGBA")), cfg)
    with Image.open(rgba.path) as im:
        assert im.mode == "RGB"

    src = make_image(tmp_path / "plain.jpg", (120, 90), seed=4)
    plain = process_image(str(src), cfg)
    assert Path(plain.path).read_bytes() == src.read_bytes()  # nothing to change: bytes kept


def test_content_address_reuse_and_settings(tmp_path):
    src = str(make_image(tmp_path / "x.jpg", (300, 200)))
    cfg = ImageConfig(out_dir=str(tmp_path / "images"))
    first = process_image(src, cfg)
    again = process_image(src, cfg)
    assert not first.reused and again.reused and again.path == first.path
    # A different budget is different content: a new file, not the old one.
    other = process_image(src, ImageConfig(out_dir=str(tmp_path / "images"), max_pixels=28 * 28 * 4))
    assert other.key != first.key and other.tokens <= 4
    # Same bytes under another name: same file.
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(Path(src).read_bytes())
    assert process_image(str(copy), cfg).path == first.path
    # A damaged sidecar is redone, not trusted.
    meta = Path(first.path).with_suffix(".json")
    meta.write_text("{broken")
    redone = process_image(src, cfg)
    assert not redone.reused and json.loads(meta.read_text())["path"] == first.path


def test_rejections_raise_with_reason(tmp_path):
    cfg = ImageConfig(out_dir=str(tmp_path / "images"), min_side=64)
    with pytest.raises(ImageRejected) as exc:
        process_image(str(tmp_path / "nope.jpg"), cfg)
    assert exc.value.reason == "missing_file"
    with pytest.raises(ImageRejected) as exc:
        process_image(b"not an image at all", cfg)
    assert exc.value.reason == "undecodable"
    with pytest.raises(ImageRejected) as exc:
        process_image(str(make_image(tmp_path / "s.jpg", (63, 200))), cfg)
    assert exc.value.reason == "too_small"


def test_pixel_budget_end_to_end(tmp_path):
    big = make_image(tmp_path / "in" / "big.jpg", (1600, 1200), seed=1)
    small = make_image(tmp_path / "in" / "small.jpg", (320, 240), seed=2)
    src = write_jsonl(
        tmp_path / "in" / "data.jsonl",
        [lmm_r1_row(str(big), "$japan,osaka$"), lmm_r1_row(str(small), "$china,sichuan$")],
    )
    budget = 256
    report = run(src, tmp_path / "out", max_pixels=budget * 28 * 28)
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    sizes = {}
    for row in rows:
        with Image.open(row["images"][0]) as im:
            sizes[row["label"]] = im.size
    w, h = sizes["$japan,osaka$"]
    assert w % 28 == 0 and h % 28 == 0 and (w // 28) * (h // 28) <= budget
    assert sizes["$china,sichuan$"] == (320, 240)  # under the budget: not touched
    tokens = report["splits"]["train"]["visual_tokens"]
    assert tokens["before"]["max"] == visual_tokens(1200, 1600) > budget
    assert tokens["after"]["max"] <= budget
    assert report["splits"]["train"]["images"]["resized"] == 1
