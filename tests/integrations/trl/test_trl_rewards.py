"""TRL reward functions: one per component, named after it, summing (with TRL's weights) to exactly
the reward the server gives; the prepared-row conversion TRL's VLM path reads."""

from __future__ import annotations

import json

import pytest

from seekworld.integrations.trl.data import PreparedDataError, to_trl_row
from seekworld.integrations.trl.rewards import (
    completion_text,
    reward_functions,
    variant_components,
)
from seekworld.rewards.variants import RewardConfig, score_response

RESPONSES = [
    "<think>Cyrillic signs, onion domes.</think><answer>$Russia,Moscow$</answer>",
    "<think>Cyrillic.</think><answer>Россия, Москва</answer>",
    "<think>Cyrillic.</think><answer>$Russia,Tver$</answer>",
    "<answer>$Russia,Moscow$</answer>",  # no reasoning: accuracy without format
    "<think>x</think><answer>$Russia,Moscow$</answer><answer>$Japan,Osaka$</answer>",  # two answers
    "I cannot tell.",
    "",
]
LABELS = ["$russia,moscow/москва$"] * len(RESPONSES)


@pytest.mark.parametrize("variant", ["rule", "rule+length", "distance", "rule+distance"])
def test_weighted_functions_equal_the_served_reward(variant):
    config = RewardConfig.from_variant(variant)
    funcs, weights = reward_functions(config)
    assert [f.__name__ for f in funcs] == list(config.components)  # TRL logs rewards/<name>/mean
    completions = [[{"role": "assistant", "content": r}] for r in RESPONSES]
    per_func = [f(completions=completions, label=LABELS, trainer_state=None) for f in funcs]
    for i, response in enumerate(RESPONSES):
        expected = score_response(response, LABELS[i], config)
        assert sum(w * v[i] for w, v in zip(weights, per_func, strict=True)) == pytest.approx(expected.reward)
        for name, values in zip(config.components, per_func, strict=True):
            assert values[i] == pytest.approx(expected.components[name])


def test_weights_override_reaches_trl():
    _, weights = reward_functions(RewardConfig.from_variant("rule", "format=0.25,accuracy=3"))
    assert weights == [0.25, 3.0]


def test_unparseable_label_scores_zero_not_raises():
    (fmt, acc), _ = reward_functions(RewardConfig.from_variant("rule"))
    completions = [RESPONSES[0]]
    assert acc(completions=completions, label=[""]) == [0.0]
    assert fmt(completions=completions, label=[""]) == [0.0]  # like the server: label error -> 0


def test_judge_component_is_a_batch_function_with_its_weight():
    # the judge scores whole batches (seekworld/integrations/trl/rewards.py judge_reward): no per-sample fn
    components = list(variant_components(RewardConfig.from_variant("rule+judge", "judge=3")))
    assert [(n, w, s is None) for n, w, s in components] == [
        ("format", 0.5, False),
        ("accuracy", 2.0, False),
        ("judge", 3.0, True),
    ]


def test_completion_text_ignores_tool_turns():
    messages = [
        {"role": "assistant", "content": "<think>zoom</think>"},
        {"role": "tool", "content": "<answer>$Russia,Moscow$</answer>"},  # not the policy's words
        {"role": "assistant", "content": [{"type": "text", "text": "<answer>$Japan,Osaka$</answer>"}]},
    ]
    assert completion_text(messages) == "<think>zoom</think><answer>$Japan,Osaka$</answer>"
    assert completion_text("plain") == "plain"


def test_recorder_writes_one_row_per_sample_after_every_component(tmp_path):
    path = tmp_path / "samples.jsonl"
    funcs, _ = reward_functions(RewardConfig.from_variant("rule"), recorder_path=path)

    class State:
        global_step = 4

    completions = [[{"role": "assistant", "content": r}] for r in RESPONSES[:2]]
    funcs[0](completions=completions, label=LABELS[:2], trainer_state=State())
    assert not path.exists()  # accuracy not scored yet
    funcs[1](completions=completions, label=LABELS[:2], trainer_state=State())
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["step"] for r in rows] == [5, 5]  # the update this batch feeds
    for row in rows:
        assert row["reward"] == pytest.approx(score_response(row["completion"], row["label"]).reward)


def test_prepared_row_becomes_trl_messages():
    row = {
        "prompt": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "<image>Where? Compare with <image>."},
        ],
        "images": ["/a.jpg", "/b.jpg"],
        "label": {"country": "Russia", "region": "Moscow"},
    }
    out = to_trl_row(row, "f:1")
    assert out["prompt"][0]["content"] == [{"type": "text", "text": "Be brief."}]
    assert [b["type"] for b in out["prompt"][1]["content"]] == ["image", "text", "image", "text"]
    assert out["prompt"][1]["content"][1]["text"] == "Where? Compare with "
    assert json.loads(out["label"]) == row["label"]  # one column type for datasets
    with pytest.raises(PreparedDataError, match=r"f:1: 2 <image> tag\(s\) for 1 image"):
        to_trl_row({**row, "images": ["/a.jpg"]}, "f:1")
    with pytest.raises(PreparedDataError, match="missing 'label'"):
        to_trl_row({"prompt": [], "images": []}, "f:1")
