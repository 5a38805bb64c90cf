"""JSONL, atomic writes and the OpenAI-compatible client helpers of seekworld.io."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from seekworld.io.files import atomic_write, iter_jsonl, json_error, write_jsonl
from seekworld.io.openai_client import CallFailed, error_kind, make_client, resolve_api_key, retrying


def test_jsonl_round_trip_and_bad_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    write_jsonl(path, [{"x": "é"}, [1]])
    assert "é" in path.read_text(encoding="utf-8")
    with path.open("a") as fh:
        fh.write("\n{broken\n")
    got = list(iter_jsonl(path))
    assert [n for n, _ in got] == [1, 2, 4] and got[:2] == [(1, {"x": "é"}), (2, [1])]
    assert isinstance(got[2][1], ValueError) and json_error(got[2][1]).startswith("line is not JSON: ")


def test_atomic_write_leaves_no_temporary_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    atomic_write(target, "old")
    monkeypatch.setattr("os.replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_api_key_fallback(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "from-openai")
    monkeypatch.setenv("MY_KEY", "from-mine")
    assert resolve_api_key("flag") == "flag"
    assert resolve_api_key(env="MY_KEY") == "from-mine"
    assert resolve_api_key() == "from-openai"
    assert resolve_api_key(default_env=None) == "EMPTY"
    monkeypatch.delenv("MY_KEY")
    with pytest.raises(ValueError, match="MY_KEY is not set"):
        resolve_api_key(env="MY_KEY")


def test_client_has_no_retries_of_its_own():
    client = make_client("http://127.0.0.1:9/v1", timeout_s=3)
    assert client.max_retries == 0 and client.timeout == 3 and client.api_key == "EMPTY"


def _status(code: int) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://x/v1/chat/completions")
    return openai.APIStatusError("boom", response=httpx.Response(code, request=request), body=None)


def test_error_kinds():
    request = httpx.Request("POST", "http://x")
    assert error_kind(openai.APITimeoutError(request)) == ("timeout", True)
    assert error_kind(openai.APIConnectionError(request=request)) == ("connection", True)
    assert error_kind(_status(503)) == ("http_503", True)
    assert error_kind(_status(429)) == ("http_429", True)
    assert error_kind(_status(400)) == ("http_400", False)


def test_retrying_counts_tries_and_stops_on_fatal():
    calls = []

    def flaky(timeout):
        calls.append(timeout)
        if len(calls) < 3:
            raise _status(502)
        return "ok"

    assert retrying(flaky, retries=2, backoff_s=0.001, timeout_s=5) == ("ok", 3)
    calls.clear()
    with pytest.raises(CallFailed) as info:
        retrying(lambda t: (_ for _ in ()).throw(_status(400)), retries=5, backoff_s=0.001, timeout_s=5)
    assert (info.value.kind, info.value.attempts) == ("http_400", 1)
    with pytest.raises(CallFailed) as info:  # retries=0: one try, the caller's own policy on top
        retrying(lambda t: (_ for _ in ()).throw(_status(503)), retries=0, backoff_s=0.001, timeout_s=5)
    assert info.value.attempts == 1


def test_retrying_respects_the_deadline():
    seen = []

    def slow(timeout):
        seen.append(timeout)
        raise _status(503)

    with pytest.raises(CallFailed):
        retrying(slow, retries=50, backoff_s=0.05, timeout_s=10, deadline=time.monotonic() + 0.3)
    assert all(t <= 0.3 for t in seen) and len(seen) < 10
