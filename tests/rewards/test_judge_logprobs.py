"""Issue 13 §2: `score` mode grades the verdict with the judge's logprobs of "0" and "1", against
the loopback stand-in judge (tests/conftest.py: JudgeStandIn, a stand-in that returns logprobs in
the OpenAI shape when asked), and falls back to the text verdict, counted, when it cannot."""

from __future__ import annotations

import math

import pytest
from helpers.judge import judge_config

from seekworld.rewards.judge import Judge, JudgeItem, score_from_logprobs

SOUND = (
    "The first clue is the script on the shop signs: simplified Chinese. The second clue is the red soil "
    "and terraced fields, which fit Sichuan or Chongqing; the dialect on a banner rules out Chongqing."
)


def judge_for(standin, model, results=None, **kw):
    kw.setdefault("timeout_s", 1.0)
    kw.setdefault("backoff_s", 0.01)
    return Judge(
        judge_config(url=standin.url, model=model, **kw),
        on_result=(results if results is not None else []).append,
    )


def top(*pairs):
    return [{"token": t, "logprob": lp} for t, lp in pairs]


def payload(token="1", alternatives=None, before=()):
    entries = [{"token": t, "logprob": 0.0, "top_logprobs": top((t, 0.0))} for t in before]
    alternatives = top(("1", math.log(0.8)), ("0", math.log(0.2))) if alternatives is None else alternatives
    return {"content": [*entries, {"token": token, "logprob": -0.2, "top_logprobs": alternatives}]}


# --- the pure reading ---------------------------------------------------------------------------


def test_score_is_p1_over_p0_plus_p1():
    assert score_from_logprobs(payload(), 1.0) == pytest.approx(0.8)
    # Only the two choices count: other tokens' mass is left out, whitespace variants add up.
    alts = top(("1", math.log(0.3)), (" 1\n", math.log(0.1)), ("0", math.log(0.4)), ("Yes", math.log(0.2)))
    assert score_from_logprobs(payload(alternatives=alts), 1.0) == pytest.approx(0.5)
    # A verdict of 0 that the judge nearly gave as 1 still grades high.
    low = top(("0", math.log(0.55)), ("1", math.log(0.45)))
    assert score_from_logprobs(payload("0", low), 0.0) == pytest.approx(0.45)


def test_the_verdict_token_is_the_last_digit():
    # A thinking judge's digits before the verdict are not the verdict; nor is the JSON around it.
    digits = ("<think>", "1", " clue", "</think>", "\n", '{"', "verdict", '":')
    assert score_from_logprobs(payload(" 1", before=digits), 1.0) == pytest.approx(0.8)


def test_one_choice_missing_from_the_top_counts_as_zero():
    assert score_from_logprobs(payload(alternatives=top(("1", -0.1), ("Yes", -3.0))), 1.0) == 1.0
    assert score_from_logprobs(payload("0", top(("0", -0.1), ("No", -3.0))), 0.0) == 0.0
    assert score_from_logprobs(payload(alternatives=top(("1", -0.1), ("0", -math.inf))), 1.0) == 1.0


@pytest.mark.parametrize(
    "logprobs,verdict",
    [
        (None, 1.0),  # the endpoint returned none
        ({}, 1.0),
        ("1 at 0.8", 1.0),
        ({"content": "1 at 0.8"}, 1.0),
        ({"content": []}, 1.0),
        ({"content": [None, 3, ["1"]]}, 1.0),
        ({"content": [{"token": "1"}]}, 1.0),  # no top_logprobs
        (payload(alternatives=top(("Yes", -0.1), ("No", -2.0))), 1.0),  # neither choice
        (payload(alternatives=top(("1", float("nan")), ("0", -1.0))), 1.0),
        (payload(alternatives=top(("1", math.inf), ("0", -1.0))), 1.0),
        (payload(alternatives=top(("1", "-0.1"), ("0", -1.0))), 1.0),  # a string
        (payload(alternatives=top(("1", True), ("0", -1.0))), 1.0),
        (payload(alternatives=top(("1", -math.inf), ("0", -math.inf))), 1.0),  # no mass at all
        (payload(alternatives=[{"token": None, "logprob": 0.0}, 7]), 1.0),
        (payload("0"), 1.0),  # the logprobs disagree with the text verdict
        (payload(), 0.5),  # a number reply has no single verdict token
        ({"content": [{"token": 1, "top_logprobs": top(("1", 0.0))}]}, 1.0),
    ],
)
def test_unusable_payloads_give_none_and_never_raise(logprobs, verdict):
    assert score_from_logprobs(logprobs, verdict) is None


def test_scores_are_clamped_to_the_unit_interval():
    # A positive logprob is garbled; it is read as a probability of 1, never more.
    assert score_from_logprobs(payload(alternatives=top(("1", 5.0), ("0", 0.0))), 1.0) == 0.5
    assert 0.0 <= score_from_logprobs(payload(alternatives=top(("1", 700.0), ("0", -1e308))), 1.0) <= 1.0


# --- through the judge and the stand-in ---------------------------------------------------------


def test_score_mode_grades_the_verdict_from_logprobs(judge_standin):
    results = []
    judge = judge_for(judge_standin, "graded", results, mode="score")
    result = judge.score(JudgeItem(SOUND, "China, Sichuan"))
    assert result.score == pytest.approx(0.8, abs=1e-6) and result.error is None
    assert not result.logprobs_fallback and results == [result]
    sent = judge_standin.requests[-1]
    assert sent["logprobs"] is True and 1 <= sent["top_logprobs"] <= 20
    assert judge.score(JudgeItem(SOUND, "China, Sichuan")).score == pytest.approx(0.8)  # cached
    assert len(judge_standin.requests) == 1


def test_score_mode_asks_the_binary_question(judge_standin):
    judge_for(judge_standin, "graded", mode="score").score(JudgeItem(SOUND, "x"))
    prompt = judge_standin.requests[-1]["messages"][-1]["content"]
    assert prompt.endswith("Reply with a single character: 1 or 0. No other text.")


def test_a_thinking_judge_is_graded_at_its_verdict(judge_standin):
    result = judge_for(judge_standin, "graded_think", mode="score", max_tokens=64).score(
        JudgeItem(SOUND, "x")
    )
    assert result.score == pytest.approx(0.8) and not result.logprobs_fallback


def test_structured_score_mode_reads_the_verdict_digit(judge_standin):
    judge = judge_for(judge_standin, "graded", mode="score", structured=True)
    result = judge.score(JudgeItem(SOUND, "x"))
    assert result.score == pytest.approx(0.8) and not result.logprobs_fallback
    sent = judge_standin.requests[-1]
    assert sent["response_format"]["json_schema"]["schema"]["properties"]["verdict"]["enum"] == [0, 1]
    assert sent["logprobs"] is True


@pytest.mark.parametrize("model", ["nologprobs", "offtop", "nanlogprobs", "garbled"])
def test_without_usable_logprobs_the_text_verdict_is_the_score_and_counted(judge_standin, model):
    from seekworld.serve.metrics import Metrics

    metrics = Metrics()
    judge = Judge(
        judge_config(url=judge_standin.url, model=model, mode="score", timeout_s=1.0),
        on_result=metrics.observe_judge,
    )
    result = judge.score(JudgeItem(SOUND, "x"))
    assert (result.score, result.error, result.logprobs_fallback) == (1.0, None, True)
    text = metrics.render()[0].decode()
    assert "seekworld_judge_logprobs_fallback_total 1.0" in text
    assert 'seekworld_judge_requests_total{outcome="ok"} 1.0' in text


def test_a_malformed_reply_is_still_malformed_in_score_mode(judge_standin):
    result = judge_for(judge_standin, "chatty", mode="score").score(JudgeItem(SOUND, "x"))
    assert (result.score, result.error, result.logprobs_fallback) == (0.0, "malformed", False)


def test_score_mode_without_choices_is_a_bad_response(judge_standin):
    result = judge_for(judge_standin, "nochoices", mode="score", retries=0).score(JudgeItem(SOUND, "x"))
    assert (result.score, result.error) == (0.0, "bad_response")


@pytest.mark.parametrize("structured", [False, True])
def test_binary_mode_asks_for_no_logprobs_and_ignores_them(judge_standin, structured):
    from seekworld.serve.metrics import Metrics

    metrics = Metrics()
    judge = Judge(
        judge_config(url=judge_standin.url, model="graded", structured=structured, timeout_s=1.0),
        on_result=metrics.observe_judge,
    )
    result = judge.score(JudgeItem(SOUND, "x"))
    assert (result.score, result.error, result.logprobs_fallback) == (1.0, None, False)
    sent = judge_standin.requests[-1]
    assert "logprobs" not in sent and "top_logprobs" not in sent
    assert sent["max_tokens"] == 8
    assert "seekworld_judge_logprobs_fallback_total 0.0" in metrics.render()[0].decode()


def test_binary_and_score_verdicts_are_cached_apart(judge_standin):
    binary = judge_for(judge_standin, "graded")
    score = judge_for(judge_standin, "graded", mode="score")
    item = JudgeItem(SOUND, "x")
    assert binary.cache_key(item) != score.cache_key(item)
