"""The TRL reward function: the variant's total as the server pays it, each component logged as TRL
logs a reward function's; the prepared-row conversion TRL's VLM path reads."""

from __future__ import annotations

import json
import math

import pytest

from seekworld.integrations.trl.data import PreparedDataError, to_trl_row
from seekworld.integrations.trl.rewards import completion_text, reward_function
from seekworld.rewards.scoring import score_response
from seekworld.rewards.variants import RewardConfig

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


def _call(func, responses, labels, **kw):
    metrics: dict[str, list[float]] = {}
    completions = [[{"role": "assistant", "content": r}] for r in responses]
    out = func(
        completions=completions,
        label=labels,
        log_metric=lambda k, v: metrics.setdefault(k, []).append(v),
        **kw,
    )
    return out, metrics


@pytest.mark.parametrize("variant", ["rule", "rule+length", "distance", "rule+distance"])
def test_the_function_returns_the_served_total_and_logs_each_component(variant):
    config = RewardConfig.from_variant(variant)
    func = reward_function(config)
    assert func.__name__ == "seekworld"  # TRL logs the total as rewards/seekworld/mean
    totals, metrics = _call(func, RESPONSES, LABELS)
    expected = [score_response(r, LABELS[i], config) for i, r in enumerate(RESPONSES)]
    assert totals == [e.reward for e in expected]
    for name in config.components:
        values = [e.components[name] for e in expected]
        mean = sum(values) / len(values)
        assert metrics[f"rewards/{name}/mean"] == [pytest.approx(mean)]
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        assert metrics[f"rewards/{name}/std"] == [pytest.approx(std)]


def test_weights_override_reaches_the_total():
    config = RewardConfig.from_variant("rule", "format=0.25,accuracy=3")
    totals, _ = _call(reward_function(config), RESPONSES[:1], LABELS[:1])
    assert totals == [0.25 + 3.0]


def test_unparseable_label_scores_zero_not_raises():
    totals, metrics = _call(reward_function(RewardConfig.from_variant("rule")), RESPONSES[:1], [""])
    assert totals == [0.0] and metrics["rewards/format/mean"] == [0.0]  # like the server: label error -> 0


def test_completion_text_ignores_tool_turns():
    messages = [
        {"role": "assistant", "content": "<think>zoom</think>"},
        {"role": "tool", "content": "<answer>$Russia,Moscow$</answer>"},  # not the policy's words
        {"role": "assistant", "content": [{"type": "text", "text": "<answer>$Japan,Osaka$</answer>"}]},
    ]
    assert completion_text(messages) == "<think>zoom</think><answer>$Japan,Osaka$</answer>"
    assert completion_text("plain") == "plain"


def test_recorder_writes_one_row_per_sample(tmp_path):
    path = tmp_path / "samples.jsonl"
    func = reward_function(RewardConfig.from_variant("rule"), recorder_path=path)

    class State:
        global_step = 4

    totals, _ = _call(func, RESPONSES[:2], LABELS[:2], trainer_state=State())
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["step"] for r in rows] == [5, 5]  # the update this batch feeds
    assert [r["reward"] for r in rows] == totals
    for row in rows:
        rescored = score_response(row["completion"], row["label"])
        assert (row["reward"], row["format"], row["accuracy"]) == (
            rescored.reward,
            rescored.components["format"],
            rescored.components["accuracy"],
        )


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
