"""Issue 13 §4: the server's attack surface. App-level checks through Flask's test client; the
socket-level ones (a stalled body, SIGTERM) against a real `seekworld serve` under gunicorn."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers.serve_app import make_client

from seekworld.cli.main import main
from seekworld.errors import UsageError
from seekworld.service.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]
PROMPT = "<|im_start|>user\nWhere?<|im_end|>\n<|im_start|>assistant\n"
RIGHT = PROMPT + "<think>Red soil.</think><answer>$China,Sichuan$</answer><|im_end|>"
GOOD = {"query": [RIGHT], "prompts": [PROMPT], "labels": ["$china,sichuan$"]}


def run_serve(monkeypatch, *argv):
    """`seekworld serve ARGV` with gunicorn replaced by a recorder: returns (exit status, started)."""
    import seekworld.serve.runner as runner

    started = []
    monkeypatch.setattr(runner, "serve", lambda config, options: started.append(options) or 0)
    return main(["serve", *argv]), started


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org"])
def test_an_open_host_needs_a_token(monkeypatch, capsys, host):
    monkeypatch.delenv("SEEKWORLD_TOKEN", raising=False)
    status, started = run_serve(monkeypatch, "--host", host)
    assert status == 2 and not started and "--allow-no-token" in capsys.readouterr().err
    assert run_serve(monkeypatch, "--host", host, "--token", "t")[0] == 0
    assert run_serve(monkeypatch, "--host", host, "--allow-no-token")[0] == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_needs_no_token(monkeypatch, host):
    monkeypatch.delenv("SEEKWORLD_TOKEN", raising=False)
    assert run_serve(monkeypatch, "--host", host)[0] == 0


def test_health_never_shows_judge_credentials():
    client = make_client(
        reward="rule+judge", judge_url="http://alice:s3cret@judge:8001/v1?api_key=k3y&x=1", judge_model="m"
    )
    text = client.get("/health").get_data(as_text=True)
    assert "s3cret" not in text and "k3y" not in text and "alice" not in text
    assert json.loads(text)["judge"]["url"] == "http://***@judge:8001/v1?api_key=***&x=1"


def test_deeply_nested_json_is_a_400():
    client = make_client()
    r = client.post("/get_reward", data=b"[" * 100_000 + b"]" * 100_000)
    assert r.status_code == 400 and "nested" in r.get_json()["error"]
    r = client.post("/get_reward", data=b'{"query": ' + b"[" * 50_000)
    assert r.status_code == 400


def test_audit_files_roll_mid_batch(tmp_path):
    audit = AuditLog(str(tmp_path), max_bytes=2000)
    audit.write([{"i": i, "pad": "x" * 80} for i in range(100)])  # ~10 kB in one batch
    audit.write([{"big": "y" * 5000}])  # one line over the limit: a file of its own
    sizes = sorted(p.stat().st_size for p in tmp_path.glob("audit-*.jsonl"))
    assert len(sizes) >= 6 and sorted(sizes)[:-1][-1] <= 2000 and sizes[-1] > 5000
    lines = [
        json.loads(x) for p in sorted(tmp_path.glob("audit-*.jsonl")) for x in p.read_text().splitlines()
    ]
    assert [r["i"] for r in lines if "i" in r] == list(range(100))  # nothing lost, in order


def _full_disk_after(limit: int):
    """A stand-in for a disk that fills up: os.write takes `limit` more bytes in all, then raises
    ENOSPC (a write that does not fit is cut short first, as the kernel does)."""
    import errno

    room = [limit]
    real_write = os.write

    def write(fd, data):
        if room[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = real_write(fd, bytes(data[: room[0]]))
        room[0] -= taken
        return taken

    return room, write


def test_a_full_disk_leaves_no_partial_line_and_one_warning_per_burst(tmp_path, monkeypatch, caplog):
    audit = AuditLog(str(tmp_path), max_bytes=1 << 20)
    audit.write([{"i": 0}])
    room, write = _full_disk_after(100)
    monkeypatch.setattr(os, "write", write)
    with caplog.at_level(logging.WARNING, logger="seekworld.service.audit"):
        for i in range(1, 40):  # the disk fills part way through a line, then stays full
            with pytest.raises(OSError):
                audit.write([{"i": i, "pad": "x" * 60}, {"i": i, "pad": "y" * 60}])
        room[0] = 1 << 20  # space again
        audit.write([{"i": 99}])
    lines = (tmp_path / os.path.basename(audit.path)).read_text().splitlines()
    assert [json.loads(line)["i"] for line in lines] == [0, 99]  # nothing torn, nothing glued
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and all(r.levelno == logging.WARNING for r in caplog.records)
    assert "No space left on device" in messages[0]
    assert "after 39 failed writes (78 samples not logged)" in messages[1]


def test_when_the_cut_fails_too_the_next_write_starts_a_new_file(tmp_path, monkeypatch):
    audit = AuditLog(str(tmp_path), max_bytes=1 << 20)
    room, write = _full_disk_after(30)
    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "ftruncate", lambda fd, size: (_ for _ in ()).throw(OSError("no")))
    with pytest.raises(OSError):
        audit.write([{"i": 1, "pad": "x" * 60}])
    room[0] = 1 << 20
    audit.write([{"i": 2}])
    first, second = sorted(tmp_path.glob("audit-*.jsonl"))
    assert not first.read_text().endswith("\n")  # the torn line stays alone at the end of its file
    assert [json.loads(x)["i"] for x in second.read_text().splitlines()] == [2]


def test_audit_lines_are_strict_json(tmp_path):
    audit = AuditLog(str(tmp_path), max_bytes=1 << 20)
    audit.write([{"label": {"lat": float("inf"), "deep": [[float("nan")]]}, "total": 1.0}])
    (line,) = next(tmp_path.glob("audit-*.jsonl")).read_text().splitlines()

    def no_constants(name):
        raise AssertionError(f"{name} is not JSON")

    assert json.loads(line, parse_constant=no_constants) == {
        "label": {"lat": None, "deep": [[None]]},
        "total": 1.0,
    }


# --- against a real server ---------------------------------------------------------------------

pytest.importorskip("gunicorn")


def post(port: int, timeout: float = 10) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/get_reward", data=json.dumps(GOOD).encode())
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status


def test_stalled_bodies_cannot_hold_every_thread(server):
    port = server("--threads", "2", "--body-timeout", "1")
    stalled = []
    for _ in range(6):  # 3x the threads: each sends headers, then nothing
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        stalled.append(s)
    time.sleep(0.2)
    start = time.monotonic()
    assert post(port, timeout=15) == 200
    assert time.monotonic() - start < 8  # freed by the read timeout, not by the client
    for s in stalled:
        s.close()


def test_sigterm_stops_accepting_at_once(server):
    port = server("--threads", "2", "--request-deadline", "30")
    master = server.procs[-1]
    held = socket.create_connection(("127.0.0.1", port))  # an open connection keeps the drain going
    os.kill(master.pid, signal.SIGTERM)  # the server this test started
    time.sleep(1.0)
    start = time.monotonic()
    with pytest.raises(OSError):  # refused at once (it used to be held ~4 s, then reset)
        late = socket.create_connection(("127.0.0.1", port), timeout=10)
        late.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        late.recv(100)
    assert time.monotonic() - start < 1.0
    held.close()
    master.wait(30)


def test_a_port_in_use_is_one_line_and_exit_2():
    # A real `seekworld serve` (gunicorn's own bind would retry five times, then exit 1).
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        start = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "seekworld", "serve", "--port", str(port)],
            cwd=REPO, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"seekworld serve: port {port} on 127.0.0.1 is in use (another server?): stop it, or pick another "
        "with --port"
    ]
    assert time.monotonic() - start < 30  # generous for a loaded box; gunicorn's retries took 6.5 s


def test_a_host_that_is_not_this_machine_is_one_line():
    from seekworld.serve.runner import check_bindable

    with pytest.raises(UsageError, match=r"^--host 192\.0\.2\.1 is not an address of this machine$"):
        check_bindable("192.0.2.1", 0)  # TEST-NET-1: never assigned to a machine
    with pytest.raises(UsageError, match=r"^--host no-such-host\.invalid cannot be resolved"):
        check_bindable("no-such-host.invalid", 0)  # .invalid never resolves (RFC 2606)
    check_bindable("127.0.0.1", 0)
    check_bindable("localhost", 0)
