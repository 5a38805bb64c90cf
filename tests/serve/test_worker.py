"""The gunicorn worker's own parts, without a server: where a request ends in the bytes received
(seekworld.serve.framing, properties over generated streams), and the SIGTERM path of
`ThreadWorker` driven step by step on a real listening socket (no arbiter, no fork)."""

from __future__ import annotations

import selectors
import signal
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seekworld.serve.framing import body_length, header_end

pytest.importorskip("gunicorn")

HEAD = b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n"


@given(st.binary(max_size=300), st.lists(st.integers(1, 40), max_size=30))
def test_the_headers_end_is_found_however_the_bytes_arrive(stream, cuts):
    # fed piece by piece, searching only what is new: the same answer as one search of everything
    buf, searched, found = b"", 0, -1
    pieces, rest = [], stream
    for cut in cuts:
        pieces.append(rest[:cut])
        rest = rest[cut:]
    for piece in [*pieces, rest]:
        buf += piece
        found = header_end(buf, searched)
        if found >= 0:
            break
        searched = len(buf)
    whole = stream.find(b"\r\n\r\n")
    assert found == (-1 if whole < 0 else whole + 4)


@pytest.mark.parametrize(
    "head,length",
    [
        (HEAD, 12),
        (b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 0),
        (b"POST / HTTP/1.1\r\ncontent-length:  7 \r\n\r\n", 7),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", None),  # the thread reads it
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", None),  # waits for us
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", None),  # gunicorn refuses
        (b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", None),
        (b"POST / HTTP/1.1\r\nContent-Length: " + b"9" * 40 + b"\r\n\r\n", None),
    ],
)
def test_body_length(head, length):
    assert body_length(head) == length


@given(st.binary(max_size=2000))
def test_body_length_never_raises_and_is_never_negative(head):
    length = body_length(head)
    assert length is None or length >= 0


# --- SIGTERM, step by step ---------------------------------------------------------------------


@pytest.fixture
def worker():
    from gunicorn import glogging
    from gunicorn import sock as gsock
    from gunicorn.config import Config

    from seekworld.serve.worker import ThreadWorker

    cfg = Config()
    log = glogging.Logger(cfg)
    listener = gsock.TCPSocket(("127.0.0.1", 0), cfg, log)  # bound and listening
    w = ThreadWorker(1, 0, [listener], None, 30, cfg, log)
    w.tpool, w.poller = w.get_thread_pool(), selectors.DefaultSelector()
    w.method_queue.init()
    w.set_accept_enabled(True)
    yield w
    w.tpool.shutdown(wait=False)
    w.poller.close()
    w.method_queue.close()
    listener.close()
    w.tmp.close()


def test_sigterm_takes_what_the_kernel_accepted_then_refuses_and_survives_a_stale_event(worker):
    (listener,) = worker.sockets
    address = listener.getsockname()
    waiting = socket.create_connection(address)  # accepted by the kernel, not yet by the worker
    worker.handle_exit(signal.SIGTERM, None)  # defers the stop to the main loop
    # One batch of events: the main loop's queue (the stop), then the listener's own event, which
    # the same select() returned. The listener is closed by then: the event is dropped, and the
    # worker does not crash (gunicorn's accept on a closed listener raised AttributeError).
    worker.method_queue.run_callbacks(None)
    worker.accept(listener)
    assert worker.nr_conns == 1  # the waiting client was taken: it will be answered, not reset
    assert len(worker._reading) == 1  # its request is being read by the main loop
    with pytest.raises(ConnectionRefusedError):  # later clients are refused at once
        socket.create_connection(address, timeout=5)
    waiting.close()
