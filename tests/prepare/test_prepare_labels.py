"""The label field round-trips through `parse_label`; unresolved labels are listed and kept."""

from __future__ import annotations

import json

import pytest
from helpers.prepare_data import lmm_r1_row, make_image, read_rows, run, write_jsonl

from seekworld.geo.label import parse_label
from seekworld.prepare.pipeline import output_label


@pytest.mark.parametrize(
    "label,coords,fmt,expect_json",
    [
        ("$japan,osaka/osaka prefecture$", None, "auto", False),  # plain SeekWorld string
        ("$ China , 四川/sichuan $", None, "string", False),  # spacing normalised on the way
        ("$singapore$", None, "auto", False),  # country only
        ("$japan,osaka$", (34.69, 135.5), "auto", True),  # coordinates -> JSON
        ("$japan,osaka/大阪$", None, "json", True),  # asked for JSON: carries the image path
        ('{"country": "Brazil", "region": "Bahia", "aliases": ["BA"], "lat": -12.9, "lon": -38.5}', None,
         "auto", True),  # a JSON input label keeps its coordinates
        ('{"label": "$china,sichuan$", "split_note": "x"}', None, "json", True),  # extras travel on
    ],
)  # fmt: skip
def test_output_label_round_trips(label, coords, fmt, expect_json):
    gold = parse_label(label)
    lat, lon = coords or (gold.lat, gold.lon)
    out = output_label(gold, lat, lon, "/abs/img.jpg", fmt)
    assert out.startswith("{") == expect_json
    again = parse_label(out)
    assert (again.country_id, again.place_id, again.regions) == (gold.country_id, gold.place_id, gold.regions)
    assert again.country == gold.country
    if expect_json:
        assert again.image == "/abs/img.jpg"
        assert (again.lat, again.lon) == (lat, lon)


def test_every_written_label_parses(sample_dir, tmp_path):
    for name in ("lmm_r1.jsonl", "table.csv"):
        run(sample_dir / name, tmp_path / name, label_format="auto")
        rows = read_rows(tmp_path / name / "train.jsonl")
        assert len(rows) >= 3, name  # an empty output would pass the loop below vacuously
        for row in rows:
            gold = parse_label(row["label"])
            assert gold.country_id and gold.place_id, row["label"]  # the sample labels all resolve
            if gold.image is not None:
                assert gold.image == row["images"][0]


def test_label_format_json_and_unresolved_listed(tmp_path):
    img = make_image(tmp_path / "a.jpg")
    rows = [
        lmm_r1_row(str(img), "$narnia,cair paravel$", id="fiction"),  # no such country
        lmm_r1_row(str(img), "$france,atlantis$", id="no-region"),  # country fine, region not
        lmm_r1_row(str(img), "$france,brittany$", id="fine"),
    ]
    report = run(write_jsonl(tmp_path / "d.jsonl", rows), tmp_path / "out", label_format="json")
    out = {r["id"]: r for r in read_rows(tmp_path / "out" / "train.jsonl")}
    assert set(out) == {"fiction", "no-region", "fine"}  # unresolved labels are kept
    assert json.loads(out["fine"]["label"])["image"] == out["fine"]["images"][0]
    unresolved = {u["id"]: u for u in report["unresolved_labels"]}
    assert set(unresolved) == {"fiction", "no-region"}
    assert "not a country name" in unresolved["fiction"]["why"]
    assert "atlantis" in unresolved["no-region"]["why"].lower()
    countries = report["splits"]["train"]["countries"]
    assert countries["France"] == 2 and countries["narnia (unresolved)"] == 1
    assert report["splits"]["train"]["continents"] == {"Europe": 2, "Unknown": 1}
    md = (tmp_path / "out" / "report.md").read_text()
    assert "narnia,cair paravel" in md


def test_row_coordinates_are_checked(tmp_path):
    img = make_image(tmp_path / "a.jpg")
    (tmp_path / "t.csv").write_text(
        "image,label,lat,lon\n"
        f'{img},"$japan,osaka$",34.7,135.5\n'
        f'{img},"$japan,osaka$",95.0,135.5\n'  # latitude out of range
        f'{img},"$japan,osaka$",34.7,\n'  # half a coordinate
        f'{img},"$japan,osaka$",north,135.5\n'  # not a number
        f"{img},$japan,osaka$,34.7,135.5\n"  # unquoted comma: one cell too many
    )
    run(tmp_path / "t.csv", tmp_path / "out")
    assert len(read_rows(tmp_path / "out" / "train.jsonl")) == 1
    rejected = read_rows(tmp_path / "out" / "rejected.jsonl")
    assert [r["reason"] for r in rejected] == ["unparseable_label"] * 3 + ["malformed_row"]
    assert "out of range" in rejected[0]["detail"] and "only one" in rejected[1]["detail"]
    assert "must be a number" in rejected[2]["detail"]
