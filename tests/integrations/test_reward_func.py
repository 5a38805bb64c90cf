"""The in-process reward file, loaded by upstream's own code from the printed path."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.serve_app import MONITOR_KEYS, one_right_answer

from seekworld.cli.reward_func_path import path as reward_func_path

agent = pytest.importorskip("openrlhf.utils.agent")

REPO = Path(__file__).resolve().parents[2]
PROMPT = (
    "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Where?<|im_end|>\n<|im_start|>assistant\n"
)
QUERY = PROMPT + "<think>The clue: red soil.</think><answer>$China,四川省$</answer><|im_end|>"
LABEL = "$china,sichuan/四川$"


@pytest.fixture
def executor(monkeypatch):
    """Upstream's executor with the reward file; env set first (it is read when the file loads)."""

    def make(**env: str):
        for name in [n for n in __import__("os").environ if n.startswith("SEEKWORLD_")]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return agent.SingleTurnAgentExecutor(remote_rm_url=reward_func_path())

    return make


def test_path_command_prints_the_file():
    out = subprocess.run(
        [sys.executable, "-m", "seekworld", "reward-func-path"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    printed = Path(out.stdout.strip())
    assert printed == Path(reward_func_path()) and printed.is_file() and printed.name == "reward_func.py"


def test_reward_file_does_not_import_flask():
    code = f"import runpy, sys; runpy.run_path({reward_func_path()!r}); print('flask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={})
    assert out.stdout.strip() == "False", out.stderr


def test_upstream_fetch_via_func(executor):
    ex = executor()
    assert ex.reward_func is not None
    (out,) = asyncio.run(ex._fetch_rewards_via_func([QUERY], [PROMPT], [LABEL]))
    assert out == {
        "rewards": [1.5],
        "scores": [1.0],
        "extra_logs": {
            "format": [1.0],
            "accuracy": [1.0],
            "answer_too_long": [0.0],
            "label_error": [0.0],
            **one_right_answer(19),  # "The clue: red soil."; `rule` pays no length
        },
    }


def test_configured_by_environment(executor, tmp_path):
    ex = executor(
        SEEKWORLD_REWARD="rule+length", SEEKWORLD_WEIGHTS="accuracy=2", SEEKWORLD_LOG_DIR=str(tmp_path)
    )
    (out,) = asyncio.run(ex._fetch_rewards_via_func([QUERY], [PROMPT], [LABEL]))
    assert set(out["extra_logs"]) == {
        "format",
        "accuracy",
        "length",
        "answer_too_long",
        "reasoning_chars",  # what the length component measured
        "counted_chars",
        "label_error",
        *MONITOR_KEYS,
    }
    assert out["rewards"][0] == pytest.approx(0.5 + 2.0 + out["extra_logs"]["length"][0])
    (audit,) = tmp_path.glob("audit-*.jsonl")
    assert json.loads(audit.read_text())["label"] == LABEL


def test_judge_from_environment(executor, judge_standin):
    ex = executor(
        SEEKWORLD_REWARD="rule+judge", SEEKWORLD_JUDGE_URL=judge_standin.url, SEEKWORLD_JUDGE_MODEL="sound"
    )
    (out,) = asyncio.run(ex._fetch_rewards_via_func([QUERY], [PROMPT], [LABEL]))
    assert out["rewards"] == [3.5] and out["extra_logs"]["judge_error"] == [0.0]


@pytest.mark.parametrize(
    "env,message",
    [
        ({"SEEKWORLD_REWARD": "rule+judge"}, "give --judge-url and --judge-model"),
        ({"SEEKWORLD_REWARD": "rules"}, "Did you mean: rule"),
        ({"SEEKWORLD_WEIGHTS": "acuracy=2"}, "Did you mean: accuracy"),
        ({"SEEKWORLD_JUDGE_TIMEOUT": "soon", "SEEKWORLD_REWARD": "rule+judge"}, "SEEKWORLD_JUDGE_TIMEOUT"),
    ],
)
def test_bad_settings_fail_the_load_with_a_message(executor, env, message):
    with pytest.raises((KeyError, ValueError), match=message):
        executor(**env)


def test_many_threads_at_once(executor):
    """Upstream calls the function once per sample from asyncio.to_thread, many at a time."""
    ex = executor(SEEKWORLD_REWARD="rule+distance")
    labels = [LABEL, {"country": "Japan", "region": "Osaka", "lat": 34.7, "lon": 135.5}, None] * 100

    async def run():
        return await asyncio.gather(*(ex._fetch_rewards_via_func([QUERY], [PROMPT], [lab]) for lab in labels))

    results = [r[0] for r in asyncio.run(run())]
    assert [r["rewards"][0] > 0 for r in results] == [True, True, False] * 100
    assert {tuple(r["extra_logs"]) for r in results} == {
        ("format", "accuracy", "distance", "answer_too_long", "distance_km", "label_error", *MONITOR_KEYS)
    }
