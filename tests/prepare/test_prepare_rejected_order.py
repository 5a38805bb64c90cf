"""rejected.jsonl is stable: input order whatever the worker count, and no run-specific text."""

from __future__ import annotations

import pytest
from helpers.prepare_data import lmm_r1_row, make_image, read_rows, run, write_jsonl


@pytest.fixture
def rows_file(tmp_path):
    d = tmp_path / "in"
    (d / "empty.jpg").parent.mkdir(parents=True)
    (d / "empty.jpg").write_bytes(b"")
    (d / "garbage.jpg").write_bytes(b"not an image at all")
    good = [make_image(d / f"g{i}.jpg", seed=i) for i in range(4)]
    rows = [
        lmm_r1_row(str(d / "empty.jpg"), "$japan,osaka$", id="r0-empty"),  # rejected after decoding
        lmm_r1_row(str(good[0]), "$ ,osaka$", id="r1-label"),  # rejected before decoding
        lmm_r1_row(str(good[1]), "$japan,osaka$", id="ok1"),
        lmm_r1_row(str(d / "garbage.jpg"), "$japan,osaka$", id="r3-garbage"),
        lmm_r1_row(str(d / "missing.jpg"), "$japan,osaka$", id="r4-missing"),
        lmm_r1_row(str(good[2]), "", id="r5-nolabel"),
        lmm_r1_row(str(good[3]), "$japan,osaka$", id="ok2"),
    ]
    return write_jsonl(d / "data.jsonl", rows)


@pytest.mark.parametrize("workers", [1, 2])
def test_rejected_in_input_order_with_stable_details(rows_file, tmp_path, workers):
    first = tmp_path / f"out{workers}"
    run(rows_file, first, balance=None, workers=workers)
    rejected = read_rows(first / "rejected.jsonl")
    assert [r["id"] for r in rejected] == ["r0-empty", "r1-label", "r3-garbage", "r4-missing", "r5-nolabel"]
    by_id = {r["id"]: r for r in rejected}
    assert by_id["r0-empty"]["reason"] == "undecodable"
    assert by_id["r0-empty"]["detail"] == "empty file (0 bytes)"
    assert "0x" not in by_id["r3-garbage"]["detail"]  # no object address in the text
    again = tmp_path / f"again{workers}"
    run(rows_file, again, balance=None, workers=workers)
    assert (again / "rejected.jsonl").read_text() == (first / "rejected.jsonl").read_text()
