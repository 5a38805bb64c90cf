"""Every rejection reason lands in rejected.jsonl with its row; nothing is dropped silently."""

from __future__ import annotations

import json

import pytest
from helpers.prepare_data import lmm_r1_row, make_image, read_rows, run, write_jsonl

from seekworld.prepare.prompts import PromptTemplate
from seekworld.prepare.report import REJECTION_REASONS


@pytest.fixture
def mixed_input(tmp_path):
    d = tmp_path / "in"
    good = make_image(d / "good.jpg", seed=1)
    garbage = d / "garbage.jpg"
    garbage.write_bytes(b"\xff\xd8 this is not really a jpeg")
    whole = make_image(d / "whole.jpg", (400, 300), seed=2).read_bytes()
    (d / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    tiny = make_image(d / "tiny.jpg", (40, 40), seed=3)
    sliver = make_image(d / "sliver.png", (6000, 28), seed=4, fmt="PNG")  # aspect 214 > 200
    two_parts = json.loads(lmm_r1_row(str(good), "$x$")["message"])
    two_parts[0]["content"].insert(0, {"type": "image"})  # an image slot with no image
    rows = [
        # (id, row, expected reason or None)
        ("ok", lmm_r1_row(str(good), "$japan,osaka$"), None),
        ("missing", lmm_r1_row(str(d / "nope.jpg"), "$japan,osaka$"), "missing_file"),
        ("no-image-at-all", {"message": json.dumps([{"role": "user", "content": "hi"}]), "answer": "$a$"},
         "missing_file"),
        ("garbage", lmm_r1_row(str(garbage), "$japan,osaka$"), "undecodable"),
        ("truncated", lmm_r1_row(str(d / "truncated.jpg"), "$japan,osaka$"), "undecodable"),
        ("tiny", lmm_r1_row(str(tiny), "$japan,osaka$"), "too_small"),
        ("sliver", lmm_r1_row(str(sliver), "$japan,osaka$"), "too_small"),
        ("no-country", lmm_r1_row(str(good), "$ ,osaka$"), "unparseable_label"),
        ("bad-json-label", lmm_r1_row(str(good), '{"country": '), "unparseable_label"),
        ("no-label", {"message": lmm_r1_row(str(good), "")["message"]}, "unparseable_label"),
        ("slot-without-image", {"message": json.dumps(two_parts), "answer": "$japan,osaka$"},
         "image_tag_mismatch"),
        ("message-not-list", {"message": "{not json", "answer": "$japan,osaka$"}, "malformed_row"),
        ("no-message", {"answer": "$japan,osaka$"}, "malformed_row"),
    ]  # fmt: skip
    path = write_jsonl(d / "data.jsonl", [{"id": i, **r} for i, r, _ in rows])
    with path.open("a") as fh:
        fh.write("this line is not JSON\n")
    expected = {i: reason for i, _, reason in rows}
    expected["data-000014"] = "malformed_row"  # the bad line: rows without an id are named by line
    return path, expected


def test_each_reason_is_recorded(mixed_input, tmp_path):
    path, expected = mixed_input
    report = run(path, tmp_path / "out", balance=None)
    kept = {r["id"] for r in read_rows(tmp_path / "out" / "train.jsonl")}
    rejected = {r["id"]: r for r in read_rows(tmp_path / "out" / "rejected.jsonl")}
    assert kept == {i for i, reason in expected.items() if reason is None}
    assert {i: r["reason"] for i, r in rejected.items()} == {i: v for i, v in expected.items() if v}
    assert set(expected) == kept | set(rejected)  # every input row is accounted for
    for r in rejected.values():
        assert r["reason"] in REJECTION_REASONS and r["detail"] and r["split"] == "train"
        assert r["origin"].startswith("data.jsonl:")
    assert rejected["missing"]["images"] == [str(path.parent / "nope.jpg")]
    by_reason = report["splits"]["train"]["rejected_by_reason"]
    assert sum(by_reason.values()) == len(rejected) and set(by_reason) == set(REJECTION_REASONS)


def test_template_tag_count_mismatch(tmp_path):
    img = make_image(tmp_path / "a.jpg")
    path = write_jsonl(tmp_path / "d.jsonl", [lmm_r1_row(str(img), "$japan,osaka$", id="a")])
    run(path, tmp_path / "out", template=PromptTemplate(question="<image> and <image>: where?"))
    [rej] = read_rows(tmp_path / "out" / "rejected.jsonl")
    assert rej["reason"] == "image_tag_mismatch" and "2 <image> tag(s)" in rej["detail"]
    # The row's own question with a stray literal <image> tag is caught too.
    path = write_jsonl(
        tmp_path / "e.jsonl", [lmm_r1_row(str(img), "$japan,osaka$", text="<image> <image> where?", id="b")]
    )
    run(path, tmp_path / "out2", template=PromptTemplate(system=None, question="{question}"))
    [rej] = read_rows(tmp_path / "out2" / "rejected.jsonl")
    assert rej["reason"] == "image_tag_mismatch"


def test_corrupt_image_in_a_worker_does_not_stop_the_run(tmp_path):
    d = tmp_path / "in"
    rows = [lmm_r1_row(str(make_image(d / f"{i}.jpg", seed=i)), "$japan,osaka$", id=str(i)) for i in range(5)]
    (d / "bad.jpg").write_bytes(b"garbage")
    rows.insert(2, lmm_r1_row(str(d / "bad.jpg"), "$japan,osaka$", id="bad"))
    report = run(write_jsonl(d / "d.jsonl", rows), tmp_path / "out", workers=2, balance=None)
    assert report["splits"]["train"]["samples"] == 5
    assert [r["id"] for r in read_rows(tmp_path / "out" / "rejected.jsonl")] == ["bad"]
    assert [r["id"] for r in read_rows(tmp_path / "out" / "train.jsonl")] == ["0", "1", "2", "3", "4"]
