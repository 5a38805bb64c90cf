"""The zoom agent through upstream OpenRLHF's own `MultiTurnAgentExecutor`, with the tiny offline
Qwen2.5-VL processor and a fake engine (a test stand-in for vLLM, see helpers.zoom.FakeEngine)."""

import asyncio
import importlib.util
import json
from dataclasses import replace

import pytest
from helpers.zoom import TURNS, ZOOM, FakeEngine, make_photo, sampling_params
from PIL import Image

pytest.importorskip("openrlhf.utils.agent")
pytestmark = pytest.mark.slow

from helpers.tiny_qwen import count_image_pads  # noqa: E402

from seekworld.rewards.variants import RewardConfig  # noqa: E402
from seekworld.zoom.protocol import (  # noqa: E402
    ZoomConfig,
    answer_turn,
    budget_observation,
    crop_observation,
    feedback_text,
    zoom_turn,
)

AGENT_FILE = "seekworld/integrations/openrlhf/zoom_agent.py"


def _agent():
    from seekworld.integrations.openrlhf import zoom_agent

    return zoom_agent


def _prompt(processor) -> str:
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]}]
    return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def _run(processor, turns, label, photo, zoom=ZOOM, max_length=8192, params=None):
    agent = _agent()
    settings = agent.AgentSettings(zoom, RewardConfig.from_variant("rule"))
    engine = FakeEngine(processor, turns)
    params = params or sampling_params()
    out = asyncio.run(
        agent.AgentExecutor(settings).execute(
            _prompt(processor), label, params, max_length, processor, engine, [str(photo)]
        )
    )
    return out, engine


@pytest.fixture
def photo_label(tmp_path):
    photo = make_photo(tmp_path / "es.png")
    return photo, json.dumps({"country": "Spain", "region": "Galicia", "image": str(photo)})


def test_two_zooms_then_answer(tiny_qwen, photo_label):
    photo, label = photo_label
    processor = tiny_qwen.processor
    params = sampling_params()
    out, engine = _run(processor, TURNS, label, photo, params=params)

    # Each generate call sees the photo plus every crop so far: the last one holds 3 images.
    assert [c["n_images"] for c in engine.calls] == [1, 2, 3]
    assert all(c["stop"] == ["</zoom>"] and c["include_stop"] is True for c in engine.calls)
    assert params.stop is None and params.max_tokens is None  # the caller's params are untouched

    grid = out["mm_train_inputs"]["image_grid_thw"]
    assert grid.shape[0] == 3  # photo + 2 crops for the training forward
    patches = int(grid.prod(dim=1).sum())
    assert out["mm_train_inputs"]["pixel_values"].shape[0] == patches
    assert count_image_pads(processor, out["observation_tokens"]) == patches // 4  # 2x2 merge

    assert out["reward"] == pytest.approx(1.5)  # 0.5 format + 1 accuracy (rule)
    assert out["scores"] == 1.0
    logs = out["extra_logs"]
    assert {k: logs[k] for k in ("zoom_calls", "invalid_zoom", "accuracy", "format")} == {
        "zoom_calls": 2.0,
        "invalid_zoom": 0.0,
        "accuracy": 1.0,
        "format": 1.0,
    }
    assert all(isinstance(v, float) for v in logs.values())
    assert len(out["action_ranges"]) == 3
    text = processor.tokenizer.decode(out["observation_tokens"])
    assert "Zoomed in on [0.1, 0.1, 0.5, 0.5] (crop 1 of 4)." in text
    assert "Zoomed in on [0.15, 0.2, 0.4, 0.35] (crop 2 of 4)." in text


def test_malformed_box_and_crop_limit(tiny_qwen, photo_label):
    photo, label = photo_label
    turns = [
        "<think>try</think><zoom>[0.5, 0.5, 0.1]</zoom>",  # malformed: error, no image
        zoom_turn("again", (0.1, 0.1, 0.5, 0.5)),  # the one allowed crop
        zoom_turn("more", (0.5, 0.5, 0.9, 0.9)),  # over the limit: answer now
        answer_turn("Galician", "$Spain,Galicia$"),
    ]
    out, engine = _run(tiny_qwen.processor, turns, label, photo, zoom=replace(ZOOM, max_crops=1))
    assert [c["n_images"] for c in engine.calls] == [1, 1, 2, 2]
    logs = out["extra_logs"]
    assert (logs["invalid_zoom"], logs["zoom_calls"], logs["zoom_over_limit"]) == (1.0, 1.0, 1.0)
    assert (logs["accuracy"], logs["format"]) == (1.0, 0.0)  # right, but the protocol was broken
    assert out["reward"] == pytest.approx(1.0)
    text = tiny_qwen.processor.tokenizer.decode(out["observation_tokens"])
    assert "Zoom failed: expected four numbers" in text and "No zooms left (at most 1)" in text


def test_crop_that_would_not_fit_is_not_sent(tiny_qwen, photo_label):
    # Upstream drops an image that overflows max_length and leaves its slot empty; the agent must
    # not send it: it tells the model to answer, and the image count stays consistent.
    photo, label = photo_label
    processor = tiny_qwen.processor
    zoom = replace(ZOOM, crop_min_side=224, crop_max_pixels=256 * 28 * 28, answer_reserve_tokens=16)
    box = (0.1, 0.1, 0.5, 0.5)
    turns = [zoom_turn("look", box), answer_turn("Galician", "$Spain,Galicia$")]
    tok = processor.tokenizer

    def n(text):
        return len(tok(text, add_special_tokens=False)["input_ids"])

    prompt_len = len(processor(text=[_prompt(processor)], images=[Image.open(photo)])["input_ids"][0])
    text_need = n(feedback_text(budget_observation()))
    image_need = n(feedback_text(crop_observation(1, box, zoom), 1)) - 1 + 80  # the crop is > 80 tokens
    assert image_need > text_need + 10
    max_length = prompt_len + n(turns[0]) + zoom.answer_reserve_tokens + text_need + 5
    out, engine = _run(processor, turns, label, photo, zoom=zoom, max_length=max_length)
    assert [c["n_images"] for c in engine.calls] == [1, 1]
    assert out["mm_train_inputs"]["image_grid_thw"].shape[0] == 1
    patches = int(out["mm_train_inputs"]["image_grid_thw"].prod(dim=1).sum())
    assert count_image_pads(processor, out["observation_tokens"]) == patches // 4
    logs = out["extra_logs"]
    assert (logs["zoom_no_budget"], logs["zoom_calls"], logs["accuracy"], logs["format"]) == (
        1.0,
        0.0,
        1.0,
        1.0,
    )


def test_unreadable_label_scores_zero_without_crashing(tiny_qwen, photo_label):
    photo, _ = photo_label
    out, engine = _run(tiny_qwen.processor, TURNS, '{"country": 3}', photo)  # unreadable
    assert out["reward"] == 0.0 and out["extra_logs"]["label_error"] == 1.0
    assert [c["n_images"] for c in engine.calls] == [1, 1, 1]  # nothing to crop: error observations


def test_agent_file_loads_as_upstream_loads_it(monkeypatch):
    from openrlhf.utils.agent import AgentExecutorBase

    monkeypatch.setenv("SEEKWORLD_ZOOM_MAX_CROPS", "2")
    spec = importlib.util.spec_from_file_location("agent_module", AGENT_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.default_settings.cache_clear()
    try:
        executor = module.AgentExecutor()  # upstream builds it with no arguments
        assert isinstance(executor, AgentExecutorBase)
        assert executor.settings.zoom == ZoomConfig(max_crops=2)
    finally:
        module.default_settings.cache_clear()


def test_with_stop_keeps_existing_stops():
    params = sampling_params(stop=["###"])
    patched = _agent().with_stop(params)
    assert patched.stop == ["###", "</zoom>"] and patched.include_stop_str_in_output is True
    assert params.stop == ["###"] and params.include_stop_str_in_output is False


def test_preflight(tiny_qwen):
    ok, detail = _agent().preflight(env={})
    assert ok, detail
    ok, detail = _agent().preflight(env={"SEEKWORLD_ZOOM_MAX_CROPS": "3"}, processor_path=str(tiny_qwen.path))
    assert ok and "max_images_per_prompt >= 4" in detail, detail
    ok, detail = _agent().preflight(env={"SEEKWORLD_ZOOM_MAX_CROPS": "x"})
    assert not ok and "SEEKWORLD_ZOOM_MAX_CROPS" in detail
