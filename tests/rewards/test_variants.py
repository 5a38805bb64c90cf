"""Composition of reward components by variant and weights."""

import pytest

from seekworld.registry import Registry
from seekworld.rewards.length import PER_LETTER, count_new_letters, count_reasoning_chars
from seekworld.rewards.scoring import score_response
from seekworld.rewards.variants import VARIANTS, RewardConfig, parse_weights

REASONING = (
    "Simplified Chinese on the shop signs, lychee orchards and banyan trees, humid air and a "
    "Cantonese menu outside the restaurant: the Pearl River Delta."
)
GOOD = f"<think>{REASONING}</think><answer>China, Guangdong</answer>"
LABEL = "$china,guangdong/guangdong province$"
LENGTH = PER_LETTER * count_new_letters(REASONING)


def test_rule_is_half_format_plus_accuracy():
    result = score_response(GOOD, LABEL)
    assert result.components == {"format": 1.0, "accuracy": 1.0}
    assert result.reward == pytest.approx(1.5)
    no_format = score_response("<answer>China, Guangdong</answer>", LABEL)
    assert no_format.reward == pytest.approx(1.0)


def test_rule_plus_length():
    assert 0.1 < LENGTH < 0.2  # the new letters of genuine reasoning
    result = score_response(GOOD, LABEL, RewardConfig.from_variant("rule+length"))
    assert result.components["length"] == pytest.approx(LENGTH)
    assert result.reward == pytest.approx(1.5 + LENGTH)


def test_length_is_paid_with_the_right_answer_only():
    config = RewardConfig.from_variant("rule+length")
    wrong = score_response(GOOD.replace("Guangdong", "Fujian"), LABEL, config)
    assert wrong.components == {"format": 1.0, "accuracy": 0.0, "length": 0.0} and wrong.reward == 0.5
    # without accuracy among the weights the gate is still checked
    only_length = RewardConfig.from_variant("rule+length", "format=0,accuracy=0")
    assert score_response(GOOD, LABEL, only_length).reward == pytest.approx(LENGTH)
    bare = RewardConfig("custom", (("length", 1.0),))
    assert score_response(GOOD, LABEL, bare).reward == pytest.approx(LENGTH)
    assert score_response(GOOD.replace("Guangdong", "Fujian"), LABEL, bare).reward == 0.0


def test_seekworld_exact_length_is_a_named_gameable_variant():
    config = RewardConfig.from_variant("rule+seekworld-length")
    padded = "<think>" + "x" * 300 + "</think><answer>China, Fujian</answer>"  # wrong, padded
    result = score_response(padded, LABEL, config)
    assert result.components == {"format": 1.0, "accuracy": 0.0, "seekworld_length": pytest.approx(0.3)}
    good = score_response(GOOD, LABEL, config)
    assert good.components["seekworld_length"] == pytest.approx(0.001 * count_reasoning_chars(REASONING))
    assert "GAMEABLE" in VARIANTS.get("rule+seekworld-length").description


def test_weights_override_from_text_and_dict():
    config = RewardConfig.from_variant("rule", "format=1,accuracy=3")
    assert score_response(GOOD, LABEL, config).reward == pytest.approx(4.0)
    config = RewardConfig.from_variant("rule", {"length": 2.0})
    assert score_response(GOOD, LABEL, config).reward == pytest.approx(1.5 + 2 * LENGTH)


def test_judge_is_taken_from_outside():
    config = RewardConfig.from_variant("rule+judge")
    assert config.needs_judge
    result = score_response(GOOD, LABEL, config, external={"judge": 0.5})
    assert result.reward == pytest.approx(0.5 + 2.0 + 0.5)


def test_distance_logs_kilometres():
    label = {"country": "China", "region": "Sichuan", "lat": 30.66, "lon": 104.06}
    response = "<think>x</think><answer>China, Sichuan, 30.66, 104.06</answer>"
    result = score_response(response, label, RewardConfig.from_variant("rule+distance"))
    assert result.components["distance"] == pytest.approx(1.0)
    assert result.logs["distance_km"] == pytest.approx(0.0, abs=1e-6)
    assert result.reward == pytest.approx(2.5)


def test_label_error_scores_zero_with_the_same_log_keys():
    config = RewardConfig.from_variant("rule+distance")
    bad = score_response(GOOD, "{broken", config)
    good = score_response(GOOD, {"country": "China", "region": "Sichuan", "lat": 1, "lon": 2}, config)
    assert bad.reward == 0.0 and "does not parse" in bad.label_error
    assert set(bad.logs) == set(good.logs)
    assert all(isinstance(v, float) for v in bad.logs.values())


def test_unknown_names_suggest_the_closest():
    with pytest.raises(KeyError, match="Did you mean: rule\\+length"):
        RewardConfig.from_variant("rule+lenght")
    with pytest.raises(KeyError, match="Did you mean: accuracy"):
        parse_weights("acuracy=2")
    with pytest.raises(ValueError, match="name=number"):
        parse_weights("format")
    with pytest.raises(ValueError, match="not a number"):
        parse_weights("format=high")


def test_variants_registry_has_the_documented_variants():
    documented = {"rule", "rule+length", "rule+seekworld-length", "rule+judge", "distance", "rule+distance"}
    assert documented <= set(VARIANTS.names())


def test_registry_rejects_duplicates():
    reg: Registry[int] = Registry("thing")
    reg.register("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", 2)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_a_config_knows_its_log_keys_without_scoring(name):
    config = RewardConfig.from_variant(name)
    with_coords = {"country": "China", "region": "Sichuan", "lat": 30.6, "lon": 104.1}
    for label in (LABEL, with_coords, "{broken"):
        result = score_response(GOOD, label, config)
        assert tuple(result.logs) == config.log_keys, (name, label)


def test_reporting_adds_components_that_are_never_summed():
    config = RewardConfig.from_variant("distance")
    plain = score_response(GOOD, LABEL, config)
    reported = score_response(GOOD, LABEL, config.reporting("accuracy", "format"))
    assert reported.reward == plain.reward
    assert reported.components["accuracy"] == 1.0 and reported.components["format"] == 1.0
    assert reported.country_ok and reported.reasons == {}
    wrong = score_response("<think>x</think><answer>China, Yunnan</answer>", LABEL)
    assert wrong.country_ok and "accuracy" in wrong.reasons
