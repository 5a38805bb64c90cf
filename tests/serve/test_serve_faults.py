"""A real `seekworld serve` (gunicorn, our worker) against clients that misbehave and a SIGTERM
mid-burst: trickling clients hold no thread and get 408 in JSON, gunicorn's own refusals are JSON,
every log line names its level, and requests in flight when SIGTERM comes are answered (200, the
judge cut short), never a 500 or a reset. Short versions; benchmarks/bench_serve_faults.py measures
the same with 80 trickling clients and a burst of hundreds."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("gunicorn")

PROMPT = "<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n"
THINK = "<think>The first clue is the red soil of Sichuan.</think>"


def body(i: int = 0) -> bytes:
    query = f"{PROMPT}{THINK} {i}<answer>$China,Sichuan$</answer><|im_end|>"
    return json.dumps({"query": [query], "prompts": [PROMPT], "labels": ["$china,sichuan$"]}).encode()


def post(port: int, i: int = 0, timeout: float = 30) -> tuple[int, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/get_reward", data=body(i))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def answer(sock: socket.socket, timeout: float) -> tuple[int, str, dict]:
    """(status, content type, JSON body) of the answer on `sock`."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    ctype = re.search(rb"(?im)^content-type:\s*(\S+)", head)
    return status, ctype[1].decode() if ctype else "", json.loads(payload)


def _length(data: bytes) -> int:
    found = re.search(rb"(?im)^content-length:\s*(\d+)", data.split(b"\r\n\r\n", 1)[0])
    return int(found[1]) if found else 0


class Trickle:
    """Connections that each send `head` at once, then one byte of `prefix` every `every_s` (a
    thread of this test)."""

    def __init__(self, port: int, n: int, head: bytes, prefix: bytes, every_s: float = 0.2) -> None:
        self.socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
        for s in self.socks:
            s.sendall(head)
        self.prefix, self.every_s = prefix, every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for i in range(len(self.prefix)):  # bounded by the prefix
            for s in self.socks:
                try:
                    s.send(self.prefix[i : i + 1])
                except OSError:
                    pass
            if self.stop.wait(self.every_s):
                return

    def answered(self) -> list[bool]:
        """Which connections have an answer waiting (without waiting for one)."""
        out = []
        for s in self.socks:
            s.setblocking(False)
            try:
                out.append(bool(s.recv(1, socket.MSG_PEEK)))
            except BlockingIOError:
                out.append(False)
            finally:
                s.setblocking(True)
        return out

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()


@pytest.mark.parametrize(
    "head,prefix,reason,message",
    [
        (b"POST /get_reward HTTP/1.1\r\n", b"Host: x\r\nX-Pad: " + b"p" * 400, "slow_headers",
         "request headers not received within 5 s"),
        (b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n", b" " * 500, "slow_body",
         "body not received within 5 s"),
    ],
    ids=["headers", "body"],
)  # fmt: skip
def test_trickling_clients_hold_no_thread_and_get_408(server, head, prefix, reason, message):
    port = server("--threads", "2", "--header-timeout", "5", "--body-timeout", "5")
    trickle = Trickle(port, 8, head, prefix)  # 4x the threads, one byte each every 0.2 s
    try:
        time.sleep(0.5)
        # Served while every trickling client is still unanswered: none of them holds a thread.
        assert [post(port, i, timeout=10)[0] for i in range(4)] == [200] * 4
        assert trickle.answered() == [False] * 8
        for s in trickle.socks:  # cut at the deadline although bytes keep coming
            assert answer(s, timeout=15) == (408, "application/json", {"error": message})
    finally:
        trickle.close()
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    assert f'seekworld_request_errors_total{{reason="{reason}"}} 8.0' in metrics


def test_a_chunked_body_trickled_past_its_deadline_is_a_408(server):
    port = server("--threads", "2", "--body-timeout", "1")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /get_reward HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n")
    status, ctype, payload = answer(s, timeout=15)
    assert (status, ctype, payload) == (408, "application/json", {"error": "body not received within 1 s"})
    s.close()


@pytest.mark.parametrize(
    "request_bytes,status",
    [
        (b"NOT HTTP AT ALL\r\n\r\n", 400),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    ],
    ids=["400", "414", "431"],
)
def test_gunicorns_own_refusals_are_json(server, request_bytes, status):
    port = server()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(request_bytes)
    got, ctype, payload = answer(s, timeout=10)
    s.close()
    assert (got, ctype) == (status, "application/json") and payload["error"]
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    assert f'seekworld_request_errors_total{{reason="{status}"}} 1.0' in metrics


LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[\d+\] \[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] \S+: "
)


def test_every_log_line_names_its_level(server):
    port = server("--reward", "rule+judge", "--judge-url", "http://127.0.0.1:9/v1", "--judge-model", "m",
                  "--judge-breaker-failures", "1", "--judge-retries", "0")  # fmt: skip
    assert post(port)[0] == 200  # the judge is down: a failure line and the breaker opening
    with pytest.raises(urllib.error.HTTPError):  # a refusal's line
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/get_reward", data=b"{x"))
    master = server.procs[-1]
    os.kill(master.pid, signal.SIGTERM)  # the server this test started
    master.wait(30)
    lines = (server.log_dir / f"serve-{port}.log").read_text().splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines), [x for x in lines if not LOG_LINE.match(x)]
    text = "\n".join(lines)
    assert "[WARNING] seekworld.rewards.judge: judge circuit breaker opened" in text
    assert "[WARNING] seekworld.serve.app: refused /get_reward: 400 invalid_json" in text


def test_sigterm_mid_burst_answers_every_request_in_flight(server, judge_standin):
    # The judge holds every call until released: when SIGTERM comes, all requests are in flight.
    port = server("--reward", "rule+judge", "--judge-url", judge_standin.url, "--judge-model", "hold",
                  "--threads", "16", "--graceful-timeout", "4")  # fmt: skip
    results: list = []

    def client(i: int) -> None:
        try:
            results.append(post(port, i, timeout=60))
        except OSError as exc:  # a reset, or a connection refused after the stop
            results.append((type(getattr(exc, "reason", exc)).__name__, {}))

    clients = [threading.Thread(target=client, args=(i,)) for i in range(12)]
    for t in clients:
        t.start()
    # The judge's limit starts at 8 calls in flight: 8 calls out means 8 requests wait on the
    # judge; the others wait for a slot (or, at worst, have not connected yet).
    give_up = time.monotonic() + 30
    while len(judge_standin.requests) < 8 and time.monotonic() < give_up:
        time.sleep(0.02)
    time.sleep(0.3)
    master = server.procs[-1]
    stopped = time.monotonic()
    os.kill(master.pid, signal.SIGTERM)  # the server this test started
    for t in clients:
        t.join(60)
    judge_standin.release()
    master.wait(30)
    statuses = [status for status, _ in results]
    assert set(statuses) <= {200, "ConnectionRefusedError"} and statuses.count(200) >= 8, statuses
    assert all(reply["extra_logs"]["judge_error"] == [1.0] for status, reply in results if status == 200)
    assert time.monotonic() - stopped < 15  # within the grace period (4 s), with room for a slow machine


def test_kept_alive_and_pipelined_requests_are_read_whole_and_answered(server):
    port = server("--threads", "2")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    answers = s.makefile("rb")
    one = request_bytes(0)
    s.sendall(one)  # keep-alive: a second request on the same connection after the first answer
    assert status_of_next(answers) == 200
    s.sendall(one + request_bytes(1))  # pipelined: two requests in one send
    assert [status_of_next(answers), status_of_next(answers)] == [200, 200]
    s.close()


def request_bytes(i: int) -> bytes:
    data = body(i)
    return f"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data


def status_of_next(answers) -> int:
    """The status of the next answer on a connection's buffered reader, its body read past."""
    status = int(answers.readline().split(b" ", 2)[1])
    length = 0
    while (line := answers.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    answers.read(length)
    return status
