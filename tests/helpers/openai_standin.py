"""A loopback stand-in for an OpenAI-compatible chat endpoint that answers per image (eval tests;
the `stand_in` fixture in tests/eval/conftest.py starts one)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler
from pathlib import Path


def image_key(path: str | Path) -> str:
    """What the stand-in keys answers by: the base64 of the image file, as the engine sends it."""
    return base64.b64encode(Path(path).read_bytes()).decode("ascii")


class StandIn:
    """Answers /v1/chat/completions (and GET /v1/models with `models_status`). `script[image_key]`
    (or `script["*"]` for any image) is a list of actions used in turn (the last repeats): a string
    (answer), ("status", code), or ("sleep", seconds, answer)."""

    def __init__(self) -> None:
        self.script: dict[str, list] = {}
        self.calls: dict[str, int] = defaultdict(int)
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        self.url = ""
        self.models_status = 404  # GET /models: not every OpenAI-compatible server has it

    def models_reply(self) -> tuple[int, dict]:
        if self.models_status == 200:
            return 200, {"object": "list", "data": [{"id": "stand-in", "object": "model"}]}
        return self.models_status, {"error": {"message": f"scripted {self.models_status}"}}

    def next_action(self, key: str):
        with self.lock:
            n = self.calls[key]
            self.calls[key] += 1
        actions = self.script.get(key) or self.script.get("*") or ["<think>?</think><answer>unknown</answer>"]
        return actions[min(n, len(actions) - 1)]


def handler(stand_in: StandIn):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def _send(self, code: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send(*stand_in.models_reply() if self.path.endswith("/models") else (404, {}))

        def do_POST(self) -> None:
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": {"message": "not found"}})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with stand_in.lock:
                stand_in.bodies.append(body)
            urls = [
                part["image_url"]["url"]
                for m in body["messages"]
                if isinstance(m["content"], list)
                for part in m["content"]
                if part.get("type") == "image_url"
            ]
            key = urls[0].split("base64,", 1)[1] if urls else ""
            action = stand_in.next_action(key)
            if isinstance(action, tuple) and action[0] == "status":
                self._send(action[1], {"error": {"message": f"scripted {action[1]}"}})
                return
            if isinstance(action, tuple) and action[0] == "sleep":
                time.sleep(action[1])
                action = action[2]
            try:
                if body.get("stream"):
                    self._stream(action, body)
                else:
                    self._send(
                        200,
                        {
                            "id": "cmpl-1",
                            "object": "chat.completion",
                            "created": 0,
                            "model": body["model"],
                            "choices": [
                                {
                                    "index": 0,
                                    "message": {"role": "assistant", "content": action},
                                    "finish_reason": "stop",
                                }
                            ],
                            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                        },
                    )
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout path)

        def _stream(self, text: str, body: dict) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in [text[i : i + 7] for i in range(0, len(text), 7)]:
                chunk = {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler
