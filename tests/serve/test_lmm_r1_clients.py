"""Both lmm-r1 behaviours (tests/helpers/lmm_r1_clients.py: the 0.6.2 copy SeekWorld trained with,
and lmm-r1 main) against a real `seekworld serve` and against our lmm-r1 reward file, loaded by path.

The "trainer" is a stand-in written from lmm-r1's code (Ray and GPUs are not here); the server,
the reward file and torch are real.
"""

from __future__ import annotations

import importlib.util
import sys
import urllib.request
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from helpers import lmm_r1_clients as lmm_r1  # noqa: E402
from helpers.lmm_r1_sample import ATTICA, MOSCOW, SAMPLE, query  # noqa: E402
from helpers.serve_app import MONITOR_KEYS  # noqa: E402

from seekworld.integrations.lmm_r1.reply import (  # noqa: E402
    ReplyShapeError,
    detect_shape,
    installed_experience_maker,
    resolve_shape,
)
from seekworld.service.wire import LabelLookupError  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
LOGS = {"scores", "format", "accuracy", "answer_too_long", "label_error", *MONITOR_KEYS}


# Five samples, micro-batches of 2: the last micro-batch is short, as at the end of a rollout.
QUERIES = [query(MOSCOW["message"], "$Russia,Moscow$"), query(ATTICA["message"], "$Russia,Moscow$")] * 2
QUERIES.append(query(ATTICA["message"], "$Greece,Attica$"))
PROMPTS = [MOSCOW["message"], ATTICA["message"]] * 2 + [ATTICA["message"]]
EMPTY = [""] * 5  # SeekWorld's lmm-r1 script passes no --label_key
EXPECTED = [1.5, 0.5, 1.5, 0.5, 1.5]


# ---- HTTP: seekworld serve -------------------------------------------------------------------


def test_old_lmm_r1_gets_rewards_and_every_log_from_the_flat_reply(server):
    url = f"http://127.0.0.1:{server('--protocol', 'lmm-r1', '--dataset', str(SAMPLE))}/get_reward"
    out = lmm_r1.old_http(url, QUERIES, PROMPTS, EMPTY, micro_batch=2)
    assert out.rewards.tolist() == EXPECTED
    assert set(out.logs) == LOGS and out.logs["accuracy"].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert out.client_log == []


def test_old_lmm_r1_fails_on_the_nested_openrlhf_reply(server):
    url = f"http://127.0.0.1:{server('--reward', 'rule')}/get_reward"
    labels = [MOSCOW["answer"], ATTICA["answer"]]
    with pytest.raises((TypeError, ValueError, RuntimeError), match=r"dtype|dict"):
        lmm_r1.old_http(url, QUERIES[:2], PROMPTS[:2], labels, micro_batch=2)


@pytest.mark.parametrize("protocol", ["lmm-r1", "openrlhf"])
def test_current_lmm_r1_reads_rewards_from_either_reply_over_two_servers(server, protocol):
    flags = ("--protocol", protocol, "--dataset", str(SAMPLE))
    urls = [f"http://127.0.0.1:{server(*flags)}/get_reward" for _ in range(2)]
    out = lmm_r1.current_http(urls, QUERIES, PROMPTS, EMPTY, micro_batch=2)
    assert out.rewards.tolist() == EXPECTED and out.logs == {}


@pytest.mark.parametrize("client", ["old", "current"])
def test_a_refusal_reaches_the_server_log_and_metrics_not_the_trainers_log(server, tmp_path, client):
    """A prompt missing from --dataset: lmm-r1 logs five bare status lines and gives up; the
    reason is in the server's log (once: rate-limited) and counted in /metrics."""
    port = server("--protocol", "lmm-r1", "--dataset", str(SAMPLE))
    url = f"http://127.0.0.1:{port}/get_reward"
    prompts = ["a prompt of another training file", *PROMPTS[1:]]
    with pytest.raises(lmm_r1.RequestFailed, match="Request error for 5 times") as info:
        if client == "old":
            lmm_r1.old_http(url, QUERIES, prompts, EMPTY, micro_batch=2)
        else:
            lmm_r1.current_http([url], QUERIES, prompts, EMPTY, micro_batch=2)
    trainer_log = info.value.client_log
    assert len(trainer_log) == 5
    assert all("400 Client Error: BAD REQUEST for url" in line for line in trainer_log)
    assert not any("no 'message'" in line for line in trainer_log)  # the reason never gets there
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    assert 'seekworld_request_errors_total{reason="no_label"} 5.0' in metrics
    log = (tmp_path / f"serve-{port}.log").read_text(encoding="utf-8")
    lines = [line for line in log.splitlines() if "refused /get_reward" in line]
    assert len(lines) == 1, log[-2000:]
    assert "400 no_label from 127.0.0.1: labels[0] is empty and prompts[0] is no 'message' of" in lines[0]


# ---- the reward file, loaded by path ---------------------------------------------------------


def load_reward_file(monkeypatch, **env: str):
    """Load the file by path, as lmm-r1 does (spec_from_file_location + exec_module)."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = REPO / "seekworld" / "integrations" / "lmm_r1" / "reward_func.py"
    spec = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shape", ["dict", "tensor"])
def test_old_lmm_r1_takes_either_shape_and_logs_the_dicts_keys(monkeypatch, shape):
    module = load_reward_file(monkeypatch, SEEKWORLD_DATASET=str(SAMPLE), SEEKWORLD_LMM_R1_REPLY=shape)
    out = lmm_r1.old_reward_file(module.reward_func, QUERIES, PROMPTS, EMPTY, micro_batch=2)
    assert out.rewards.tolist() == EXPECTED and out.rewards.dtype == torch.float32
    assert set(out.logs) == (LOGS if shape == "dict" else set())


def test_current_lmm_r1_needs_a_tensor(monkeypatch):
    module = load_reward_file(monkeypatch, SEEKWORLD_DATASET=str(SAMPLE), SEEKWORLD_LMM_R1_REPLY="tensor")
    out = lmm_r1.current_reward_file(module.reward_func, QUERIES, PROMPTS, EMPTY, micro_batch=2)
    assert out.rewards.tolist() == EXPECTED
    as_dict = load_reward_file(monkeypatch, SEEKWORLD_LMM_R1_REPLY="dict")
    with pytest.raises(TypeError, match=r"expected Tensor as element 0 .* but got dict"):
        lmm_r1.current_reward_file(as_dict.reward_func, QUERIES, PROMPTS, EMPTY, micro_batch=2)


def test_reward_file_without_dataset_refuses_empty_labels(monkeypatch):
    monkeypatch.delenv("SEEKWORLD_DATASET", raising=False)
    module = load_reward_file(monkeypatch, SEEKWORLD_LMM_R1_REPLY="tensor")
    with pytest.raises(LabelLookupError, match="--label_key answer"):
        module.reward_func(QUERIES[:1], PROMPTS[:1], [""])
    assert module.reward_func(QUERIES[:1], PROMPTS[:1], [MOSCOW["answer"]]).tolist() == [1.5]


def test_reward_file_with_a_bad_setting_fails_at_load(monkeypatch, tmp_path):
    with pytest.raises(LabelLookupError, match="cannot read"):
        load_reward_file(monkeypatch, SEEKWORLD_DATASET=str(tmp_path / "missing.jsonl"))
    monkeypatch.delenv("SEEKWORLD_DATASET")
    with pytest.raises(ReplyShapeError, match=r"_REPLY='list': use one of auto, dict, tensor"):
        load_reward_file(monkeypatch, SEEKWORLD_LMM_R1_REPLY="list")


# ---- auto: which lmm-r1 is installed ---------------------------------------------------------


def fake_lmm_r1(root: Path, experience_maker: str) -> None:
    """A stand-in `openrlhf` package (lmm-r1 installs under that name): only the file auto reads."""
    pkg = root / "openrlhf"
    (pkg / "trainer" / "ppo_utils").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('auto must read, not import')\n", encoding="utf-8")
    (pkg / "trainer" / "ppo_utils" / "experience_maker.py").write_text(experience_maker, encoding="utf-8")


# One line each, in our words, of what the two experience makers do with a reward file's result.
OLD_LINE = "total = [r.pop('rewards').to(device) if isinstance(r, dict) else r.to(device) for r in results]\n"
CURRENT_LINE = "rewards_list = torch.cat(rewards_list, dim=0).chunk(len(samples_list))\n"


@pytest.mark.parametrize(
    ("source", "shape"), [(OLD_LINE, "dict"), (CURRENT_LINE, "tensor"), (None, "tensor"), ("", "tensor")]
)
def test_detect_shape(source, shape):
    assert detect_shape(source) == shape


@pytest.mark.parametrize(("line", "shape"), [(OLD_LINE, "dict"), (CURRENT_LINE, "tensor")])
def test_auto_reads_the_installed_lmm_r1_without_importing_it(monkeypatch, tmp_path, line, shape):
    fake_lmm_r1(tmp_path, line)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "openrlhf" or m.startswith("openrlhf.")]:
        monkeypatch.delitem(sys.modules, name)
    assert installed_experience_maker() == line
    assert resolve_shape(None)[0] == shape and resolve_shape("auto")[0] == shape
    module = load_reward_file(monkeypatch, SEEKWORLD_DATASET=str(SAMPLE))
    assert module.SHAPE == shape
    assert "openrlhf" not in sys.modules


def test_auto_on_upstream_openrlhf_is_a_tensor():
    # Upstream OpenRLHF (installed for the test suite) takes no dict from a reward file either.
    if importlib.util.find_spec("openrlhf") is None:
        pytest.skip("openrlhf is not installed")
    shape, why = resolve_shape("auto")
    assert shape == "tensor" and "concatenates tensors" in why
