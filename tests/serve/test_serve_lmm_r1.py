"""lmm-r1 users: `seekworld serve --protocol lmm-r1 [--dataset TRAIN.jsonl]` and the lmm-r1 reward file.

The client below is written from lmm-r1's documented behaviour (not its code): it posts
`{"query", "prompts", "labels"}` once per micro-batch, turns every top-level value of the JSON reply
into `torch.tensor(value)`, and concatenates the `rewards`. SeekWorld's lmm-r1 script passes no
`--label_key`, so its labels arrive as empty strings and `prompts` are the rows' `message` strings.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers.serve_app import make_app, make_client
from helpers.serve_process import free_port

from seekworld.service.wire import LabelLookupError, PromptLabels, fill_labels, flat_reply

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "seekworld_data" / "sample" / "lmm_r1.jsonl"
ROWS = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
MOSCOW = next(r for r in ROWS if r["id"] == "ru-moscow")
ATTICA = next(r for r in ROWS if r["id"] == "gr-attica")


def query(message: str, answer: str) -> str:
    """What lmm-r1 decodes: the chat-templated prompt, then the response and its end token."""
    user = json.loads(message)[0]["content"][1]["text"]
    return (
        f"<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>{user}<|im_end|>\n"
        "<|im_start|>assistant\n<think>Signs in Cyrillic, onion domes.</think>"
        f"<answer>{answer}</answer><|im_end|>"
    )


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
    }


def test_lmm_r1_unknown_prompt_is_a_400_saying_why(lmm_r1_app):
    r = lmm_r1_app.post("/get_reward", json={"query": [RIGHT], "prompts": ["elsewhere"], "labels": [""]})
    assert r.status_code == 400 and "is no 'message' of" in r.get_json()["error"]
    no_dataset = make_client(protocol="lmm-r1")
    r = no_dataset.post("/get_reward", json={"query": [RIGHT], "prompts": ["p"], "labels": [""]})
    assert r.status_code == 400 and "--dataset" in r.get_json()["error"]


def test_openrlhf_protocol_still_scores_an_empty_label_zero():
    r = make_client().post(
        "/get_reward", json={"query": [RIGHT], "prompts": ["p"], "labels": [""]}
    )
    assert r.status_code == 200 and r.get_json()["extra_logs"]["label_error"] == [1.0]


# ---- a real server and an lmm-r1-like client --------------------------------------------------

def lmm_r1_fetch(url: str, queries: list[str], prompts: list[str], labels: list, micro_batch: int = 2):
    """lmm-r1's remote reward call, per its documented behaviour: one POST per micro-batch, every
    top-level reply value through torch.tensor, the rewards concatenated."""
    torch = pytest.importorskip("torch")
    per_key: dict[str, list] = {}
    for start in range(0, len(queries), micro_batch):
        body = {
            "query": queries[start : start + micro_batch],
            "prompts": prompts[start : start + micro_batch],
            "labels": labels[start : start + micro_batch],
        }
        req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            reply = json.loads(r.read())
        for key, value in reply.items():
            per_key.setdefault(key, []).append(torch.tensor(value))
    return {key: torch.cat(parts) for key, parts in per_key.items()}


def test_lmm_r1_client_against_seekworld_serve(server):
    torch = pytest.importorskip("torch")
    url = f"http://127.0.0.1:{server('--protocol', 'lmm-r1', '--dataset', str(SAMPLE))}/get_reward"
    prompts = [MOSCOW["message"], ATTICA["message"], MOSCOW["message"]]
    out = lmm_r1_fetch(url, [RIGHT, WRONG, WRONG], prompts, ["", "", ""])
    assert set(out) == {"rewards", "scores", "format", "accuracy", "answer_too_long", "label_error"}
    assert out["rewards"].tolist() == [1.5, 0.5, 1.5]  # the third: Moscow's prompt, Moscow's answer
    assert out["accuracy"].dtype in (torch.float32, torch.float64)


def test_the_openrlhf_reply_is_what_broke_the_lmm_r1_client(server):
    url = f"http://127.0.0.1:{server('--reward', 'rule')}/get_reward"
    with pytest.raises((TypeError, ValueError, RuntimeError), match=r"dtype|dict"):
        lmm_r1_fetch(url, [RIGHT], [MOSCOW["message"]], [MOSCOW["answer"]])


def test_serve_refuses_a_bad_dataset_before_binding(tmp_path):
    bad = tmp_path / "train.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "seekworld", "serve", "--port", str(free_port()), "--dataset", str(bad)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "train.jsonl:1: line is not JSON" in done.stderr


# ---- the lmm-r1 reward file -------------------------------------------------------------------


def load_reward_file(monkeypatch, **env: str):
    """Load the file by path, as lmm-r1 does (spec_from_file_location + exec_module)."""
    pytest.importorskip("torch")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = REPO / "seekworld" / "integrations" / "lmm_r1" / "reward_func.py"
    spec = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reward_file_returns_tensors_lmm_r1_can_pop_and_move(monkeypatch):
    torch = pytest.importorskip("torch")
    module = load_reward_file(monkeypatch, SEEKWORLD_DATASET=str(SAMPLE))
    result = module.reward_func([RIGHT, WRONG], [MOSCOW["message"], ATTICA["message"]], ["", ""])
    rewards = result.pop("rewards").to("cpu")
    assert rewards.tolist() == [1.5, 0.5]
    assert all(isinstance(v, torch.Tensor) and v.shape == (2,) for v in result.values())
    assert result["accuracy"].tolist() == [1.0, 0.0]


def test_reward_file_without_dataset_refuses_empty_labels(monkeypatch):
    monkeypatch.delenv("SEEKWORLD_DATASET", raising=False)
    module = load_reward_file(monkeypatch)
    with pytest.raises(LabelLookupError, match="--label_key answer"):
        module.reward_func([RIGHT], [MOSCOW["message"]], [""])
    assert module.reward_func([RIGHT], [MOSCOW["message"]], [MOSCOW["answer"]])["rewards"].tolist() == [1.5]


def test_reward_file_with_a_bad_dataset_fails_at_load(monkeypatch, tmp_path):
    with pytest.raises(LabelLookupError, match="cannot read"):
        load_reward_file(monkeypatch, SEEKWORLD_DATASET=str(tmp_path / "missing.jsonl"))


def test_http_error_body_is_json(server):
    url = f"http://127.0.0.1:{server('--protocol', 'lmm-r1')}/get_reward"
    body = json.dumps({"query": [RIGHT], "prompts": ["p"], "labels": [""]}).encode()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}))
    assert info.value.code == 400 and "--dataset" in json.loads(info.value.read())["error"]
