"""`seekworld predict`: reasoning and a resolved answer for one photo (openai stand-in engine)."""

import json

import pytest
from PIL import Image

from seekworld.cli.main import main
from seekworld.eval.inference import format_result, interpret, load_photo
from seekworld.prepare.prompts import DEFAULT_QUESTION, DEFAULT_SYSTEM


def _photo(tmp_path, size=(64, 48)):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", size, (120, 80, 40)).save(path)
    return path


def _argv(path, stand_in, *extra):
    return ["predict", str(path), "--engine", "openai", "--model", "m", "--base-url", stand_in.url, *extra]


def test_predict_prints_reasoning_and_named_region(tmp_path, stand_in, capsys):
    stand_in.script["*"] = ["<think>Red soil, spicy hotpot signs.</think><answer>$中国,四川$</answer>"]
    assert main(_argv(_photo(tmp_path), stand_in)) == 0
    out = capsys.readouterr().out
    assert "Reasoning:\nRed soil, spicy hotpot signs." in out
    assert "Answer: $中国,四川$" in out
    assert "Place: CN-SC — Sichuan (四川省), China (中国)" in out
    # The training prompt: prepare's system message, then the image, then its question.
    system, user = stand_in.bodies[0]["messages"]
    assert system == {"role": "system", "content": DEFAULT_SYSTEM}
    assert [p["type"] for p in user["content"]] == ["image_url", "text"]
    assert user["content"][1]["text"] == DEFAULT_QUESTION


def test_predict_json_and_coordinates(tmp_path, stand_in, capsys):
    pytest.importorskip("reverse_geocode", reason="needs reverse_geocode (extra 'eval')")
    stand_in.script["*"] = ["<think>x</think><answer>30.66, 104.06</answer>"]
    assert main(_argv(_photo(tmp_path), stand_in, "--json")) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["coordinates"] == [30.66, 104.06]
    assert result["coordinates_place"]["place_id"] == "CN-SC"
    assert result["coordinates_place"]["region_zh"] == "四川省"


def test_format_result_for_unresolved_and_missing_answers():
    hedge = format_result(interpret("<think>a</think><answer>China, Henan or Hunan</answer>"))
    assert "Place: CN — China (中国); no region" in hedge and "Note: hedged answer" in hedge
    none = format_result(interpret("I cannot tell."))
    assert "Response:\nI cannot tell." in none and "Answer: (none)" in none
    hk = format_result(interpret("<think>a</think><answer>Hong Kong, Hong Kong</answer>"))
    assert "Place: HK — Hong Kong (中国香港特别行政区)" in hk


def test_photos_are_sized_like_training_images(tmp_path):
    big = load_photo(_photo(tmp_path, (4000, 3000)))
    assert (big.width // 28) * (big.height // 28) <= 1024  # prepare's default budget
    assert abs(big.width / big.height - 4 / 3) < 0.05
    small = load_photo(_photo(tmp_path))
    assert small.size == (64, 48)  # already within budget: untouched


def test_predict_missing_image(tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nope.jpg"), "--engine", "openai", "--model", "m"]) == 2
    assert "seekworld predict:" in capsys.readouterr().err
