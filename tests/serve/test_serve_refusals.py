"""Refused /get_reward requests: a rate-limited WARNING line with the reason, and a count per
reason in /metrics (seekworld.serve.refusals). A real server's log: tests/serve/test_lmm_r1_clients.py."""

from __future__ import annotations

import logging

import pytest
from helpers.serve_app import make_app, make_client

from seekworld.io.log_limit import LogLimiter
from seekworld.serve.refusals import MESSAGE_CHARS, RefusalLog
from seekworld.service.wire import PromptLabels

LOGGER = "seekworld.serve.app"


def refusal_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and "refused /get_reward" in r.getMessage()]


@pytest.fixture
def client():
    return make_client(token="s3cret-token")


def test_each_reason_is_logged_once_per_interval_and_counted_every_time(client, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    auth = {"Authorization": "Bearer s3cret-token"}
    for _ in range(3):
        assert client.post("/get_reward", data=b"{not json", headers=auth).status_code == 400
    assert client.post("/get_reward", json={"query": []}, headers=auth).status_code == 400
    assert client.post("/get_reward?token=wrong-token", json={}).status_code == 401
    lines = [r.getMessage() for r in refusal_lines(caplog)]
    assert len(lines) == 3, lines  # invalid_json once, bad_request, unauthorised
    assert all(r.levelno == logging.WARNING for r in refusal_lines(caplog))
    assert "400 invalid_json from 127.0.0.1: invalid JSON: Expecting property name" in lines[0]
    assert "400 bad_request from 127.0.0.1: missing key(s): prompts, labels" in lines[1]
    assert "401 unauthorised from 127.0.0.1: missing or wrong token" in lines[2]
    assert not any("token" in line.split(": ", 1)[0] or "wrong-token" in line for line in lines)
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'seekworld_request_errors_total{reason="invalid_json"} 3.0' in metrics
    assert 'seekworld_request_errors_total{reason="unauthorised"} 1.0' in metrics


def test_a_long_reason_is_cut_and_holds_no_label(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    train = tmp_path / "train.jsonl"
    train.write_text('{"message": "m", "answer": "$china,sichuan$"}\n', encoding="utf-8")
    labels = PromptLabels.from_jsonl(str(train))
    app = make_app(protocol="lmm-r1", prompt_labels=labels)
    prompt = "an unknown prompt\nwith a second line " + "z" * 500
    answer = "<answer>SECRET-ANSWER</answer>"
    r = app.test_client().post("/get_reward", json={"query": [answer], "prompts": [prompt], "labels": [""]})
    assert r.status_code == 400
    (line,) = [r.getMessage() for r in refusal_lines(caplog)]
    assert "400 no_label" in line and "SECRET-ANSWER" not in line and "sichuan" not in line
    assert "\n" not in line
    message = line.split(" from 127.0.0.1: ", 1)[1]
    assert message.endswith(" chars)") and len(message.split("... (")[0]) == MESSAGE_CHARS


def test_the_next_line_says_how_many_were_not_logged(caplog):
    now = [0.0]
    logger = logging.getLogger("test.refusals")
    refusals = RefusalLog(logger, LogLimiter(every_s=10, clock=lambda: now[0]))
    caplog.set_level(logging.WARNING, logger="test.refusals")
    assert refusals.note(400, "no_label", "labels[0] is empty", "10.0.0.2")
    assert not any(refusals.note(400, "no_label", "labels[0] is empty", "10.0.0.2") for _ in range(41))
    now[0] = 10.0
    assert refusals.note(400, "no_label", "labels[3] is empty\n2026-01-01 FAKE LINE", None)
    last = caplog.records[-1].getMessage()
    assert "from ?: labels[3] is empty\\n2026-01-01 FAKE LINE [41 more 'no_label'" in last
