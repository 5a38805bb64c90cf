"""One image rule for training and inference: upright (EXIF), RGB, transparency composited onto
white; prepare, eval/predict, zoom crops and SFT all decode through `seekworld.io.images`."""

from __future__ import annotations

import io

import pytest
from helpers.prepare_data import lmm_r1_row, make_image, read_rows, run, write_jsonl
from PIL import Image

import seekworld.io.images as images
from seekworld.io.images import data_url, decode_image, fit_to_budget, open_rgb, to_rgb

RED = (200, 30, 30)


def _half_transparent(path, mode: str = "RGBA", size=(120, 80)):
    """Left half opaque colour, right half fully transparent with black underneath (what a
    drop-alpha conversion would show)."""
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (size[0] // 2, size[1]), (*RED, 255)), (0, 0))
    if mode == "LA":
        img = img.convert("LA")
    img.save(path, format="PNG")
    return path


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparency_is_composited_onto_white(tmp_path, mode):
    rgb = open_rgb(_half_transparent(tmp_path / "t.png", mode))
    assert rgb.mode == "RGB"
    assert rgb.getpixel((100, 40)) == (255, 255, 255)  # transparent: white, not black
    left = rgb.getpixel((10, 40))
    assert left == (RED if mode == "RGBA" else (left[0],) * 3) and left != (255, 255, 255)


def test_palette_transparency_and_partial_alpha(tmp_path):
    p = Image.new("P", (10, 10), 0)
    p.putpalette([0, 0, 0, 10, 200, 10] + [0] * 762)
    p.info["transparency"] = 0
    assert to_rgb(p).getpixel((0, 0)) == (255, 255, 255)
    half = Image.new("RGBA", (4, 4), (0, 0, 0, 128))  # 50% black over white: mid grey
    assert to_rgb(half).getpixel((0, 0)) in {(127, 127, 127), (128, 128, 128)}


def test_exif_rotation_and_sources(tmp_path):
    path = make_image(tmp_path / "r.jpg", (200, 100), exif_orientation=6)  # stored landscape, shown portrait
    decoded = decode_image(path)
    assert decoded.image.size == (100, 200) and decoded.rotated and decoded.format == "JPEG"
    assert open_rgb(path.read_bytes()).size == (100, 200)
    with Image.open(path) as im:
        assert open_rgb(im).size == (100, 200)
    plain = decode_image(make_image(tmp_path / "p.jpg", (50, 40)))
    assert not plain.rotated and not plain.converted


def test_empty_file_is_a_stable_error(tmp_path):
    (tmp_path / "e.jpg").write_bytes(b"")
    for source in (tmp_path / "e.jpg", b""):
        with pytest.raises(ValueError, match=r"^empty file \(0 bytes\)$"):
            open_rgb(source)


def test_data_url(tmp_path):
    path = make_image(tmp_path / "a.jpg", (30, 30))
    url = data_url(path)
    assert url.startswith("data:image/jpeg;base64,")
    assert data_url(path.read_bytes()) == url  # a path is sent as stored: no re-encoding
    assert data_url(Image.new("RGB", (3, 3))).startswith("data:image/png;base64,")
    with pytest.raises(ValueError, match="byte limit"):
        data_url(path, max_bytes=10)


def test_fit_to_budget_floor():
    with pytest.raises(ValueError, match="minimum"):
        fit_to_budget(1000, 1000, 28 * 28)
    assert fit_to_budget(100, 100, 1024 * 28 * 28) is None


# --- every consumer goes through the one function ----------------------------------------------


@pytest.fixture
def spy(monkeypatch):
    calls = []
    real = images.to_rgb

    def counting(img):
        calls.append(img.mode)
        return real(img)

    monkeypatch.setattr(images, "to_rgb", counting)
    return calls


def test_prepare_composites_onto_white_and_orients(tmp_path, spy):
    d = tmp_path / "in"
    d.mkdir()
    rgba = _half_transparent(d / "rgba.png", "RGBA", (200, 120))
    la = _half_transparent(d / "la.png", "LA", (200, 120))
    rotated = make_image(d / "rot.jpg", (200, 100), exif_orientation=6)
    rows = [lmm_r1_row(str(p), "$japan,osaka$", id=p.stem) for p in (rgba, la, rotated)]
    run(write_jsonl(d / "data.jsonl", rows), tmp_path / "out", balance=None)
    out = {r["id"]: r["images"][0] for r in read_rows(tmp_path / "out" / "train.jsonl")}
    for name in ("rgba", "la"):
        with Image.open(out[name]) as im:
            assert im.mode == "RGB" and im.getpixel((180, 60)) == (255, 255, 255)
    with Image.open(out["rot"]) as im:
        assert im.size == (100, 200)
    assert {"RGBA", "LA"} <= set(spy)


def test_eval_predict_zoom_and_sft_use_the_same_rule(tmp_path, spy):
    from seekworld.eval.inference import load_photo
    from seekworld.eval.rows import load_images
    from seekworld.sft.data import _load_image
    from seekworld.zoom.crop import crop, load_image
    from seekworld.zoom.protocol import ZoomConfig

    path = _half_transparent(tmp_path / "t.png", "RGBA", (200, 120))
    got = {
        "eval": load_images({"images": [str(path)]})[0],
        "predict": load_photo(path),
        "zoom": load_image(path),
        "sft": _load_image(str(path)),
    }
    assert spy == ["RGBA"] * 4  # each consumer decoded through seekworld.io.images.to_rgb
    for name, img in got.items():
        assert img.mode == "RGB" and img.getpixel((180, 60)) == (255, 255, 255), name
    tile = crop(got["zoom"], (0.6, 0.0, 1.0, 1.0), ZoomConfig())  # the transparent half, cropped
    assert tile.getpixel((tile.width // 2, tile.height // 2)) == (255, 255, 255)
    rotated = make_image(tmp_path / "rot.jpg", (200, 100), exif_orientation=6)
    assert load_images({"images": [str(rotated)]})[0].size == (100, 200)  # eval now applies EXIF too
    buf = io.BytesIO()
    got["eval"].save(buf, format="PNG")
    assert buf.getvalue()
