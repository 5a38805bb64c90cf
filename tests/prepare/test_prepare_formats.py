"""Each input format, read end to end by `prepare`, and format auto-detection."""

from __future__ import annotations

import csv
import json
import sys
import types
from pathlib import Path

import pytest
from helpers.prepare_data import make_image, read_rows, run, write_jsonl

from seekworld.geo.label import parse_label
from seekworld.prepare.formats import FORMATS, InputError, detect_format, read_input
from seekworld.prepare.pipeline import PrepareError


def _labels(out: Path, split: str = "train") -> dict[str, str]:
    return {r["id"]: r["label"] for r in read_rows(out / f"{split}.jsonl")}


def test_registry_names_and_unknown_format():
    assert set(FORMATS.names()) == {"lmm-r1", "table", "hf"}
    with pytest.raises(KeyError, match="Did you mean: lmm-r1"):
        FORMATS.get("lmm_r1")


def test_lmm_r1_sample(sample_dir, tmp_path):
    assert detect_format(str(sample_dir / "lmm_r1.jsonl")) == "lmm-r1"
    report = run(sample_dir / "lmm_r1.jsonl", tmp_path / "out", balance=None)
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    assert len(rows) == 20 and report["splits"]["train"]["rejected"] == 0
    first = rows[0]
    assert first["id"] == "ru-moscow" and first["label"] == "$russia,moscow/москва$"
    assert first["difficulty"] == "easy" and first["datasource"] == "train"
    assert Path(first["images"][0]).is_absolute() and Path(first["images"][0]).exists()
    assert first["prompt"][0]["role"] == "system"
    assert first["prompt"][1]["content"].startswith("<image>")


def test_table_csv_sample_with_coordinates(sample_dir, tmp_path):
    assert detect_format(str(sample_dir / "table.csv")) == "table"
    run(sample_dir / "table.csv", tmp_path / "out", balance=None, datasource="synthetic-default")
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    assert len(rows) == 20
    label = json.loads(rows[0]["label"])  # lat/lon present: JSON label with the image path
    assert label == {
        "country": "Russia",
        "region": "Moscow",
        "aliases": ["Москва"],
        "lat": 55.75,
        "lon": 37.62,
        "image": rows[0]["images"][0],
    }
    assert rows[0]["datasource"] == "synthetic"  # the row's `source` column wins over --datasource


def test_table_jsonl_label_column_and_relative_paths(tmp_path):
    make_image(tmp_path / "data" / "pics" / "a.jpg", seed=1)
    make_image(tmp_path / "data" / "pics" / "b.png", seed=2, fmt="PNG")
    src = write_jsonl(
        tmp_path / "data" / "list.jsonl",
        [
            {"image": "pics/a.jpg", "label": "$japan,osaka/大阪府$", "level": "Hard", "uid": "x1"},
            {"image": "pics/b.png", "Country": "China", "Region": "Sichuan/四川", "uid": "x2"},
        ],
    )
    assert detect_format(str(src)) == "table"
    run(src, tmp_path / "out")
    rows = {r["id"]: r for r in read_rows(tmp_path / "out" / "train.jsonl")}
    assert rows["x1"]["label"] == "$japan,osaka/大阪府$" and rows["x1"]["difficulty"] == "hard"
    assert rows["x2"]["label"] == "$China,Sichuan/四川$" and rows["x2"]["difficulty"] is None


def test_table_parquet_with_image_bytes(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    blobs = [make_image(tmp_path / f"src{i}.jpg", seed=10 + i).read_bytes() for i in range(3)]
    table = pa.table(
        {
            "image": [{"bytes": b, "path": f"src{i}.jpg"} for i, b in enumerate(blobs)],
            "country": ["France", "Germany", "Brazil"],
            "region": ["Brittany", "Bavaria", "Bahia"],
            "difficulty": ["easy", "medium", "hard"],
        }
    )
    path = tmp_path / "set.parquet"
    pq.write_table(table, path)
    assert detect_format(str(path)) == "table"
    run(path, tmp_path / "out", balance=None)
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    assert [r["label"] for r in rows] == ["$France,Brittany$", "$Germany,Bavaria$", "$Brazil,Bahia$"]
    assert all(Path(r["images"][0]).parent.parent == tmp_path / "out" / "images" for r in rows)


def test_benchmark_list_with_image_root_and_reverse_geocoding(tmp_path, monkeypatch):
    # Im2GPS3k/YFCC4k style: image id + coordinates only; images in another folder.
    make_image(tmp_path / "imgs" / "1_a.jpg", seed=1)
    make_image(tmp_path / "imgs" / "2_b.jpg", seed=2)
    path = tmp_path / "lists" / "im2gps3k_places365.csv"
    path.parent.mkdir()
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["IMG_ID", "AUTHOR", "LAT", "LON"])
        w.writerow(["1_a.jpg", "someone", "34.69", "135.50"])
        w.writerow(["2_b.jpg", "someone", "30.66", "104.06"])
    fake = types.ModuleType("reverse_geocode")  # the optional package, faked: no data download here
    places = {(34.69, 135.5): ("Japan", "Osaka"), (30.66, 104.06): ("China", "Sichuan")}
    fake.search = lambda coords: [{"country": places[c][0], "state": places[c][1]} for c in coords]
    monkeypatch.setitem(sys.modules, "reverse_geocode", fake)
    run(path, tmp_path / "out", image_root=str(tmp_path / "imgs"))
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    gold = [parse_label(r["label"]) for r in rows]
    assert [(g.country_id, g.place_id, g.lat) for g in gold] == [
        ("JP", "JP-27", 34.69),
        ("CN", "CN-SC", 30.66),
    ]


def test_benchmark_list_without_reverse_geocoder_is_rejected_with_reason(tmp_path, monkeypatch):
    make_image(tmp_path / "1.jpg")
    path = tmp_path / "list.csv"
    path.write_text("IMG_ID,LAT,LON\n1.jpg,34.69,135.50\n")
    monkeypatch.setitem(sys.modules, "reverse_geocode", None)  # import fails
    run(path, tmp_path / "out")
    [rej] = read_rows(tmp_path / "out" / "rejected.jsonl")
    assert rej["reason"] == "unparseable_label" and "reverse_geocode" in rej["detail"]


def _hf_dataset(tmp_path: Path):
    datasets = pytest.importorskip("datasets")
    paths = [str(make_image(tmp_path / "hfsrc" / f"{i}.jpg", seed=20 + i)) for i in range(3)]
    ds = datasets.Dataset.from_dict(
        {
            "image": paths,
            "label": ["$india,kerala$", "$india,goa$", "$peru,cusco$"],
            "difficulty": ["easy", "hard", "hard"],
        }
    ).cast_column("image", datasets.Image())
    return datasets, ds


def test_hf_save_to_disk_folder(tmp_path):
    _, ds = _hf_dataset(tmp_path)
    folder = tmp_path / "saved"
    ds.save_to_disk(str(folder))
    assert detect_format(str(folder)) == "hf"
    run(folder, tmp_path / "out", balance=None)
    assert sorted(_labels(tmp_path / "out").values()) == ["$india,goa$", "$india,kerala$", "$peru,cusco$"]


def test_hf_parquet_folder_and_dataset_dict_split(tmp_path):
    _, ds = _hf_dataset(tmp_path)
    folder = tmp_path / "pq" / "data"
    folder.mkdir(parents=True)
    ds.to_parquet(str(folder / "train-00000-of-00001.parquet"))
    ds.select([0]).to_parquet(str(folder / "test-00000-of-00001.parquet"))
    root = tmp_path / "pq"
    assert detect_format(str(root)) == "hf"
    with pytest.raises(PrepareError, match="choose one with hf:"):
        run(root, tmp_path / "out")
    run([("test", f"hf:{root}:test")], tmp_path / "out")
    assert list(_labels(tmp_path / "out", "test").values()) == ["$india,kerala$"]


def test_hf_hub_name_offline_is_a_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("datasets")
    import socket

    def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(PrepareError, match=r"hub is unreachable.*save_to_disk"):
        run([("train", "hf:TheEighthDay/SeekWorld:train")], tmp_path / "out")


def test_hf_hub_name_in_offline_mode_is_a_clear_error(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    with pytest.raises(PrepareError, match=r"cannot load .*HF_HUB_OFFLINE is set"):
        run([("train", "hf:TheEighthDay/SeekWorld")], tmp_path / "out")


def test_detect_format_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        detect_format(str(tmp_path / "missing.jsonl"))
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(InputError, match="--input-format"):
        detect_format(str(tmp_path / "x.txt"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="metadata"):
        detect_format(str(tmp_path / "empty"))
    bad = tmp_path / "noimage.csv"
    bad.write_text("country,region\nFrance,Brittany\n")
    with pytest.raises(InputError, match="no image column"):
        list(read_input(str(bad)))


def test_imagefolder_metadata_layout(tmp_path):
    make_image(tmp_path / "ds" / "train" / "0001.jpg", seed=5)
    (tmp_path / "ds" / "train" / "metadata.csv").write_text(
        "file_name,country,region,difficulty\n0001.jpg,Kenya,Nairobi,medium\n"
    )
    assert detect_format(str(tmp_path / "ds" / "train")) == "table"
    run(tmp_path / "ds" / "train", tmp_path / "out")
    rows = read_rows(tmp_path / "out" / "train.jsonl")
    assert [(r["label"], r["copy"]) for r in sorted(rows, key=lambda r: r["copy"])] == [
        ("$Kenya,Nairobi$", 0),
        ("$Kenya,Nairobi$", 1),  # medium ×2 by the default balance
    ]
