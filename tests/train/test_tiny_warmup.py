"""The tiny model's format warm-up (`model.path = "tiny-random"`): it names the run's own places, keeps
the format with the picture in the prompt, and runs for `trl.tiny_warmup_steps`."""

from __future__ import annotations

import json

import pytest

from seekworld.train.config import ConfigError, load_config
from seekworld.train.tiny_qwen import data_places

PROMPT = [
    {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where was this photo taken?"}]}
]


def test_data_places_are_the_distinct_places_of_the_labels_in_first_seen_order():
    labels = [
        "$japan,hokkaido$",
        "$brazil,bahia$",
        "$Japan,Hokkaido$",  # the same gazetteer place, spelt otherwise: counted once
        '{"country": "Kenya", "region": "Nairobi"}',
        "$france$",
        None,  # not a label: skipped
        "$brazil,bahia$",
    ]
    assert data_places(labels) == [
        ("japan", "hokkaido"),
        ("brazil", "bahia"),
        ("Kenya", "Nairobi"),
        ("france", ""),
    ]


def test_negative_warm_up_steps_are_refused():
    with pytest.raises(ConfigError, match=r"trl\.tiny_warmup_steps must be >= 0"):
        load_config(None, ["backend=trl", "trl.tiny_warmup_steps=-1"])


def _solid(colour):
    from PIL import Image

    return Image.new("RGB", (112, 112), colour)


def test_model_path_warms_up_on_the_runs_prompts_places_and_steps(tmp_path, monkeypatch):
    import torch

    import seekworld.integrations.trl.backend as backend
    from seekworld.integrations.trl.backend import model_path

    rows = []
    for i, (label, colour) in enumerate([("$japan,hokkaido$", "red"), ("$brazil,bahia$", "blue")] * 3):
        image = tmp_path / f"{i}.png"
        _solid(colour).save(image)
        rows.append(
            {"prompt": [{"role": "user", "content": "<image>Where?"}], "images": [str(image)], "label": label}
        )
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = load_config(
        None,
        [
            "backend=trl",
            "model.path=tiny-random",
            f"data.prompt_data={data}",
            f"checkpoint.save_path={tmp_path / 'out'}",
            "trl.tiny_warmup_steps=7",
        ],
    )
    calls = []
    monkeypatch.setattr(
        backend,
        "build_warmed_up",
        lambda out, prompts, labels, **kw: calls.append((out, list(prompts), list(labels), kw)),
    )
    threads = torch.get_num_threads()
    try:
        assert model_path(config) == str(tmp_path / "out" / "tiny-random-init")
    finally:
        torch.set_num_threads(threads)
    [(_, prompts, labels, kw)] = calls
    assert kw["steps"] == 7 and kw["seed"] == config["train.seed"]
    assert data_places(labels) == [("japan", "hokkaido"), ("brazil", "bahia")]
    assert len(prompts) == len(kw["images"]) == 6  # the data's own prompts, each with its picture
    assert prompts[0][0]["content"][0]["type"] == "image"
    assert kw["images"][0].getpixel((0, 0)) == (255, 0, 0)


@pytest.fixture
def one_thread():
    """A 64-wide model gains nothing from intra-op threads, and on a busy machine loses much."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_warmed_up_model_writes_the_format_after_a_picture_naming_only_the_datas_places(tmp_path, one_thread):
    import torch

    from seekworld.rewards.scoring import score_response
    from seekworld.rewards.variants import RewardConfig
    from seekworld.train.tiny_qwen import WARMUP_PLACES, build_warmed_up

    images = [_solid(c) for c in ("red", "blue")] * 4
    labels = ["$japan,hokkaido$", "$brazil,bahia$"] * 4
    tiny = build_warmed_up(
        tmp_path, [PROMPT] * len(images), labels, images=images, steps=150, max_pixels=112 * 112
    )
    processor, model = tiny.processor, tiny.model
    text = processor.apply_chat_template(PROMPT, tokenize=False, add_generation_prompt=True)
    inputs = processor(text=[text] * 32, images=images[:2] * 16, return_tensors="pt")
    pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    torch.manual_seed(0)
    with torch.no_grad():
        out = model.generate(
            **inputs,
            max_new_tokens=40,
            do_sample=True,
            bad_words_ids=[[pad]],
            pad_token_id=processor.tokenizer.pad_token_id,
        )
    replies = processor.tokenizer.batch_decode(
        out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True
    )
    rule = RewardConfig.from_variant("rule")
    japan = [score_response(r, "$japan,hokkaido$", rule) for r in replies]
    brazil = [score_response(r, "$brazil,bahia$", rule) for r in replies]
    # Well-formed and naming one of the data's places: a warm-up after text-only prompts, or with
    # 1-D positions (no mm_token_type_ids), keeps 40-60% of this once the picture comes first.
    right = [j.components["accuracy"] or b.components["accuracy"] for j, b in zip(japan, brazil, strict=True)]
    assert sum(j.components["format"] for j in japan) >= 0.8 * len(replies), replies
    assert sum(right) >= 0.7 * len(replies), replies
    assert sum(j.components["accuracy"] for j in japan) >= 4  # both places are named
    assert sum(b.components["accuracy"] for b in brazil) >= 4
    absent = [c for c, _ in WARMUP_PLACES if c not in ("Japan", "Brazil")]
    assert not [r for r in replies if any(c.casefold() in r.casefold() for c in absent)], replies
