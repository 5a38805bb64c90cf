"""The collapse and reward-hacking monitors over scored samples (seekworld.rewards.monitors)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seekworld.geo.label import parse_label
from seekworld.rewards import length
from seekworld.rewards.judge import JudgeResult
from seekworld.rewards.monitors import (
    Alarms,
    MonitorConfig,
    Observation,
    Window,
    batch_figures,
    monitor_places,
    monitored,
    observe,
    parse_places,
)
from seekworld.rewards.scoring import score_response, score_samples
from seekworld.rewards.variants import RewardConfig

RULE = monitored(RewardConfig.from_variant("rule"))
SICHUAN, GUANGDONG = "$China,Sichuan$", "$China,Guangdong$"


def answer(place: str, think: str = "Red soil and hills.") -> str:
    return f"<think>{think}</think><answer>{place}</answer>"


def config(**changes: float) -> MonitorConfig:
    base = dict(
        places=(),
        window=64,
        collapse_share=0.9,
        collapse_margin=0.2,
        padding_share=0.4,
        format_failure=0.5,
        place_floor=0.05,
    )
    return MonitorConfig(**{**base, **changes})


def observed(pairs: list[tuple[str, str]], cfg: RewardConfig = RULE) -> list[Observation | None]:
    responses = [r for r, _ in pairs]
    scores = score_samples(responses, [lab for _, lab in pairs], cfg)
    return [observe(r, s) for r, s in zip(responses, scores, strict=True)]


# ---- one sample ------------------------------------------------------------------------------


def test_an_observation_is_what_the_scorer_found():
    response = answer("$China, Sichuan$", "Red soil.")
    obs = observe(response, score_response(response, SICHUAN, RULE))
    assert obs == Observation(
        answer="CN-SC",
        label="CN-SC",
        country="CN",
        region="CN-SC",
        correct=True,
        well_formed=True,
        hedge=False,
        reasoning=9,
        measured=0,  # `rule` pays no length: nothing measured, nothing to pad for
        counted=0,
        judged=False,
        disagrees=False,
    )


def test_unresolved_answers_are_told_apart_by_their_text_and_hedges_are_marked():
    hedged = answer("China, Sichuan or Guangdong")
    hedge = observe(hedged, score_response(hedged, SICHUAN, RULE))
    assert hedge.hedge and not hedge.correct and hedge.answer == "chinasichuanorguangdong"
    none = observe("I cannot tell.", score_response("I cannot tell.", SICHUAN, RULE))
    assert none.answer is None and not none.well_formed and none.reasoning == 0


def test_a_label_that_cannot_be_read_is_not_observed():
    assert observe(answer(SICHUAN), score_response(answer(SICHUAN), "$$", RULE)) is None


def test_variants_without_accuracy_are_scored_with_it_for_the_monitors_only():
    distance = RewardConfig.from_variant("distance")
    scoring = monitored(distance)
    assert dict(scoring.weights) == {"distance": 1.0, "format": 0.0, "accuracy": 0.0}
    label = {"country": "China", "region": "Sichuan", "lat": 30.6, "lon": 104.1}
    response = answer("$China,Sichuan$ 30.6, 104.1")
    assert score_response(response, label, scoring).reward == score_response(response, label, distance).reward
    assert observe(response, score_response(response, label, scoring)).correct


def test_judge_and_rule_disagree_when_one_passes_what_the_other_fails():
    right, wrong = answer(SICHUAN), answer(GUANGDONG)
    cases = [(right, 1.0, False), (right, 0.0, True), (wrong, 1.0, True), (wrong, 0.2, False)]
    judged = monitored(RewardConfig.from_variant("rule+judge"))
    for response, verdict, disagrees in cases:
        score = score_response(response, SICHUAN, judged, external={"judge": verdict})
        score.judge = JudgeResult(verdict)
        assert observe(response, score).disagrees is disagrees
    score = score_response(right, SICHUAN, judged)
    score.judge = JudgeResult(0.0, error="timeout")  # an outage is no verdict
    obs = observe(right, score)
    assert not obs.judged and not obs.disagrees


# ---- a batch ---------------------------------------------------------------------------------


def test_a_collapsed_batch_gives_one_answer_while_the_labels_vary():
    pairs = [(answer(SICHUAN), SICHUAN)] * 4 + [(answer(SICHUAN), GUANGDONG)] * 4
    obs = observed(pairs)
    figures = batch_figures(obs, places=("CN-SC", "CN-GD"))
    assert figures["top_answer_share"] == 1.0 and figures["top_label_share"] == 0.5
    assert figures["accuracy/CN-SC"] == 1.0 and figures["accuracy/CN-GD"] == 0.0


def test_batch_figures_count_padding_hedges_and_format():
    pairs = [
        (answer(SICHUAN, "a b"), SICHUAN),  # 3 characters, 1 uncounted
        (answer(SICHUAN, "ab . ."), SICHUAN),  # 6 characters, 4 uncounted
        (answer("China, Sichuan or Guangdong", "abc"), SICHUAN),  # a hedge: length is not measured
        ("<answer>$China,Sichuan$</answer>", SICHUAN),  # no reasoning: the format fails, the answer counts
    ]
    figures = batch_figures(observed(pairs, monitored(RewardConfig.from_variant("rule+length"))), judge=True)
    assert figures == {
        "top_answer_share": 0.75,
        "top_label_share": 1.0,
        "reasoning_length": (3 + 6 + 3 + 0) / 4,
        "padding_share": 5 / 9,
        "hedge_rate": 0.25,
        "format_failure_rate": 0.25,
        "judge_rule_disagreement": 0.0,  # nothing judged
    }


def test_places_absent_from_a_batch_are_not_reported():
    figures = batch_figures(observed([(answer(SICHUAN), SICHUAN)]), places=("CN-SC", "CN-GD"))
    assert "accuracy/CN-SC" in figures and "accuracy/CN-GD" not in figures


def test_a_country_level_place_set_counts_every_region_of_the_country():
    figures = batch_figures(
        observed([(answer(SICHUAN), SICHUAN), (answer(SICHUAN), GUANGDONG)]), places=("CN",)
    )
    assert figures["accuracy/CN"] == 0.5


def test_monitored_places_are_regions_when_few_else_the_most_common_countries():
    few = [parse_label(x) for x in (SICHUAN, GUANGDONG, SICHUAN)]
    assert monitor_places(few) == ("CN-GD", "CN-SC")
    many = [parse_label(x) for x in (SICHUAN, GUANGDONG, "$Japan,Osaka$", "$Japan,Tokyo$", "$Spain,Galicia$")]
    assert monitor_places(many, few=3, most=2) == ("CN", "JP")
    assert parse_places(" CN-SC, ,CN-GD,CN-SC ") == ("CN-SC", "CN-GD") and parse_places(None) == ()


# ---- the window: incremental sums equal a recount ---------------------------------------------

OBSERVATIONS = st.builds(
    Observation,
    answer=st.one_of(st.none(), st.sampled_from(["CN-SC", "CN-GD", "JP-27", "text"])),
    label=st.sampled_from(["CN-SC", "CN-GD", "JP-27"]),
    country=st.sampled_from(["CN", "JP"]),
    region=st.sampled_from(["CN-SC", "CN-GD", "JP-27", None]),
    correct=st.booleans(),
    well_formed=st.booleans(),
    hedge=st.booleans(),
    reasoning=st.integers(0, 50),
    counted=st.integers(0, 50),
    judged=st.booleans(),
    disagrees=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(OBSERVATIONS, max_size=60), st.integers(1, 12))
def test_a_window_reports_what_a_recount_of_its_last_samples_gives(stream, size):
    places = ("CN-SC", "JP")
    window = Window(size, places)
    for i, obs in enumerate(stream):
        window.add(obs)
        got = window.figures(judge=True)
        recount = batch_figures(stream[max(0, i + 1 - size) : i + 1], judge=True)
        assert {k: got[k] for k in recount if "/" not in k} == pytest.approx(
            {k: v for k, v in recount.items() if "/" not in k}
        )
        # each place over its own last `size` samples, 0 before its first
        for place in places:
            own = [o for o in stream[: i + 1] if (o.region if o.region in places else o.country) == place]
            want = batch_figures(own[-size:], places)  # only its samples: its accuracy
            assert got[f"accuracy/{place}"] == pytest.approx(want.get(f"accuracy/{place}", 0.0))
        assert set(got) == set(window.figures()) | {"judge_rule_disagreement"}


def test_the_window_keys_never_change():
    window = Window(4, ("CN-SC", "CN-GD"))
    keys = set(window.figures())
    for obs in observed([(answer(SICHUAN), SICHUAN)] * 9):
        window.add(obs)
        assert set(window.figures()) == keys


# ---- the padding figure follows the length rule -----------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_what_the_padding_monitor_counts_is_what_the_length_component_pays_for(reasoning):
    response = f"<think>{reasoning}</think><answer>$China,Sichuan$</answer>"
    score = score_response(response, SICHUAN, monitored(RewardConfig.from_variant("rule+length")))
    obs = observe(response, score)
    _, chars, counted = length.measured(response)
    assert (obs.measured, obs.counted) == (chars, counted)  # read off the component, not measured twice
    # in characters: a ligature the reading makes two letters ("Æ") stays one character
    assert min(chars, length.compute_score(response, per_char=1.0, cap=float("inf"))) == counted
    assert 0 <= counted <= chars
    if "<think>" not in reasoning and "</think>" not in reasoning:
        assert chars == len(reasoning)


# ---- warnings --------------------------------------------------------------------------------


def collapsed(top: float, labels: float) -> dict[str, float]:
    return {
        "top_answer_share": top,
        "top_label_share": labels,
        "reasoning_length": 10.0,
        "padding_share": 0.1,
        "hedge_rate": 0.0,
        "format_failure_rate": 0.0,
    }


def test_a_collapse_warns_once_with_the_figure_and_says_when_it_is_over():
    alarms = Alarms(config())
    (line,) = alarms.check(collapsed(0.97, 0.5), "step 3", lambda: "CN-SC")
    assert line.startswith("step 3: collapse warning: 97% of completions give one answer (CN-SC)")
    assert "top_answer_share 0.97, top_label_share 0.50" in line
    assert alarms.check(collapsed(1.0, 0.5), "step 4") == []  # still past it: said once
    assert alarms.check(collapsed(0.87, 0.5), "step 5") == []  # just under the line: no flapping
    (back,) = alarms.check(collapsed(0.6, 0.5), "step 6")
    assert back == "step 6: collapse back under its threshold (top_answer_share 0.60)"


def test_one_answer_is_no_collapse_when_the_labels_agree():
    assert Alarms(config()).check(collapsed(1.0, 1.0), "step 1") == []
    assert Alarms(config()).check(collapsed(0.95, 0.85), "step 1") == []  # within the margin


def test_padding_and_format_warnings():
    figures = {**collapsed(0.2, 0.5), "padding_share": 0.55, "format_failure_rate": 0.7}
    lines = Alarms(config()).check(figures, "step 9")
    assert [line.split(":")[1].strip() for line in lines] == ["padding warning", "format warning"]
    assert "padding_share 0.55" in lines[0] and "format_failure_rate 0.70" in lines[1]


def test_one_place_never_right_while_another_is_warns_once_its_window_is_full():
    alarms = Alarms(config())
    figures = {**collapsed(0.5, 0.5), "accuracy/JP-01": 0.0, "accuracy/BR-BA": 0.62}
    assert alarms.check(figures, "step 1", place_counts={"JP-01": 31, "BR-BA": 40}) == []  # too few yet
    (line,) = alarms.check(figures, "step 2", place_counts={"JP-01": 32, "BR-BA": 48})
    assert line.startswith("step 2: place warning: accuracy/JP-01 is 0.00 over its last 32 samples while ")
    assert "accuracy/BR-BA is 0.62" in line
    later = {**figures, "accuracy/JP-01": 0.08}  # within the hysteresis: still on
    assert alarms.check(later, "step 3", place_counts={"JP-01": 40, "BR-BA": 56}) == []
    (back,) = alarms.check(
        {**figures, "accuracy/JP-01": 0.4}, "step 9", place_counts={"JP-01": 64, "BR-BA": 64}
    )
    assert back == "step 9: place back over its threshold (accuracy/JP-01 0.40)"


def test_every_place_low_is_no_place_warning():
    figures = {**collapsed(0.5, 0.5), "accuracy/JP-01": 0.0, "accuracy/BR-BA": 0.1}
    assert Alarms(config()).check(figures, "step 5", place_counts={"JP-01": 64, "BR-BA": 64}) == []


def test_a_window_counts_each_places_samples():
    window = Window(3, ("CN-SC", "CN-GD"))
    for obs in observed([(answer(SICHUAN), SICHUAN)] * 5 + [(answer(SICHUAN), GUANGDONG)]):
        window.add(obs)
    assert window.place_counts() == {"CN-SC": 3, "CN-GD": 1}
