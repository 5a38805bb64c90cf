"""The zoom tool on TRL, piece by piece: the tool (crops by seekworld.zoom, errors as text), the
tool-capable template checked with TRL's own functions, TRL's parser on our response template, the
transcript -> protocol turns -> score_episode adapter, the SFT-trace converter, and the config."""

from __future__ import annotations

import json

import pytest
from helpers.zoom import ZOOM, make_photo
from PIL import Image

from seekworld.integrations.trl.zoom import (
    ZoomEnvironment,
    ZoomTemplateError,
    apply_tool_template,
    call_box_text,
    tool_messages,
    tool_rounds,
    transcript_turns,
    zoom_reward_function,
)
from seekworld.rewards.variants import RewardConfig
from seekworld.zoom.crop import crop
from seekworld.zoom.protocol import ZoomConfig, answer_turn, zoom_turn

GALICIA = json.dumps({"country": "Spain", "region": "Galicia"})
ANSWER = answer_turn("It says Santiago.", "$Spain,Galicia$")


@pytest.fixture
def photo(tmp_path) -> Image.Image:
    return Image.open(make_photo(tmp_path / "p.png")).convert("RGB")


@pytest.fixture
def env(photo) -> ZoomEnvironment:
    env = ZoomEnvironment(ZOOM)
    env.reset(prompt=[], images=[photo], label=GALICIA)
    return env


@pytest.fixture
def processor(tiny_qwen_processor_dir):
    from transformers import AutoProcessor

    return AutoProcessor.from_pretrained(tiny_qwen_processor_dir)


def _call(box, name="zoom", **args):
    return {"type": "function", "function": {"name": name, "arguments": {"box": box, **args}}}


def _called(think, *calls):
    return {"role": "assistant", "content": f"<think>{think}</think>", "tool_calls": list(calls)}


# --- the tool ----------------------------------------------------------------------------------


def test_a_valid_box_returns_the_crop_of_the_rows_photo_as_an_image_block(env, photo):
    result = env.zoom([0.1, 0.2, 0.6, 0.7])
    assert [b["type"] for b in result] == ["image", "text"]
    expected = crop(photo, (0.1, 0.2, 0.6, 0.7), ZOOM)  # seekworld.zoom.crop, not a second copy
    assert result[0]["image"].size == expected.size
    assert result[0]["image"].tobytes() == expected.tobytes()
    assert result[1]["text"] == "Zoomed in on [0.1, 0.2, 0.6, 0.7] (crop 1 of 4)."


@pytest.mark.parametrize(
    ("box", "words"),
    [
        ([0.1, 0.1, 1.4, 0.5], "fractions of the image in [0, 1]"),  # out of bounds
        ([-0.2, 0.1, 0.5, 0.5], "fractions of the image in [0, 1]"),
        ([0.1, 0.1, 0.11, 0.5], "at least 8 per side"),  # too small
        ([0.1, 0.2, 0.5], "expected four numbers"),  # malformed
        ("zoom on the sign", "expected four numbers"),
        ({"x": 1}, "expected four numbers"),
        ([True, 0, 1, 1], "expected four numbers"),
        ([0.6, 0.1, 0.2, 0.5], "need x1 < x2"),  # inverted
        ([0.3, 0.1, 0.3, 0.5], "has no area"),
    ],
)
def test_a_bad_box_returns_an_error_text_that_explains_the_call(env, box, words):
    result = env.zoom(box)
    assert isinstance(result, str) and result.startswith("Zoom failed:") and words in result
    assert "Call zoom with box [x1, y1, x2, y2]" in result and "<zoom>" not in result
    assert isinstance(env.zoom([0.1, 0.1, 0.5, 0.5]), list)  # the episode goes on


def test_crops_past_max_crops_are_refused_with_answer_now(env):
    results = [env.zoom([0.1, 0.1, 0.5, 0.5]) for _ in range(ZOOM.max_crops + 1)]
    assert all(isinstance(r, list) for r in results[:-1])
    assert results[-1].startswith("No zooms left (at most 4). Answer now")


def test_reset_starts_a_fresh_episode_on_the_new_row(env, tmp_path):
    for _ in range(ZOOM.max_crops):
        env.zoom([0.1, 0.1, 0.5, 0.5])
    other = Image.new("RGB", (100, 80), (1, 2, 3))
    env.reset(images=[other])
    tile = env.zoom([0.0, 0.0, 1.0, 1.0])[0]["image"]
    assert tile.getpixel((0, 0)) == (1, 2, 3)  # the new row's photo, crop 1 again


def test_the_turn_budget_is_max_tool_calling_iterations():
    assert tool_rounds(ZoomConfig(max_crops=4)) == 9  # 2 * 4 + 2 turns, every one but the last a zoom
    assert tool_rounds(ZoomConfig(max_crops=4, max_turns=3)) == 2


def test_only_zoom_is_a_tool():
    import inspect

    public = [n for n, _ in inspect.getmembers(ZoomEnvironment, inspect.isfunction) if not n.startswith("_")]
    assert sorted(public) == ["reset", "zoom"]  # TRL makes every other public method a tool


@pytest.mark.parametrize(
    "call",
    [
        _call([0.1, 0.1, 0.5, 0.5], name="crop"),
        _call([0.1, 0.1, 0.5, 0.5], scale=2),
        {"type": "function", "function": {"name": "zoom", "arguments": {"bbox": [0.1, 0.1, 0.5, 0.5]}}},
        {"type": "function", "function": {"name": "zoom", "arguments": "not json"}},
        {"type": "function", "function": {"name": "zoom", "arguments": "x" * 10_000}},
    ],
)
def test_a_call_of_the_wrong_shape_is_a_malformed_box(call):
    from seekworld.zoom.protocol import BoxError, parse_box

    text = call_box_text(call)
    assert len(text) <= 200
    with pytest.raises(BoxError) as err:
        parse_box(text)
    assert err.value.kind == "malformed"


# --- the template and TRL's parser -------------------------------------------------------------


def test_trl_refuses_the_stock_template_and_accepts_ours(processor):
    from trl.chat_template_utils import (
        is_chat_template_prefix_preserving,
        is_chat_template_stop_token_trained,
        supports_tool_calling,
    )

    # GRPOTrainer.__init__ raises "does not support tool calling" when this is False.
    assert not supports_tool_calling(processor)
    apply_tool_template(processor)
    assert supports_tool_calling(processor)
    assert is_chat_template_prefix_preserving(processor)
    assert is_chat_template_stop_token_trained(processor)  # generation markers end on <|im_end|>


def test_the_template_renders_plain_chats_like_the_stock_one(processor):
    messages = [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": ANSWER}]},
    ]
    stock = processor.apply_chat_template(messages, tokenize=False)
    apply_tool_template(processor)
    assert processor.apply_chat_template(messages, tokenize=False) == stock


@pytest.mark.parametrize("system", [True, False])
def test_the_template_renders_plain_chats_as_the_stock_qwen2_5_vl_template(processor, system):
    from pathlib import Path

    import trl

    # The stock template as TRL ships it to recognise Qwen2.5-VL (read, not copied).
    stock = (Path(trl.__file__).parent / "chat_templates/qwen2_5_vl.jinja").read_text(encoding="utf-8")
    messages = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": ANSWER}]},
        {"role": "user", "content": [{"type": "text", "text": "Sure?"}]},
    ]
    if system:
        messages.insert(0, {"role": "system", "content": [{"type": "text", "text": "Be brief."}]})
    for gen in (False, True):
        want = processor.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=gen, chat_template=stock
        )
        apply_tool_template(processor)
        assert processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen) == want


def test_trl_parses_a_generated_call_and_keeps_the_reasoning(processor):
    from trl.chat_template_utils import parse_response

    apply_tool_template(processor)
    tok = processor.tokenizer
    call = '{"name": "zoom", "arguments": {"box": [0.1, 0.2, 0.5, 0.6]}}'
    turn = f"<think>Look closer.</think>\n<tool_call>\n{call}\n</tool_call><|im_end|>"
    ids = tok(turn, add_special_tokens=False)["input_ids"]
    prefix = tok("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    env = ZoomEnvironment(ZOOM)
    parsed = parse_response(tok, ids, prefix=prefix, tools=[env.zoom])
    assert parsed["content"] == "<think>Look closer.</think>"  # not moved to reasoning_content
    assert parsed["tool_calls"] == [_call([0.1, 0.2, 0.5, 0.6])]
    ids = tok(ANSWER + "<|im_end|>", add_special_tokens=False)["input_ids"]
    assert parse_response(tok, ids, prefix=prefix, tools=[env.zoom]) == {
        "role": "assistant",
        "content": ANSWER,
    }


@pytest.mark.parametrize("closed", [True, False])
def test_a_call_nested_too_deep_is_plain_text_not_a_crash(processor, closed):
    """A policy stuck writing `[` inside <tool_call> made the JSON reader raise RecursionError,
    which TRL's parse_response does not catch: the GRPO step crashed. Now the turn reads as text."""
    from trl.chat_template_utils import parse_response

    apply_tool_template(processor)
    apply_tool_template(processor)  # twice: the guard is not stacked
    tok = processor.tokenizer
    depth = 3000
    body = '{"name": "zoom", "arguments": {"box": ' + "[" * depth
    if closed:
        body += "]" * depth + "}}\n</tool_call><|im_end|>"
    ids = tok("<think>x</think>\n<tool_call>\n" + body, add_special_tokens=False)["input_ids"]
    prefix = tok("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
    parsed = parse_response(tok, ids, prefix=prefix, tools=[ZoomEnvironment(ZOOM).zoom])
    assert "tool_calls" not in parsed and parsed["content"].startswith("<think>x</think>")


def test_a_tokenizer_without_qwen_tokens_is_refused():
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, "[UNK]")))
    with pytest.raises(ZoomTemplateError, match=r"Qwen2/2\.5-VL"):
        apply_tool_template(tok)


# --- rewards on TRL's transcript ---------------------------------------------------------------


def _score(env, completion, label=GALICIA, zoom=ZOOM):
    """(each component's value, the total) as TRL gets them: the total returned, components logged."""
    func = zoom_reward_function(RewardConfig.from_variant("rule"), zoom)
    metrics = {}
    (total,) = func(
        completions=[completion],
        label=[label],
        environments=[env],
        log_metric=lambda k, v: metrics.setdefault(k, v),
    )
    values = {
        k.split("/")[1]: v for k, v in metrics.items() if k.startswith("rewards/") and k.endswith("/mean")
    }
    return values, total


def _tool(env, box):
    return {"role": "tool", "name": "zoom", "content": env.zoom(box)}


def test_a_zoom_then_answer_transcript_scores_as_on_openrlhf(env):
    from seekworld.zoom.protocol import ZoomEpisode
    from seekworld.zoom.reward import score_episode

    zoom = ZoomConfig(crop_min_side=56, crop_max_pixels=24 * 28 * 28, tool_bonus=0.2)
    env = ZoomEnvironment(zoom)
    env.reset(images=[Image.new("RGB", (224, 168))])
    completion = [_called("A sign.", _call([0.1, 0.1, 0.5, 0.5])), _tool(env, [0.1, 0.1, 0.5, 0.5])]
    completion.append({"role": "assistant", "content": ANSWER})
    env.reset(images=[Image.new("RGB", (224, 168))])  # TRL resets before generation, scores after
    values, total = _score(env, completion, zoom=zoom)
    assert values == {"format": 1.0, "accuracy": 1.0, "tool_bonus": 0.2}
    # The same turns in the `<zoom>` protocol, scored by the OpenRLHF agent's function:
    episode = ZoomEpisode(zoom)
    for turn in (zoom_turn("A sign.", (0.1, 0.1, 0.5, 0.5)), ANSWER):
        episode.step(turn)
    assert total == pytest.approx(
        score_episode(episode, GALICIA, RewardConfig.from_variant("rule"), zoom).reward
    )


@pytest.mark.parametrize(
    ("completion", "fmt"),
    [
        ([{"role": "assistant", "content": ANSWER}], 1.0),  # no zoom is fine
        ([_called("Two at once.", _call([0.1, 0.1, 0.5, 0.5]), _call([0.2, 0.2, 0.6, 0.6]))], 0.0),
        # ended on a call: rolled back by TRL (no room) or out of tool rounds; no answer
        ([_called("Look.", _call([0.1, 0.1, 0.5, 0.5]))], 0.0),
        ([{"role": "assistant", "content": "Look.", "tool_calls": [_call([0.1, 0.1, 0.5, 0.5])]}], 0.0),
        ([_called("Bad box.", _call([0.5, 0.1, 0.2, 0.5])), {"role": "assistant", "content": ANSWER}], 0.0),
    ],
)
def test_the_multi_turn_format(env, completion, fmt):
    values, _ = _score(env, completion)
    assert values["format"] == fmt


def test_the_reward_reads_the_environments_photo_for_the_size_rule(env):
    # 0.02 of 224 px is 4 px: refused as too small by check_box, so the zoom turn is invalid.
    completion = [_called("Tiny.", _call([0.1, 0.1, 0.12, 0.5])), {"role": "assistant", "content": ANSWER}]
    values, _ = _score(env, completion)
    assert values["format"] == 0.0 and values["accuracy"] == 1.0


def test_transcript_turns_render_calls_in_the_protocols_form():
    completion = [
        _called("A sign.", _call([0.1, 0.1, 0.5, 0.5])),
        {"role": "tool", "name": "zoom", "content": [{"type": "text", "text": "Zoomed in"}]},
        {"role": "assistant", "content": ANSWER},
    ]
    assert transcript_turns(completion) == ["<think>A sign.</think><zoom>[0.1, 0.1, 0.5, 0.5]</zoom>", ANSWER]


# --- SFT traces --------------------------------------------------------------------------------


def test_trace_turns_become_tool_messages_that_render_as_a_rollout(processor, photo):
    prompt = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]}]
    turns = [zoom_turn("A sign; zoom in.", (0.1, 0.1, 0.5, 0.5)), ANSWER]
    messages = tool_messages(prompt, turns, ZOOM)
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[1]["content"] == "<think>A sign; zoom in.</think>"
    assert messages[1]["tool_calls"] == [_call([0.1, 0.1, 0.5, 0.5])]
    assert [b["type"] for b in messages[2]["content"]] == ["image", "text"]
    apply_tool_template(processor)
    text = processor.apply_chat_template(messages, tokenize=False)
    assert '<tool_call>\n{"name": "zoom", "arguments": {"box": [0.1, 0.1, 0.5, 0.5]}}\n</tool_call>' in text
    assert "<tool_response>\n<|vision_start|><|image_pad|><|vision_end|>Zoomed in on" in text
    assert text.count("<|image_pad|>") == 2  # the photo and the crop


@pytest.mark.parametrize("as_parts", [False, True])
def test_the_traces_zoom_tag_system_prompt_becomes_the_tool_call_prompt(as_parts):
    """Traces are prepared with the `<zoom>`-tag system prompt; trained as tool calls, the prompt
    must say to call the tool, as the RL data made with --tool-call does."""
    from seekworld.zoom.protocol import system_prompt

    tag, tool = system_prompt(ZOOM), system_prompt(ZOOM, tool_call=True)
    content = [{"type": "text", "text": tag}] if as_parts else tag
    prompt = [
        {"role": "system", "content": content},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": tag}]},  # not a system one
    ]
    turns = [zoom_turn("A sign; zoom in.", (0.1, 0.1, 0.5, 0.5)), ANSWER]
    messages = tool_messages(prompt, turns, ZOOM)
    system = messages[0]["content"]
    assert (system[0]["text"] if as_parts else system) == tool
    assert messages[1]["content"][1]["text"] == tag
    assert prompt[0]["content"] == content  # the caller's messages are not changed
    other = [{"role": "system", "content": "Be brief."}]
    assert tool_messages(other, turns, ZOOM)[0]["content"] == "Be brief."


def test_a_trace_with_a_refused_zoom_is_not_converted():
    from seekworld.zoom.protocol import TranscriptError

    with pytest.raises(TranscriptError):
        tool_messages([], ["<think>x</think>\n<zoom>[0.5, 0.1, 0.2, 0.5]</zoom>", ANSWER], ZOOM)


# --- config ------------------------------------------------------------------------------------


def _load(*overrides):
    from seekworld.train.config import load_config

    return load_config(None, ["backend=trl", "rollout.n_samples_per_prompt=2", *overrides])


def test_the_zoom_section_maps_onto_zoomconfig_and_grpo_arguments():
    from seekworld.integrations.trl.backend import grpo_arguments
    from seekworld.train.config import zoom_config

    assert zoom_config(_load()) is None
    config = _load("zoom.enabled=true", "zoom.max_crops=2", "zoom.tool_bonus=0.3")
    assert zoom_config(config) == ZoomConfig(max_crops=2, tool_bonus=0.3)
    args = grpo_arguments(config, "cpu")
    assert args["max_tool_calling_iterations"] == 5  # 2 * 2 + 2 turns
    assert args["reward_weights"] == [1.0]  # one function: the episode total (format, accuracy, tool_bonus)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["zoom.crop_min_side=10"], "crop_min_side"),
        (["zoom.max_crops=0"], "max_crops >= 1"),
        (["zoom.max_turns=1"], "max_turns >= 2"),  # max_tool_calling_iterations would be 0
        (["reward.variant=rule+judge", "judge.mode=url", "judge.url=http://127.0.0.1:9/v1"], "judge"),
        (["data.eval_data=/d/test.jsonl"], "answers without the zoom tool"),
    ],
)
def test_zoom_settings_trl_cannot_use_are_refused(overrides, words):
    from seekworld.train.config import ConfigError

    with pytest.raises(ConfigError, match=words):
        _load("zoom.enabled=true", *overrides)


def test_zoom_enabled_on_openrlhf_points_to_the_agent():
    from seekworld.train.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="agent file"):
        load_config(None, ["zoom.enabled=true"])


def test_sft_in_tool_call_form_cuts_the_transcript_where_trl_does(tiny_qwen, tmp_path):
    """`seekworld sft` with data.tool_call: the model's turns (loss) are the tool-call turns ending at
    `<|im_end|>`; each crop's block (no loss) is token for token TRL's own tool suffix
    (`GRPOTrainer._get_tool_suffix_ids`, run unbound on a stand-in holding the processor)."""
    from types import SimpleNamespace

    from helpers.zoom import prepare_rows
    from transformers import AutoProcessor
    from trl import GRPOTrainer

    from seekworld.integrations.trl.sft import tool_call_form
    from seekworld.io.images import open_rgb
    from seekworld.sft.data import IGNORE_INDEX, encode_row
    from seekworld.zoom.protocol import zoom_content

    processor = apply_tool_template(AutoProcessor.from_pretrained(tiny_qwen.path))
    row = prepare_rows(tmp_path)[0]
    enc = encode_row(processor, row, form=tool_call_form)
    ids, labels = enc["input_ids"], enc["labels"]
    blocks, start = [], 0  # runs of trained / untrained tokens
    for i in range(1, len(ids) + 1):
        if i == len(ids) or (labels[i] == IGNORE_INDEX) != (labels[start] == IGNORE_INDEX):
            blocks.append((labels[start] != IGNORE_INDEX, ids[start:i]))
            start = i
    tok = processor.tokenizer
    prompt = tok.decode(blocks[0][1])
    assert "call the zoom tool" in prompt and "<zoom>[x1" not in prompt  # the tool-call instruction
    trained = [tok.decode(b) for t, b in blocks if t]
    call = '<tool_call>\n{"name": "zoom", "arguments": {"box": %s}}\n</tool_call><|im_end|>'
    assert trained == [  # the trace of helpers.zoom.trace_obj, in the tool-call form
        "<think>A blue sign on the left; zoom in.</think>\n" + call % "[0.1, 0.1, 0.5, 0.5]",
        "<think>Closer on the text.</think>\n" + call % "[0.15, 0.2, 0.4, 0.35]",
        row["turns"][-1] + "<|im_end|>",
    ]
    boxes = [zoom_content(t) for t in row["turns"][:-1]]
    stand_in = SimpleNamespace(
        processing_class=processor, chat_template=None, _is_vlm=True, chat_template_kwargs={}, _tokenizer=tok
    )
    untrained = [b for t, b in blocks if not t][1:]  # after the prompt: one block per crop
    for crop_no, block in enumerate(untrained, 1):
        observation = f"Zoomed in on {boxes[crop_no - 1]} (crop {crop_no} of {ZOOM.max_crops})."
        tool = [
            {
                "role": "tool",
                "name": "zoom",
                "content": [
                    {"type": "image", "image": open_rgb(row["images"][crop_no])},
                    {"type": "text", "text": observation},
                ],
            }
        ]
        assert block == GRPOTrainer._get_tool_suffix_ids(stand_in, tool)
    assert enc["image_grid_thw"].shape[0] == 3  # the photo and both crops


def test_the_prompt_template_for_the_tool_explains_the_call(capsys):
    from seekworld.cli.main import main

    assert main(["traces", "prompt-template", "--tool-call", "--max-crops", "3"]) == 0
    system = json.loads(capsys.readouterr().out)["system"]
    assert "call the zoom tool with box [x1, y1, x2, y2]" in system and "at most 3 times" in system
    assert "<zoom>" not in system
