"""A real `seekworld serve` (gunicorn, 2 workers) on a free loopback port, driven by upstream
OpenRLHF's own client (`SingleTurnAgentExecutor._fetch_rewards_via_http` and `execute`), and the
answers pushed through upstream's consumer (`SamplesGenerator._process_response_into_experience`)."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers.serve_app import MONITOR_KEYS, one_right_answer

pytest.importorskip("gunicorn")
agent = pytest.importorskip("openrlhf.utils.agent")
torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
PROMPT = (
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n"
    "<|vision_start|><|image_pad|><|vision_end|>Where was this taken?<|im_end|>\n<|im_start|>assistant\n"
)
RESPONSE = "<think>The clue: red soil and simplified Chinese signs.</think><answer>$China,四川省$</answer>"
# upstream's query: the prompt with its image pads expanded, the response, the end-of-turn token
QUERY = PROMPT.replace("<|image_pad|>", "<|image_pad|>" * 50) + RESPONSE + "<|im_end|>"
LABEL = "$china,sichuan/四川$"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m seekworld serve` in its own process group; stopped by its pid."""

    def __init__(self, port: int, args: list[str], log: Path, env: dict | None = None) -> None:
        self.port, self.args, self.log, self.env = port, args, log, env
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> Server:
        cmd = [sys.executable, "-m", "seekworld", "serve", "--port", str(self.port), "--workers", "2",
               "--threads", "8", *self.args]  # fmt: skip
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env={**os.environ, **(self.env or {})},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """Crash: SIGKILL the master and its workers (its own process group)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def serve(tmp_path):
    servers: list[Server] = []

    def start(*args: str, port: int | None = None, env: dict | None = None) -> Server:
        server = Server(port or free_port(), list(args), tmp_path / "server.log", env)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def fetch(url: str, queries: list, prompts: list, labels: list) -> list[dict]:
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=url)
    return asyncio.run(executor._fetch_rewards_via_http(queries, prompts, labels))


def test_upstream_http_client(serve):
    server = serve("--reward", "rule")
    (out,) = fetch(server.url + "/get_reward", [QUERY], [PROMPT], [LABEL])
    assert out == {
        "rewards": [1.5],
        "scores": [1.0],
        "extra_logs": {
            "format": [1.0],
            "accuracy": [1.0],
            "answer_too_long": [0.0],
            "label_error": [0.0],
            **one_right_answer(48),  # `rule` pays no length: no padding to count
        },
    }


def test_many_single_sample_requests_in_flight(serve, tmp_path):
    server = serve("--reward", "rule+length", "--log-dir", str(tmp_path / "audit"))
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=server.url + "/get_reward")
    labels = [{"country": "China", "region": "Sichuan", "id": i} for i in range(200)]

    async def run() -> list:
        return await asyncio.gather(
            *(executor._fetch_rewards_via_http([QUERY], [PROMPT], [lab]) for lab in labels)
        )

    results = asyncio.run(run())
    assert all(r[0]["extra_logs"]["accuracy"] == [1.0] for r in results)
    keys = {tuple(r[0]["extra_logs"]) for r in results}
    length_logs = ("reasoning_chars", "counted_chars")  # what the length component measured
    assert keys == {
        ("format", "accuracy", "length", "answer_too_long", *length_logs, "label_error", *MONITOR_KEYS)
    }
    # /metrics sums both workers (prometheus multiprocess mode)
    text = urllib.request.urlopen(server.url + "/metrics").read().decode()
    assert 'seekworld_requests_total{status="200"} 200.0' in text
    # the audit log: one line per sample, one file per worker
    lines = [
        json.loads(x) for f in (tmp_path / "audit").glob("audit-*.jsonl") for x in f.read_text().splitlines()
    ]
    assert sorted(x["label"]["id"] for x in lines) == list(range(200))


class CharTokenizer:
    """Characters as token ids: enough for upstream's text-only path of `execute`."""

    def __call__(self, text, add_special_tokens=False, return_tensors="pt"):
        return {"input_ids": torch.tensor([[ord(c) for c in text]])}

    def decode(self, ids, skip_special_tokens=False):
        return "".join(map(chr, ids))


class CannedEngine:
    def __init__(self, text: str) -> None:
        self.text = text

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        ids = [ord(c) for c in self.text]
        return SimpleNamespace(
            outputs=[SimpleNamespace(token_ids=ids, text=self.text, finish_reason="stop", logprobs=None)]
        )


@pytest.fixture
def samples_generator(monkeypatch):
    """Upstream's consumer module, imported with stand-ins for ray and vllm (GPU-only packages)."""

    def module(name: str, **attrs) -> types.ModuleType:
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        return m

    def remote(*a, **k):
        return a[0] if a and callable(a[0]) and not k else (lambda f: f)

    stubs = {
        "ray": module("ray", remote=remote, get=lambda x: x),
        "ray.util": module("ray.util"),
        "ray.util.placement_group": module("ray.util.placement_group", placement_group=lambda *a, **k: None),
        "ray.util.scheduling_strategies": module(
            "ray.util.scheduling_strategies", PlacementGroupSchedulingStrategy=object
        ),
        "vllm": module("vllm", SamplingParams=object, __version__="0.0"),
        "vllm.inputs": module("vllm.inputs", TokensPrompt=dict),
        "vllm.utils": module("vllm.utils", random_uuid=lambda: "x"),
    }  # fmt: skip
    for name, stub in stubs.items():
        if (
            name in sys.modules
            and name.split(".")[0] in ("ray", "vllm")
            and not isinstance(sys.modules[name], types.ModuleType)
        ):
            pytest.skip("real ray/vllm present")  # pragma: no cover
        monkeypatch.setitem(sys.modules, name, stub)
    before = set(sys.modules)
    from openrlhf.trainer.ppo_utils import samples_generator as sg

    yield sg
    for name in set(sys.modules) - before:  # drop modules bound to the stand-ins
        if name.startswith("openrlhf.trainer"):
            monkeypatch.delitem(sys.modules, name, raising=False)


def run_execute(url: str, label) -> dict:
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=url)
    params = SimpleNamespace(max_tokens=2048, logprobs=None)
    coro = executor.execute(
        PROMPT, label, params, 8192, CharTokenizer(), CannedEngine(RESPONSE + "<|im_end|>")
    )
    return asyncio.run(coro)


def consume(samples_generator, outputs: list[dict]) -> list:
    """What upstream does with the answers: Experience per sample, then batch-level reads."""
    experiences = [
        samples_generator.SamplesGenerator._process_response_into_experience(None, o, max_len=8192)
        for o in outputs
    ]
    torch.cat([e.rewards for e in experiences], dim=0)  # experience_maker concatenates rewards
    [e.scores[0].item() for e in experiences]  # dynamic filtering reads scores
    for key in experiences[0].info:
        torch.cat([e.info[key].float() for e in experiences])  # logged as train/<key>
    return experiences


def test_upstream_execute_and_consumer(serve, samples_generator):
    server = serve("--reward", "rule+distance")
    labels = [LABEL, {"country": "China", "region": "Sichuan", "lat": 30.66, "lon": 104.06}, "$$"]
    outputs = [run_execute(server.url + "/get_reward", lab) for lab in labels]
    assert outputs[0]["reward"] == pytest.approx([1.5], abs=1e-3)
    assert outputs[2]["extra_logs"]["label_error"] == [1.0]
    experiences = consume(samples_generator, outputs)
    info = experiences[0].info
    assert {"reward", "score", "format", "accuracy", "distance", "distance_km", "label_error"} <= set(info)


def test_a_collapse_reaches_upstreams_logs_and_the_server_log(serve, samples_generator):
    """Every prompt answered with one place while the labels alternate between two: each reply's
    extra_logs carry the window monitors, upstream's consumer turns them into the per-sample info it
    logs as train/<key>, and the server's log gets a warning line. One worker: each worker keeps its
    own window, and which worker answers which request is the kernel's choice."""
    flags = ("--workers", "1", "--monitor-window", "32", "--monitor-places", "CN-SC,CN-GD")
    server = serve("--reward", "rule", *flags)
    labels = ["$china,sichuan$", "$china,guangdong$"] * 50
    outputs = [run_execute(server.url + "/get_reward", lab) for lab in labels]  # all answer Sichuan
    experiences = consume(samples_generator, outputs)
    info = {k: torch.cat([e.info[k].float() for e in experiences]).flatten() for k in experiences[0].info}
    assert set(MONITOR_KEYS) | {"accuracy/CN-SC", "accuracy/CN-GD"} <= set(info)
    assert (info["top_answer_share"] == 1.0).all()
    # the labels alternate: the last min(i + 1, 32) samples hold ceil(n / 2) of the commoner one
    windows = [min(i + 1, 32) for i in range(len(labels))]
    assert info["top_label_share"].tolist() == pytest.approx([(n + 1) // 2 / n for n in windows], abs=1e-6)
    assert (info["accuracy/CN-GD"] == 0.0).all() and info["accuracy/CN-SC"][-1].item() == 1.0
    text = server.log.read_text()
    assert "collapse warning: 100% of completions give one answer (CN-SC)" in text, text[-2000:]


def test_token_in_the_url_for_upstream(serve):
    server = serve(env={"SEEKWORLD_TOKEN": "s3cret"})  # from the environment, not a flag
    (out,) = fetch(server.url + "/get_reward?token=s3cret", [QUERY], [PROMPT], [LABEL])
    assert out["rewards"] == [1.5]
    req = urllib.request.Request(server.url + "/get_reward", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 401


def test_chunked_body_over_the_limit_is_413(serve):
    server = serve("--max-body-mb", "0.001")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/get_reward", body=iter([b"x" * 4096]), encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 413 and "limit" in json.loads(response.read())["error"]


def test_judge_variant_through_the_server(serve, judge_standin):
    server = serve("--reward", "rule+judge", "--judge-url", judge_standin.url, "--judge-model", "sound")
    (out,) = fetch(server.url + "/get_reward", [QUERY], [PROMPT], [LABEL])
    assert out["rewards"] == [3.5]
    assert out["extra_logs"]["judge"] == [1.0] and out["extra_logs"]["judge_error"] == [0.0]
    down = ["--judge-url", "http://127.0.0.1:9/v1", "--judge-model", "m", "--judge-timeout", "0.5"]
    server_down = serve("--reward", "rule+judge", *down, "--judge-retries", "0")
    (out,) = fetch(server_down.url + "/get_reward", [QUERY], [PROMPT], [LABEL])
    assert out["rewards"] == [2.5] and out["extra_logs"]["judge_error"] == [1.0]  # answered anyway


def test_bad_config_exits_with_a_message():
    result = subprocess.run(
        [sys.executable, "-m", "seekworld", "serve", "--reward", "rule+judg"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "Did you mean: rule+judge" in result.stderr


def test_restart_mid_load_loses_no_request(serve, tmp_path):
    """Kill -9 the whole server while requests are in flight, start it again on the same port:
    upstream's retry (5 tries, 1 s apart) gets every sample scored."""
    server = serve("--reward", "rule", "--log-dir", str(tmp_path / "audit"))
    executor = agent.SingleTurnAgentExecutor(remote_rm_url=server.url + "/get_reward")
    labels = [{"country": "China", "region": "Sichuan", "id": i} for i in range(400)]

    async def one(lab, i):
        await asyncio.sleep(i * 0.004)  # a steady stream over ~1.6 s, like a rollout
        return await executor._fetch_rewards_via_http([QUERY], [PROMPT], [lab])

    async def run():
        tasks = [asyncio.create_task(one(lab, i)) for i, lab in enumerate(labels)]
        await asyncio.sleep(0.5)
        answered_before = sum(t.done() for t in tasks)
        server.kill()
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.start)
        return answered_before, await asyncio.gather(*tasks)

    answered_before, results = asyncio.run(run())
    assert 0 < answered_before < len(labels)  # the kill really happened mid-load
    assert all(r[0]["rewards"] == [1.5] for r in results)
    # everything answered is in the audit log (lines for requests killed mid-flight may repeat)
    logged = {
        json.loads(x)["label"]["id"]
        for f in (tmp_path / "audit").glob("*.jsonl")
        for x in f.read_text().splitlines()
    }
    assert logged == set(range(len(labels)))
