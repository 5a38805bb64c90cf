"""The OpenRLHF reply of a scored batch: upstream's dict shape, numbers only, the same keys for every
sample of a variant; request validation."""

from __future__ import annotations

import json
import math

import pytest
from helpers.scoring import score_batch

from seekworld.rewards.judge import Judge, JudgeResult
from seekworld.rewards.scoring import score_samples
from seekworld.rewards.variants import VARIANTS, RewardConfig
from seekworld.service.wire import RequestError, openrlhf_reply, validate_payload

PROMPT = (
    "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Where?<|im_end|>\n<|im_start|>assistant\n"
)
RIGHT = (
    PROMPT
    + "<think>Signs in simplified Chinese, red soil: a clue for Sichuan.</think>"
    + "<answer>$China,四川省$</answer><|im_end|>"
)
WRONG = PROMPT + "<think>Looks like Japan.</think><answer>$Japan,Osaka$</answer><|im_end|>"
NO_FORMAT = PROMPT + "China, Sichuan<|im_end|>"
COORDS = PROMPT + "<think>clue</think><answer>30.66, 104.06</answer><|im_end|>"
LABEL = "$china,sichuan/四川$"
LABEL_XY = {"country": "China", "region": "Sichuan", "lat": 30.66, "lon": 104.06}


def test_rule_batch_shape_and_values():
    out = score_batch([RIGHT, WRONG, NO_FORMAT], [PROMPT] * 3, [LABEL] * 3, RewardConfig.from_variant("rule"))
    assert out["rewards"] == [1.5, 0.5, 0.0]
    assert out["scores"] == [1.0, 0.0, 0.0]  # accuracy: what dynamic filtering should look at
    assert out["extra_logs"] == {
        "format": [1.0, 1.0, 0.0],
        "accuracy": [1.0, 0.0, 0.0],
        "answer_too_long": [0.0, 0.0, 0.0],
        "label_error": [0.0, 0.0, 0.0],
    }


@pytest.mark.parametrize("variant", [v for v in VARIANTS.names() if "judge" not in v])
@pytest.mark.parametrize(
    "labels",
    [
        [LABEL, LABEL_XY, "$$", None, 7, {"country": ""}, json.dumps(LABEL_XY)],
    ],
)
def test_every_variant_gives_numbers_with_the_same_keys(variant, labels):
    n = len(labels)
    out = score_batch([RIGHT] * n, [PROMPT] * n, labels, RewardConfig.from_variant(variant))
    json.dumps(out)  # JSON-serialisable
    assert set(out) == {"rewards", "scores", "extra_logs"}
    for key, values in out["extra_logs"].items():
        assert len(values) == n, key
        assert all(isinstance(v, float) and math.isfinite(v) for v in values), key
    assert out["extra_logs"]["label_error"] == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    # a label that cannot be parsed scores 0 instead of failing the batch
    assert out["rewards"][2:6] == [0.0] * 4
    if "distance" in variant:
        assert "distance_km" in out["extra_logs"]


def test_distance_variant_uses_coordinates():
    out = score_batch([COORDS], [PROMPT], [LABEL_XY], RewardConfig.from_variant("rule+distance"))
    assert out["extra_logs"]["distance_km"][0] == pytest.approx(0.0, abs=0.01)
    assert out["extra_logs"]["distance"][0] == pytest.approx(1.0)


def test_empty_batch():
    out = score_batch([], [], [], RewardConfig.from_variant("rule"))
    assert out == {
        "rewards": [],
        "scores": [],
        "extra_logs": {"format": [], "accuracy": [], "answer_too_long": [], "label_error": []},
    }


class StubJudge(Judge):
    """A Judge whose verdicts are given, to test composition without HTTP."""

    def __init__(self, results):
        self.results = list(results)
        self.items = []

    def score_many(self, items, budget_s=None, deadline=None):
        self.deadline = deadline
        self.items.extend(items)
        return [self.results.pop(0) for _ in items]


def test_judge_variant_adds_the_weighted_verdict_and_counts_errors():
    config = RewardConfig.from_variant("rule+judge")
    judge = StubJudge(
        [JudgeResult(1.0), JudgeResult(0.0, error="timeout"), JudgeResult(0.0, flagged="override")]
    )
    out = score_batch([RIGHT, RIGHT, RIGHT, RIGHT], [PROMPT] * 4, [LABEL, LABEL, LABEL, None], config, judge)
    assert out["rewards"] == [3.5, 2.5, 2.5, 0.0]  # 0.5·format + 2·accuracy + 1·judge
    assert out["extra_logs"]["judge"] == [1.0, 0.0, 0.0, 0.0]
    assert out["extra_logs"]["judge_error"] == [0.0, 1.0, 0.0, 0.0]
    assert out["extra_logs"]["judge_flagged"] == [0.0, 0.0, 1.0, 0.0]
    assert out["extra_logs"]["label_error"] == [0.0, 0.0, 0.0, 1.0]
    # the judge saw the think block and the answer, and not the sample with a broken label
    assert len(judge.items) == 3
    assert judge.items[0].reasoning.startswith("Signs in simplified Chinese")
    # the answer as the verifier read it (gazetteer names), the policy's own text only for screening
    assert judge.items[0].answer == "China, Sichuan" and judge.items[0].raw_answer == "$China,四川省$"


def test_judge_gets_the_label_image():
    judge = StubJudge([JudgeResult(1.0)])
    score_batch(
        [RIGHT],
        [PROMPT],
        [{**LABEL_XY, "image": "/data/1.jpg"}],
        RewardConfig.from_variant("rule+judge"),
        judge,
    )
    assert judge.items[0].image == "/data/1.jpg"


def test_weights_override_applies_to_the_judge():
    config = RewardConfig.from_variant("rule+judge", "judge=3")
    out = score_batch([RIGHT], [PROMPT], [LABEL], config, StubJudge([JudgeResult(1.0)]))
    assert out["rewards"] == [0.5 + 2.0 + 3.0]


def test_judge_variant_without_a_judge_is_a_setup_error():
    with pytest.raises(ValueError, match="pass a Judge"):
        score_batch([RIGHT], [PROMPT], [LABEL], RewardConfig.from_variant("rule+judge"))


def test_unexpected_error_scores_zero_unless_strict(monkeypatch):
    import seekworld.rewards.scoring as scoring

    def boom(*a, **k):
        raise RuntimeError("bug")

    monkeypatch.setattr(scoring, "_rules", boom)
    config = RewardConfig.from_variant("rule")
    with pytest.raises(RuntimeError):
        score_batch([RIGHT], [PROMPT], [LABEL], config, strict=True)
    out = score_batch([RIGHT, RIGHT], [PROMPT] * 2, [LABEL, LABEL], config)
    assert out["rewards"] == [0.0, 0.0] and set(out["extra_logs"]) == {
        "format",
        "accuracy",
        "answer_too_long",
        "label_error",
    }
    samples = score_samples([RIGHT], [LABEL], config)
    assert samples[0].error == "RuntimeError" and samples[0].reward == 0.0


def test_non_finite_numbers_become_zero():
    config = RewardConfig.from_variant("rule")
    samples = score_samples([RIGHT], [LABEL], config)
    samples[0].reward = float("nan")
    assert openrlhf_reply(samples, config)["rewards"] == [0.0]


@pytest.mark.parametrize(
    "payload,message",
    [
        ([], "must be a JSON object"),
        ({"query": [], "prompts": []}, "missing key(s): labels"),
        ({"labels": []}, "missing key(s): query, prompts"),
        ({"query": "q", "prompts": [], "labels": []}, "'query' must be a list"),
        ({"query": [], "prompts": None, "labels": []}, "'prompts' must be a list"),
        ({"query": ["a", "b"], "prompts": ["p"], "labels": ["l", "l"]}, "query=2, prompts=1, labels=2"),
        ({"query": [1], "prompts": ["p"], "labels": ["l"]}, "'query[0]' must be a string, got int"),
        ({"query": ["q"], "prompts": [None], "labels": ["l"]}, "'prompts[0]' must be a string"),
    ],
)
def test_validate_payload_names_the_problem(payload, message):
    with pytest.raises(RequestError) as info:
        validate_payload(payload)
    assert message in str(info.value)


def test_validate_payload_accepts_any_label_value():
    assert validate_payload({"query": ["q"], "prompts": ["p"], "labels": [{"x": 1}]}) == (
        ["q"],
        ["p"],
        [{"x": 1}],
    )
