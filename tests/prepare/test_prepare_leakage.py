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
