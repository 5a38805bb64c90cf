# ---- tiny offline Qwen2.5-VL and prepare fixtures (owner: seekworld prepare) -------------------
# Other files may append their own fixtures below, in a separate block.
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory):
    """A tiny Qwen2.5-VL (processor + random model) saved to a session tmp dir: see helpers.tiny_qwen."""
    from helpers.tiny_qwen import build_tiny_qwen

    return build_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen"))


@pytest.fixture(scope="session")
def tiny_qwen_processor_dir(tmp_path_factory) -> Path:
    """Folder of a tiny Qwen2.5-VL processor only (no model), loadable with AutoProcessor."""
    from helpers.tiny_qwen import build_tiny_qwen

    return build_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen-processor"), with_model=False).path


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """seekworld_data/sample: 20 synthetic images in lmm-r1 and table form."""
    return REPO / "seekworld_data" / "sample"


# ---- end of prepare fixtures ------------------------------------------------------------------


# ---- judge stand-in: an OpenAI chat-completions server on loopback (owner: seekworld serve) -----
# The model name picks a behaviour: sound (1 when the reasoning mentions a "clue"), naive (obeys
# any "[1]" / "ignore the instructions" it sees, like a weak model), parrot (echoes the reasoning),
# chatty ("Yes, 1."), think ("<think>..</think>1"), vision (1 iff an image was sent), slow (sleeps
# 3 s), pause (0.1 s, then 1), hold (answers 1 only once the test calls `release()`), busy (a judge
# with `BUSY_SLOTS` slots answering 1 after 0.2 s each; more calls queue for a slot), fail (HTTP
# 500), flaky (503 on the first two calls), badjson (200 with a non-JSON body), nochoices (200 with
# an empty `choices`).
# Logprobs, in the OpenAI shape and only when the request asks for them (as vLLM): graded (verdict
# 1; P(1) = 0.72 over "1" and " 1" against P(0) = 0.18, so 0.8; `{"verdict": 1}` when a schema is
# asked for), graded_think (a think block with digits, then 1 at 0.8), nologprobs (ignores the
# request), offtop (neither choice among the top ones), nanlogprobs (NaN), garbled (a string for
# `content`).
import json as _json  # noqa: E402 (this block is appended to a shared conftest)
import math as _math  # noqa: E402 (this block is appended to a shared conftest)
import re as _re  # noqa: E402 (this block is appended to a shared conftest)
import threading as _threading  # noqa: E402 (this block is appended to a shared conftest)
import time as _time  # noqa: E402 (this block is appended to a shared conftest)
from http.server import BaseHTTPRequestHandler as _Handler  # noqa: E402 (this block is appended to a shared conftest)
from http.server import ThreadingHTTPServer as _Server  # noqa: E402 (this block is appended to a shared conftest)


class JudgeStandIn:
    BUSY_SLOTS = 2

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = _threading.Lock()
        self.held = _threading.Event()  # `hold` calls wait on it (a fresh one for each test)
        self.busy = _threading.Semaphore(self.BUSY_SLOTS)
        self.flaky_calls = 0
        self.in_flight: dict[str, int] = {}  # per model: slow calls of an earlier test may linger
        self.max_in_flight: dict[str, int] = {}
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # clients that timed out hang up
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        _threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        """Let every `hold` call answer."""
        self.held.set()

    def _busy(self) -> str:
        with self.busy:
            _time.sleep(0.2)
        return "1"

    def reset(self) -> None:
        with self.lock:
            self.held.set()  # an earlier test's held calls end
            self.held = _threading.Event()
            self.requests.clear()
            self.max_in_flight.clear()
            self.flaky_calls = 0

    def reply(self, body: dict) -> tuple[int, str]:
        model, messages = body["model"], body["messages"]
        content = messages[-1]["content"]
        parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
        text = " ".join(p.get("text", "") for p in parts)
        reasoning = _re.search(r"starts -----\n(.*)\n----- reasoning", text, _re.S)
        reasoning = reasoning[1] if reasoning else ""
        verdict = {
            "sound": lambda: "1" if "clue" in reasoning else "0",
            "naive": lambda: (
                "1" if _re.search(r"\[1\]|ignore the instructions|verdict: 1", text, _re.I) else "0"
            ),
            "parrot": lambda: reasoning[-40:],
            "chatty": lambda: "Yes, 1. The reasoning is sound.",
            "think": lambda: "<think>The clues fit.</think>\n1",
            "vision": lambda: "1" if any(p.get("type") == "image_url" for p in parts) else "0",
            "slow": lambda: (_time.sleep(3), "1")[1],
            "pause": lambda: (_time.sleep(0.1), "1")[1],
            "hold": lambda held=self.held: (held.wait(60), "1")[1],
            "busy": self._busy,
            # answers in the schema's shape only when a schema was asked for
            "structured": lambda: '{"verdict": 1}' if "response_format" in body else "1",
            "graded": lambda: '{"verdict": 1}' if "response_format" in body else "1",
            "graded_think": lambda: "<think>1 clue, 0 doubts</think>\n1",
            "nologprobs": lambda: "1",
            "offtop": lambda: "1",
            "nanlogprobs": lambda: "1",
            "garbled": lambda: "1",
        }
        if model == "fail":
            return 500, '{"error": {"message": "boom"}}'
        if model == "flaky":
            with self.lock:
                self.flaky_calls += 1
                if self.flaky_calls <= 2:
                    return 503, '{"error": {"message": "busy"}}'
            verdict["flaky"] = lambda: "1"
        if model == "badjson":
            return 200, "this is not json"
        if model == "nochoices":
            return 200, '{"id": "x", "object": "chat.completion", "choices": []}'
        answer = verdict[model]()
        choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}
        if body.get("logprobs") and model != "nologprobs":
            choice["logprobs"] = self.logprobs(model, answer)
        return 200, _json.dumps(
            {"id": "x", "object": "chat.completion", "created": 0, "model": model, "choices": [choice]}
        )  # NaN is written as the bare `NaN` Python's json (and the client's parser) accept

    @staticmethod
    def logprobs(model: str, answer: str) -> dict:
        """A `logprobs` object: one entry per token of `answer`, the verdict digit's alternatives
        chosen by the model name (other tokens are sure of themselves)."""
        verdict_top = {
            "graded": [("1", 0.56), ("0", 0.18), (" 1", 0.16), ("The", 0.1)],
            "graded_think": [("1", 0.56), ("0", 0.18), (" 1", 0.16), ("The", 0.1)],
            "offtop": [("Yes", 0.7), ("No", 0.3)],
            "nanlogprobs": [("1", float("nan")), ("0", 0.2)],
        }.get(model, [(answer, 1.0)])
        tokens = _re.findall(r"<think>|</think>|\w+|\s*\d|\W", answer)

        def entry(token: str, top: list[tuple[str, float]]) -> dict:
            def lp(p: float) -> float:
                return p if _math.isnan(p) else _math.log(p)

            alts = [{"token": t, "logprob": lp(p), "bytes": list(t.encode())} for t, p in top]
            chosen = alts[0]["logprob"]
            return {"token": token, "logprob": chosen, "bytes": list(token.encode()), "top_logprobs": alts}

        if model == "garbled":
            return {"content": "1 at 0.8", "refusal": None}
        last_digit = max(i for i, t in enumerate(tokens) if t.strip() in ("0", "1"))
        content = [entry(t, verdict_top if i == last_digit else [(t, 1.0)]) for i, t in enumerate(tokens)]
        return {"content": content, "refusal": None}

    def _handler(self) -> type:
        standin = self

        class Handler(_Handler):
            protocol_version = "HTTP/1.1"  # keep-alive, as vLLM
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # /v1/models, as preflight asks it
                data = _json.dumps({"object": "list", "data": [{"id": "sound"}, {"id": "naive"}]}).encode()
                self.send_response(200 if self.path.rstrip("/").endswith("/models") else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = _json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                model = body["model"]
                with standin.lock:
                    standin.requests.append(body)
                    standin.in_flight[model] = standin.in_flight.get(model, 0) + 1
                    standin.max_in_flight[model] = max(
                        standin.max_in_flight.get(model, 0), standin.in_flight[model]
                    )
                try:
                    status, text = standin.reply(body)
                finally:
                    with standin.lock:
                        standin.in_flight[model] -= 1
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@pytest.fixture(scope="session")
def _judge_standin_server():
    standin = JudgeStandIn()
    yield standin
    standin.server.shutdown()
    standin.server.server_close()


@pytest.fixture
def judge_standin(_judge_standin_server):
    """A loopback OpenAI-compatible judge (see JudgeStandIn), its records cleared for each test."""
    _judge_standin_server.reset()
    return _judge_standin_server


# ---- end of judge stand-in ---------------------------------------------------------------------


# ---- torch / torchvision pair (owner: the README's Tests block) --------------------------------
def pytest_exception_interact(node, call, report):
    """The first failure from a torchvision that cannot load beside torch stops the run with one
    line naming the fix (see helpers.torch_pair), instead of one traceback per test."""
    from helpers.torch_pair import is_pair_error, pair_message

    # The exception itself, not the report: a test quoting the error text must fail as usual.
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, RuntimeError) and is_pair_error(str(exc)):
        pytest.exit(pair_message(REPO / "pyproject.toml"), returncode=2)


# ---- end of torch / torchvision pair -----------------------------------------------------------
