"""The transformers engine on the tiny offline Qwen2.5-VL (random weights: junk text, real path)."""

import json
from typing import ClassVar

import pytest

from seekworld.eval.engines import EngineOptions, GenParams, Request, create_engine
from seekworld.eval.engines.transformers import TransformersEngine
from seekworld.eval.rows import load_rows
from seekworld.eval.runner import EvalConfig, run_eval

pytestmark = pytest.mark.slow


def _options(tiny_qwen, **kw):
    return EngineOptions(engine="transformers", model=str(tiny_qwen.path), device="cpu", **kw)


def _labels(write_rows, n=3):
    labels = ["$china,sichuan$", "$japan,osaka$", "$brazil,bahia$"][:n]
    return write_rows("Global-Test", [{"label": lab, "difficulty": "easy"} for lab in labels])


def test_engine_generates_text_for_every_row(tmp_path, tiny_qwen, write_rows):
    data = _labels(write_rows)
    cfg = EvalConfig(
        data=(str(data),),
        output=str(tmp_path / "run"),
        engine=_options(tiny_qwen, concurrency=2),  # a batch of 2 and a batch of 1
        params=GenParams(max_new_tokens=8),
        progress=False,
        resamples=100,
    )
    report = run_eval(cfg)
    preds = [json.loads(x) for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == 3 and report["missing"] == 0
    for p in preds:
        assert isinstance(p["response"], str) and "<|image_pad|>" not in p["response"]
        assert p["finish_reason"] in ("stop", "length") and p["latency_s"] > 0
        assert p["accuracy"] == 0.0  # random weights do not geolocate
    assert report["accuracy"]["overall"]["n"] == 3


def test_sampling_is_seeded_per_sample(tiny_qwen, write_rows):
    rows = load_rows([_labels(write_rows, 1)])
    engine = create_engine(_options(tiny_qwen))
    params = GenParams(temperature=1.0, max_new_tokens=6, seed=3)
    first = {o.sample: o.text for o in engine.generate(rows, [Request(0, 0), Request(0, 1)], params)}
    again = {o.sample: o.text for o in engine.generate(rows, [Request(0, 1)], params)}
    assert again[1] == first[1]  # sample 1 is the same whether or not sample 0 ran first
    streamed = "".join(engine.stream(rows[0], GenParams(max_new_tokens=6)))
    (greedy,) = engine.generate(rows, [Request(0, 0)], GenParams(max_new_tokens=6))
    assert streamed == greedy.text


class CannedTransformersEngine(TransformersEngine):
    """TEST DOUBLE: runs the real processor on each row (prompt, image pads, pixel values) but
    returns canned responses instead of the random model's text, so accuracy numbers are exact."""

    canned: ClassVar[dict[str, str]] = {
        "$china,sichuan$": "<think>Sichuan pepper signs</think><answer>China, Sichuan</answer>",
        "$japan,osaka$": "<think>left-hand traffic</think><answer>Japan, Kyoto</answer>",
        "$brazil,bahia$": "<answer>Brasil, Bahia</answer>",
    }

    def _run(self, rows, params):
        inputs = self._inputs(rows)
        pad = self.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        grid = inputs["image_grid_thw"]
        for b in range(len(rows)):  # every image expanded to its visual tokens (t·h·w / 2²)
            assert int((inputs["input_ids"][b] == pad).sum()) == int(grid[b].prod()) // 4
        return [(self.canned[row["label"]], "stop") for row in rows]


def test_scoring_path_with_canned_outputs(tmp_path, tiny_qwen, write_rows):
    data = _labels(write_rows)
    cfg = EvalConfig(
        data=(str(data),),
        output=str(tmp_path / "canned"),
        engine=_options(tiny_qwen, concurrency=3),
        progress=False,
        resamples=100,
    )
    report = run_eval(cfg, engine=CannedTransformersEngine(cfg.engine))
    assert report["accuracy"]["overall"]["value"] == pytest.approx(2 / 3)  # Sichuan, Bahia
    assert report["format"]["overall"]["value"] == pytest.approx(2 / 3)  # Bahia has no <think>
    assert report["country_accuracy"]["overall"]["value"] == pytest.approx(1.0)


def test_no_progress_means_no_loading_bar(tiny_qwen, capfd):
    from transformers.utils import logging as hf_logging

    capfd.readouterr()
    TransformersEngine(_options(tiny_qwen, progress=False)).close()
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # switched off for the load only
    TransformersEngine(_options(tiny_qwen)).close()
    assert "Loading weights" in capfd.readouterr().err  # the bar this option hides
