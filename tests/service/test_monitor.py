"""The reward service's window monitors: the same keys in every reply, the window's figures, a
warning line in the service's log when one crosses its threshold, and never a failed reply."""

from __future__ import annotations

import logging

import pytest

from seekworld.rewards.monitors import MIN_ALARM_SAMPLES
from seekworld.service.service import RewardService
from seekworld.service.settings import RewardSettings

PROMPT = "<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n"
SICHUAN, GUANGDONG = "$china,sichuan$", "$china,guangdong$"


def query(place: str, think: str = "Red soil.") -> str:
    return PROMPT + f"<think>{think}</think><answer>{place}</answer><|im_end|>"


def service(**settings) -> RewardService:
    return RewardService(RewardSettings(**settings).service_config())


def test_every_reply_carries_the_same_window_keys():
    svc = service(monitor_places="CN-SC,CN-GD", monitor_window=8)
    keys = None
    for label in [SICHUAN, GUANGDONG, "$$", SICHUAN]:
        logs = svc.reply([query("$China,Sichuan$")], [PROMPT], [label])["extra_logs"]
        keys = keys or tuple(logs)
        assert tuple(logs) == keys
    assert keys[-8:] == (
        "top_answer_share",
        "top_label_share",
        "reasoning_length",
        "padding_share",
        "hedge_rate",
        "format_failure_rate",
        "accuracy/CN-SC",
        "accuracy/CN-GD",
    )


def test_the_window_forgets_old_samples():
    svc = service(monitor_window=4)
    for _ in range(4):
        svc.reply([query("$China,Sichuan$")], [PROMPT], [SICHUAN])
    logs = svc.reply([query("$China,Guangdong$")] * 2, [PROMPT] * 2, [GUANGDONG] * 2)["extra_logs"]
    # the last 4 samples: two Sichuan answers to Sichuan labels, then two Guangdong to Guangdong
    assert logs["top_answer_share"] == [0.5, 0.5] and logs["top_label_share"] == [0.5, 0.5]


def test_a_place_keeps_its_accuracy_while_the_others_fill_the_window():
    svc = service(monitor_window=4, monitor_places="CN-SC,CN-GD")
    svc.reply([query("$China,Guangdong$")], [PROMPT], [GUANGDONG])  # right
    for _ in range(6):
        logs = svc.reply([query("$China,Guangdong$")], [PROMPT], [SICHUAN])["extra_logs"]  # wrong
    assert logs["accuracy/CN-GD"] == [1.0] and logs["accuracy/CN-SC"] == [0.0]


def test_judge_variants_carry_the_disagreement(judge_standin):
    svc = service(reward="rule+judge", judge_url=judge_standin.url, judge_model="sound")
    # the stand-in passes reasoning that mentions a clue: right answer + no clue = disagreement
    queries = [query("$China,Sichuan$", "No idea."), query("$China,Sichuan$", "A clue.")]
    reply = svc.reply(queries, [PROMPT] * 2, [SICHUAN] * 2)
    assert reply["extra_logs"]["judge_rule_disagreement"] == [0.5, 0.5]
    svc.close()


def test_a_collapse_warns_once_in_the_log_after_enough_samples(caplog):
    svc = service()
    caplog.set_level(logging.WARNING, logger="seekworld.service.monitor")
    for i in range(MIN_ALARM_SAMPLES + 20):
        svc.reply([query("$China,Sichuan$")], [PROMPT], [SICHUAN if i % 2 else GUANGDONG])
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        f"seekworld monitors: after {MIN_ALARM_SAMPLES} samples (last {MIN_ALARM_SAMPLES} samples): "
        "collapse warning: 100% of completions give one answer (CN-SC) while the most common label is 50% "
        "of them (top_answer_share 1.00, top_label_share 0.50)"
    ]


def test_a_failing_monitor_costs_no_reward(monkeypatch, caplog):
    svc = service()
    monkeypatch.setattr(svc.monitor, "update", lambda *a: 1 / 0)
    reply = svc.reply([query("$China,Sichuan$")], [PROMPT], [SICHUAN])
    assert reply["rewards"] == [1.5] and reply["extra_logs"]["top_answer_share"] == [0.0]
    assert "the monitors failed" in caplog.text


def test_bad_thresholds_are_refused_naming_the_setting():
    with pytest.raises(ValueError, match="--monitor-collapse-share"):
        RewardSettings(monitor_collapse_share=1.5)
    with pytest.raises(ValueError, match="SEEKWORLD_MONITOR_WINDOW"):
        RewardSettings.from_env({"SEEKWORLD_MONITOR_WINDOW": "0"})
