"""SFT data renders exactly as an RL transcript: same text between turns, same token ids, same
pixels, loss exactly on the tokens RL treats as actions."""

import asyncio

import pytest
import torch
from helpers.zoom import ZOOM, FakeEngine, prepare_rows, sampling_params

pytest.importorskip("openrlhf.utils.agent")
pytestmark = pytest.mark.slow

from openrlhf.datasets.prompts_dataset import preprocess_data  # noqa: E402

from seekworld.rewards.variants import RewardConfig  # noqa: E402
from seekworld.sft.data import IGNORE_INDEX, ZoomSFTCollator, encode_row  # noqa: E402
from seekworld.zoom.protocol import chat_parts, render_transcript  # noqa: E402


@pytest.fixture
def row(tmp_path):
    rows = prepare_rows(tmp_path)
    assert len(rows) == 1
    return rows[0]


def _rl_episode(processor, row):
    from seekworld.integrations.openrlhf.zoom_agent import AgentExecutor, AgentSettings

    # The prompt exactly as upstream's PromptDataset builds it from the prepared row.
    prompt, label = preprocess_data(
        row, input_key="prompt", label_key="label", apply_chat_template=processor.apply_chat_template
    )
    settings = AgentSettings(ZOOM, RewardConfig.from_variant("rule"))
    engine = FakeEngine(processor, row["turns"])
    out = asyncio.run(
        AgentExecutor(settings).execute(
            prompt, label, sampling_params(), 8192, processor, engine, row["images"][:1]
        )
    )
    return prompt, out


def test_row_shape(row):
    assert len(row["images"]) == 3  # the photo and one crop per zoom
    assert len(row["turns"]) == 3 and row["turns"][0].endswith("</zoom>")
    assert row["prompt"][1]["content"].startswith("<image>")
    assert "<zoom>" in row["prompt"][0]["content"]  # the system prompt explains the tool
    assert row["zoom"] == {"max_crops": ZOOM.max_crops, "max_turns": None}


def test_chat_template_renders_the_rl_transcript(tiny_qwen, row):
    processor = tiny_qwen.processor
    messages = chat_parts(row["prompt"])
    prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    full = processor.apply_chat_template(row["messages"], tokenize=False)
    # The model's own template, on the SFT messages, gives the prompt + the agent's transcript.
    assert full == prompt + render_transcript(row["turns"], ZOOM) + "\n"
    assert full.count("<|image_pad|>") == len(row["images"])


def test_sft_tokens_equal_rl_tokens(tiny_qwen, row):
    processor = tiny_qwen.processor
    prompt, out = _rl_episode(processor, row)
    assert out["reward"] == pytest.approx(1.5)
    enc = encode_row(processor, row)
    assert enc["input_ids"] == out["observation_tokens"]
    trained = {i for i, t in enumerate(enc["labels"]) if t != IGNORE_INDEX}
    actions = {i for start, end in out["action_ranges"] for i in range(start, end)}
    assert trained == actions
    assert all(enc["labels"][i] == enc["input_ids"][i] for i in trained)
    assert torch.equal(enc["image_grid_thw"], out["mm_train_inputs"]["image_grid_thw"])
    assert torch.equal(enc["pixel_values"], out["mm_train_inputs"]["pixel_values"])  # same crops, same pixels
    text = processor.tokenizer.decode(enc["input_ids"])
    assert text.startswith(processor.tokenizer.decode(processor.tokenizer(prompt)["input_ids"])[:40])


def test_collator_pads_and_marks_image_tokens(tiny_qwen, tmp_path, row):
    processor = tiny_qwen.processor
    short = dict(row, turns=[row["turns"][-1]], images=row["images"][:1])  # no zoom: one image
    batch = ZoomSFTCollator(processor)([row, short])
    n_long = len(encode_row(processor, row)["input_ids"])
    n_short = len(encode_row(processor, short)["input_ids"])
    assert batch["input_ids"].shape == (2, n_long)
    assert batch["attention_mask"][1].sum() == n_short
    assert (batch["labels"][1, n_short:] == IGNORE_INDEX).all()
    pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert (batch["mm_token_type_ids"] == 1).sum() == (batch["input_ids"] == pad).sum()
    assert batch["image_grid_thw"].shape[0] == 4  # 3 + 1 images, in row order


def test_collator_refuses_to_cut_an_image(tiny_qwen, row):
    from seekworld.sft.data import SFTDataError

    with pytest.raises(SFTDataError, match="split an image"):
        encode_row(tiny_qwen.processor, row, max_length=30)
    n = len(encode_row(tiny_qwen.processor, row)["input_ids"])
    assert len(encode_row(tiny_qwen.processor, row, max_length=n - 3)["input_ids"]) == n - 3  # text tail: cut
