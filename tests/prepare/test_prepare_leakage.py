"""The same picture in two splits is found by content hash, in one run or across runs."""

from __future__ import annotations

import json

from helpers.prepare_data import lmm_r1_row, make_image, run, write_jsonl
from PIL import Image


def _inputs(tmp_path):
    d = tmp_path / "in"
    shared = make_image(d / "shared.png", seed=99, fmt="PNG")
    # The same pixels stored another way: different bytes, same picture.
    with Image.open(shared) as im:
        im.save(d / "shared_again.bmp")
    train = write_jsonl(
        d / "train.jsonl",
        [
            lmm_r1_row(str(shared), "$japan,osaka$", id="t-shared"),
            lmm_r1_row(str(make_image(d / "t1.jpg", seed=1)), "$japan,osaka$", id="t1"),
        ],
    )
    test = write_jsonl(
        d / "test.jsonl",
        [
            lmm_r1_row(str(d / "shared_again.bmp"), "$japan,osaka$", id="g-shared"),
            lmm_r1_row(str(make_image(d / "g1.jpg", seed=2)), "$japan,osaka$", id="g1"),
        ],
    )
    return train, test


def test_leakage_in_one_run(tmp_path):
    train, test = _inputs(tmp_path)
    report = run([("train", train), ("global_test", test)], tmp_path / "out")
    [leak] = report["leakage"]
    assert leak["splits"] == {"global_test": ["g-shared"], "train": ["t-shared"]}
    assert "t-shared" in (tmp_path / "out" / "report.md").read_text()


def test_leakage_across_runs_into_one_folder(tmp_path):
    train, test = _inputs(tmp_path)
    out = tmp_path / "out"
    first = run([("train", train)], out)
    assert first["leakage"] == [] and set(first["splits"]) == {"train"}
    second = run([("global_test", test)], out)
    assert set(second["splits"]) == {"train", "global_test"}  # the report covers the whole folder
    assert [leak["splits"] for leak in second["leakage"]] == [
        {"global_test": ["g-shared"], "train": ["t-shared"]}
    ]
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["leakage"] == second["leakage"]


def test_duplicates_within_a_split_are_counted_not_leakage(tmp_path):
    img = make_image(tmp_path / "a.jpg")
    src = write_jsonl(
        tmp_path / "d.jsonl",
        [lmm_r1_row(str(img), "$japan,osaka$", id="a"), lmm_r1_row(str(img), "$japan,osaka$", id="b")],
    )
    report = run(src, tmp_path / "out")
    assert report["leakage"] == []
    assert report["splits"]["train"]["duplicate_images_within_split"] == 1


# --- near-duplicates by perceptual hash ----------------------------------------------------------

import importlib.util  # noqa: E402
import io  # noqa: E402
from pathlib import Path  # noqa: E402

from seekworld.prepare import leakage  # noqa: E402


def _bench():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_near_duplicates.py"
    spec = importlib.util.spec_from_file_location("bench_near_duplicates", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_near_duplicates_across_splits_named_with_distance_and_threshold(tmp_path):
    bench = _bench()
    d = tmp_path / "in"
    d.mkdir()
    original, sibling, other = bench.street(1, 0), bench.street(1, 1), bench.street(2, 0)
    original.save(d / "orig.png")
    buf = io.BytesIO()
    original.save(buf, format="JPEG", quality=50)
    (d / "reencoded.jpg").write_bytes(buf.getvalue())  # other pixels: the pixel hash misses it
    bench._crop(original, 0.03).save(d / "cropped.png")
    sibling.save(d / "sibling.png")  # the same kind of street, another photo: must not match
    other.save(d / "other.png")
    other.resize((320, 240)).save(d / "other_small.png")  # a resized copy in the same split
    train = write_jsonl(
        d / "train.jsonl",
        [
            lmm_r1_row(str(d / "orig.png"), "$japan,osaka$", id="t-orig"),
            lmm_r1_row(str(d / "other.png"), "$japan,osaka$", id="t-other"),
            lmm_r1_row(str(d / "other_small.png"), "$japan,osaka$", id="t-other-small"),
        ],
    )
    test = write_jsonl(
        d / "test.jsonl",
        [
            lmm_r1_row(str(d / "reencoded.jpg"), "$japan,osaka$", id="g-reencoded"),
            lmm_r1_row(str(d / "cropped.png"), "$japan,osaka$", id="g-cropped"),
            lmm_r1_row(str(d / "sibling.png"), "$japan,osaka$", id="g-sibling"),
        ],
    )
    report = run([("train", train), ("global_test", test)], tmp_path / "out")
    assert report["leakage"] == []  # no identical pixels anywhere
    near = report["near_duplicates"]
    assert near["threshold"] == leakage.DEFAULT_THRESHOLD and "pHash" in near["hash"]
    assert near["images_hashed"] == 6
    across = {
        frozenset({(p["a"]["split"], p["a"]["id"]), (p["b"]["split"], p["b"]["id"])}): p["distance"]
        for p in near["across_splits"]
    }
    assert set(across) == {
        frozenset({("train", "t-orig"), ("global_test", "g-reencoded")}),
        frozenset({("train", "t-orig"), ("global_test", "g-cropped")}),
    }
    # Other pixels (so no exact match), yet within the threshold (a JPEG q50 copy may even hash alike).
    assert all(0 <= dist <= leakage.DEFAULT_THRESHOLD for dist in across.values())
    within = near["within_split"]
    assert [sorted(p["ids"]) for p in within["train"]] == [["t-other", "t-other-small"]]
    assert [sorted(p["ids"]) for p in within["global_test"]] == [["g-cropped", "g-reencoded"]]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "## Near-duplicate images (perceptual hash)" in md
    assert f"Hamming distance ≤ {leakage.DEFAULT_THRESHOLD} of 64 bits" in md
    assert "| train | t-other | t-other-small |" in md or "| train | t-other-small | t-other |" in md


def test_near_duplicate_pairs_by_hand_and_in_blocks(monkeypatch):
    items = [
        ("train", "a", "0000000000000000"),
        ("train", "a", "0000000000000001"),  # the same sample's second image: not a pair with itself
        ("test", "b", "00000000000000ff"),  # 8 bits from a[0], 7 from a[1]
        ("test", "c", "000000000000ffff"),  # 16 bits from a: too far
    ]
    pairs = leakage.near_duplicate_pairs(items, threshold=8)
    assert [(p["a"]["id"], p["b"]["id"], p["distance"]) for p in pairs] == [
        ("a", "b", 7),
        ("b", "c", 8),  # closest first, then by split and id
        ("a", "b", 8),
    ]
    assert leakage.near_duplicate_pairs(items, threshold=6) == []
    assert leakage.hamming("ff", "0f") == 4
    # Blocks of 3 rows give the same pairs as one block (all rows compared with all columns).
    many = [("s", str(i), f"{(i * 0x9E3779B97F4A7C15) % 2**64:016x}") for i in range(40)] + items
    whole = leakage.near_duplicate_pairs(many, threshold=20)
    monkeypatch.setattr(leakage, "_CHUNK", 3)
    assert leakage.near_duplicate_pairs(many, threshold=20) == whole
    brute = sum(
        1
        for i in range(len(many))
        for j in range(i + 1, len(many))
        if many[i][:2] != many[j][:2] and leakage.hamming(many[i][2], many[j][2]) <= 20
    )
    assert len(whole) == brute


def test_threshold_keeps_precision_on_similar_streets_and_catches_copies():
    """A small run of the benchmark's set: no two different streets match at the threshold used,
    and every re-encode, resize and 3% crop of an original does."""
    bench = _bench()
    items = bench.build_set(scenes=4)
    r = bench.measure(items, [leakage.DEFAULT_THRESHOLD])[leakage.DEFAULT_THRESHOLD]
    assert r["fp"] == 0 and r["precision"] == 1.0
    for kind in ("jpeg q90", "jpeg q50", "resize 0.5x", "resize 1.5x", "crop 3%"):
        assert r["recall_by_kind"][kind] == 1.0, kind
