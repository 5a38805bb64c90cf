"""lmm-r1 users: `seekworld serve --protocol lmm-r1 [--dataset TRAIN.jsonl]`: the label lookup and
the flat reply. Both lmm-r1 clients (old and current) against the server and the reward file:
tests/serve/test_lmm_r1_clients.py.

SeekWorld's lmm-r1 script passes no `--label_key`, so its labels arrive as empty strings and
`prompts` are the rows' `message` strings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers.lmm_r1_sample import ATTICA, MOSCOW, REASONING, SAMPLE, query
from helpers.serve_app import make_app, make_client
from helpers.serve_process import free_port

from seekworld.service.wire import LabelLookupError, PromptLabels, fill_labels, flat_reply

REPO = Path(__file__).resolve().parents[2]
# `rule` pays no length, so no padding is counted
REASONING_CHARS, PADDING = float(len(REASONING)), 0.0


RIGHT = query(MOSCOW["message"], "$Russia,Moscow$")
WRONG = query(ATTICA["message"], "$Russia,Moscow$")


# ---- the pure parts ---------------------------------------------------------------------------


def test_flat_reply_lifts_each_log_to_the_top_level():
    reply = {"rewards": [1.5], "scores": [1.0], "extra_logs": {"format": [1.0], "scores": [7.0]}}
    assert flat_reply(reply) == {"rewards": [1.5], "scores": [1.0], "format": [1.0], "log_scores": [7.0]}


def test_labels_are_looked_up_by_the_prompt_only_when_empty():
    index = PromptLabels.from_jsonl(str(SAMPLE))
    filled = index.fill([MOSCOW["message"], ATTICA["message"]], ["", "$kept$"])
    assert filled == [MOSCOW["answer"], "$kept$"]
    assert index.fill([MOSCOW["message"]], [None]) == [MOSCOW["answer"]]


def test_an_unknown_prompt_or_a_missing_dataset_is_an_error_naming_the_fix():
    index = PromptLabels.from_jsonl(str(SAMPLE))
    with pytest.raises(LabelLookupError, match=r"labels\[1\] is empty and prompts\[1\] is no 'message'"):
        index.fill([MOSCOW["message"], "not a training prompt"], ["", ""])
    with pytest.raises(LabelLookupError, match=r"--label_key answer.*--dataset"):
        fill_labels(["p"], [" "], None)


def test_a_dataset_giving_one_prompt_two_labels_is_refused(tmp_path):
    bad = tmp_path / "train.jsonl"
    rows = [{"message": "m", "answer": a} for a in ("$a,b$", "$a,b$", "$c,d$")]
    bad.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with pytest.raises(LabelLookupError, match=r"train.jsonl:3: this prompt already has the label"):
        PromptLabels.from_jsonl(str(bad))
    bad.write_text('{"message": "m"}\n', encoding="utf-8")
    with pytest.raises(LabelLookupError, match=r":1: needs a string 'message' and a non-empty 'answer'"):
        PromptLabels.from_jsonl(str(bad))


# ---- the app ----------------------------------------------------------------------------------


@pytest.fixture
def lmm_r1_app():
    labels = PromptLabels.from_jsonl(str(SAMPLE))
    return make_app(protocol="lmm-r1", prompt_labels=labels).test_client()


def test_lmm_r1_reply_is_flat_and_labels_come_from_the_dataset(lmm_r1_app):
    payload = {"query": [RIGHT, WRONG], "prompts": [MOSCOW["message"], ATTICA["message"]], "labels": ["", ""]}
    r = lmm_r1_app.post("/get_reward", json=payload)
    assert r.status_code == 200
    assert r.get_json() == {
        "rewards": [1.5, 0.5],
        "scores": [1.0, 0.0],
        "format": [1.0, 1.0],
        "accuracy": [1.0, 0.0],
        "answer_too_long": [0.0, 0.0],
        "label_error": [0.0, 0.0],
        # the window monitors, flat like every log: both answer Moscow, the labels differ
        "top_answer_share": [1.0, 1.0],
        "top_label_share": [0.5, 0.5],
        "reasoning_length": [REASONING_CHARS, REASONING_CHARS],
        "padding_share": [PADDING, PADDING],
        "hedge_rate": [0.0, 0.0],
        "format_failure_rate": [0.0, 0.0],
    }


def test_lmm_r1_unknown_prompt_is_a_400_saying_why(lmm_r1_app):
    r = lmm_r1_app.post("/get_reward", json={"query": [RIGHT], "prompts": ["elsewhere"], "labels": [""]})
    assert r.status_code == 400 and "is no 'message' of" in r.get_json()["error"]
    no_dataset = make_client(protocol="lmm-r1")
    r = no_dataset.post("/get_reward", json={"query": [RIGHT], "prompts": ["p"], "labels": [""]})
    assert r.status_code == 400 and "--dataset" in r.get_json()["error"]


def test_openrlhf_protocol_still_scores_an_empty_label_zero():
    r = make_client().post("/get_reward", json={"query": [RIGHT], "prompts": ["p"], "labels": [""]})
    assert r.status_code == 200 and r.get_json()["extra_logs"]["label_error"] == [1.0]


# ---- the server process -----------------------------------------------------------------------


def test_serve_refuses_a_bad_dataset_before_binding(tmp_path):
    bad = tmp_path / "train.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "seekworld", "serve", "--port", str(free_port()), "--dataset", str(bad)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "train.jsonl:1: line is not JSON" in done.stderr


def test_http_error_body_is_json(server):
    url = f"http://127.0.0.1:{server('--protocol', 'lmm-r1')}/get_reward"
    body = json.dumps({"query": [RIGHT], "prompts": ["p"], "labels": [""]}).encode()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}))
    assert info.value.code == 400 and "--dataset" in json.loads(info.value.read())["error"]
