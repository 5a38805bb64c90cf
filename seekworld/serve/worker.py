"""gunicorn's threaded worker with the changes the reward server needs (gunicorn loads it by path:
`worker_class = "seekworld.serve.worker.ThreadWorker"`; written against gunicorn 27's gthread).

- **A thread only for a whole request.** The worker's main loop (one thread, non-blocking sockets)
  reads each request's headers, and a body of up to `PREREAD_BYTES` with a Content-Length, before
  a thread of the pool takes it; a client that trickles bytes holds no thread. Headers must arrive
  within `header_timeout_s` of a request's first byte (of a new connection's opening), the body
  within `body_timeout_s` of the headers' end; past either the client gets 408 with a JSON body and
  the connection is closed. A larger or chunked body is read by the thread, each read bounded by
  the same body deadline (the app answers 408 when it passes).
- **Arrival time**: a request is stamped when it is handed to the thread pool, so the request
  deadline counts time spent queueing for a thread.
- **SIGTERM**: the connections the kernel already accepted are taken, then the listening sockets
  are closed at once (a later connection is refused, and upstream retries it elsewhere, instead of
  being held in the backlog and reset when the worker exits); the app is told when answers are due
  (its `stop` hook: the judge gives up in time); requests in flight are answered within gunicorn's
  `graceful_timeout`.
- **gunicorn's own refusals** (a request it cannot parse: 400, 414, 431, 501...) are JSON
  `{"error": "..."}` like the app's, and counted by the app's `refused` hook.
"""

from __future__ import annotations

import json
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import TConn
from gunicorn.workers.gthread import ThreadWorker as _GunicornThreadWorker

from seekworld.serve.app import set_arrival
from seekworld.serve.framing import body_length, header_end

__all__ = ["PREREAD_BYTES", "ReadDeadline", "ThreadWorker", "json_response"]

PREREAD_BYTES = 256 * 1024  # upstream's requests are ~6.5 kB; bounds the loop's memory per connection
MAX_HEADER_BYTES = 1 << 20  # above gunicorn's own limits (8190-byte lines, 100 fields): it refuses
LINGER_S = 2.0  # after a refusal, read what the client still sends so the answer is not reset away
EXPIRY_EVERY_S = 0.25  # how often deadlines are checked
ACCEPT_AT_STOP = 4096  # connections taken from the backlog at SIGTERM, at most


class ReadDeadline(TimeoutError):
    """A request's body did not arrive by its deadline."""


def json_response(status: int, phrase: str, message: str) -> bytes:
    """A whole HTTP/1.1 answer `{"error": message}` that closes the connection."""
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class _DeadlineSocket:
    """A client socket as gunicorn's parser reads it: each read waits at most until `deadline`."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self.deadline = deadline
        self._timeout: float | None = None  # what gunicorn asked for (its drain of unread bodies)

    def recv(self, size: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ReadDeadline("request body not received in time")
        own = self._timeout is None or remaining < self._timeout
        self._sock.settimeout(remaining if own else self._timeout)
        try:
            return self._sock.recv(size)
        except TimeoutError:
            if own:
                raise ReadDeadline("request body not received in time") from None
            raise
        finally:
            self._sock.settimeout(None)  # blocking again: the answer is written without a timeout

    def settimeout(self, value: float | None) -> None:
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Reading:
    """A request being received by the main loop."""

    __slots__ = ("buf", "conn", "deadline", "need", "registered", "searched")

    def __init__(self, conn: Any, buf: bytearray, deadline: float) -> None:
        self.conn = conn
        self.buf = buf
        self.deadline = deadline
        self.searched = 0  # bytes searched for the headers' end
        self.need = -1  # bytes of the whole request once the headers are in
        self.registered = False


class ThreadWorker(_GunicornThreadWorker):
    # Set from ServerOptions by the runner before gunicorn forks.
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading: dict[Any, _Reading] = {}
        self._closing: dict[Any, float] = {}  # refused connections, until they are closed
        self._listening = True
        self._next_expiry = 0.0

    def init_process(self) -> None:
        _json_error_pages(self._note_refusal)
        super().init_process()

    # --- the main loop: whole requests before threads ---------------------------------------

    def enqueue_req(self, conn: Any) -> None:
        if conn.__dict__.pop("seekworld_ready", False):
            conn.seekworld_arrival = time.monotonic()
            super().enqueue_req(conn)
        else:
            self._start_reading(conn)

    def _start_reading(self, conn: Any) -> None:
        # Bytes of this request the parser already read past the last one (pipelining).
        leftover = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        state = _Reading(conn, bytearray(leftover), time.monotonic() + self.header_timeout_s)
        conn.sock.setblocking(False)
        self._reading[conn] = state
        if not self._pump(state):
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, state))
            state.registered = True

    def _on_readable(self, state: _Reading, _fileobj: Any) -> None:
        self._pump(state)

    def _pump(self, state: _Reading) -> bool:
        """Read what has arrived. True once the request was handed over or the connection closed."""
        for _ in range(16):  # at most 1 MiB a turn, so that other connections get theirs
            if self._advance(state):
                return True
            try:
                data = state.conn.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                data = b""
            if not data:  # the client went away before sending a whole request
                self._forget(state)
                self._close(state.conn)
                return True
            state.buf += data
        return self._advance(state)

    def _advance(self, state: _Reading) -> bool:
        """Hand the request over when what it needs has arrived. True when it was."""
        buf = state.buf
        if state.need < 0:
            end = header_end(buf, state.searched)
            if end < 0:
                state.searched = len(buf)
                # Over gunicorn's own limits: it refuses them (414, 431) from the bytes it has.
                return self._hand_over(state) if len(buf) > MAX_HEADER_BYTES else False
            length = body_length(buf[:end])
            if length is None or length > PREREAD_BYTES:
                return self._hand_over(state)  # the thread reads the body, within its deadline
            state.need = end + length
            state.deadline = time.monotonic() + self.body_timeout_s
        return self._hand_over(state) if len(buf) >= state.need else False

    def _hand_over(self, state: _Reading) -> bool:
        conn = state.conn
        self._forget(state)
        conn.seekworld_buffer = bytes(state.buf)
        conn.seekworld_deadline = time.monotonic() + self.body_timeout_s
        conn.seekworld_ready = True
        self.enqueue_req(conn)
        return True

    def _forget(self, state: _Reading) -> None:
        self._reading.pop(state.conn, None)
        if state.registered:
            state.registered = False
            self._unregister(state.conn.sock)

    def _unregister(self, sock: Any) -> None:
        try:
            self.poller.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()

    # --- deadlines ----------------------------------------------------------------------------

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self._reading or self._closing:
            timeout = min(timeout, EXPIRY_EVERY_S)
        super().wait_for_and_dispatch_events(timeout)

    def murder_pending(self) -> None:
        super().murder_pending()
        now = time.monotonic()
        if now < self._next_expiry:
            return
        self._next_expiry = now + EXPIRY_EVERY_S
        for state in [s for s in self._reading.values() if s.deadline <= now]:
            self._expire(state)
        for conn in [c for c, until in self._closing.items() if until <= now]:
            self._end_linger(conn)

    def _expire(self, state: _Reading) -> None:
        self._forget(state)
        if not state.buf:  # opened and never used: nothing was asked, nothing to answer
            self._close(state.conn)
            return
        if state.need < 0:
            message = f"request headers not received within {self.header_timeout_s:g} s"
            self._refuse(state.conn, 408, "Request Timeout", message, "slow_headers")
        else:
            message = f"body not received within {self.body_timeout_s:g} s"
            self._refuse(state.conn, 408, "Request Timeout", message, "slow_body")

    def _refuse(self, conn: Any, status: int, phrase: str, message: str, reason: str) -> None:
        """Answer from the main loop and close; the client's unread bytes are read and dropped for
        LINGER_S first, since closing with them unread resets the connection and can discard the
        answer before the client reads it."""
        try:
            conn.sock.send(json_response(status, phrase, message))  # small: fits the socket buffer
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self._note_refusal(status, reason, message, conn.client)
        self._closing[conn] = time.monotonic() + LINGER_S
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_lingering, conn))

    def _on_lingering(self, conn: Any, _fileobj: Any) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._end_linger(conn)

    def _end_linger(self, conn: Any) -> None:
        if self._closing.pop(conn, None) is not None:
            self._unregister(conn.sock)
            self._close(conn)

    def _note_refusal(self, status: int, reason: str, message: str, client: Any) -> None:
        hook = _app_hook(self, "refused")
        if hook is not None:
            try:
                hook(status, reason, message, client[0] if isinstance(client, tuple) else None)
            except Exception:  # counting must never cost an answer
                self.log.exception("refusal hook failed")

    # --- the thread: the request's bytes are already here -----------------------------------

    def handle(self, conn: Any) -> Any:
        buffered = conn.__dict__.pop("seekworld_buffer", None)
        if buffered is not None:
            conn.sock.setblocking(True)
            conn.init()
            unreader = conn.parser.unreader
            unreader.unread(buffered)
            deadline = conn.seekworld_deadline
            if isinstance(unreader.sock, _DeadlineSocket):
                unreader.sock.deadline = deadline
            else:
                unreader.sock = _DeadlineSocket(unreader.sock, deadline)
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        set_arrival(getattr(conn, "seekworld_arrival", None))
        try:
            return super().handle_request(req, conn)
        finally:
            set_arrival(None)

    # --- SIGTERM ------------------------------------------------------------------------------

    def handle_exit(self, sig: Any, frame: Any) -> None:
        was_alive = self.alive
        super().handle_exit(sig, frame)
        if was_alive:
            self.method_queue.defer(self._stop_accepting)  # runs on the worker's main loop

    def accept(self, listener: Any) -> None:
        # A listener closed by _stop_accepting can still be in the batch of events being run.
        if self._listening:
            super().accept(listener)

    def _stop_accepting(self) -> None:
        self._listening = False
        for listener in self.sockets:
            for _ in range(ACCEPT_AT_STOP):  # a client that connected before the stop is answered
                try:
                    client, address = listener.accept()
                except OSError:  # nothing more waiting (EAGAIN), or already closed
                    break
                self.nr_conns += 1
                client.setblocking(True)
                self.enqueue_req(TConn(self.cfg, client, address, listener.getsockname()))
        self.set_accept_enabled(False)
        for listener in self.sockets:
            try:
                listener.close()
            except OSError:
                pass
        hook = _app_hook(self, "stop")
        if hook is not None:
            hook(time.monotonic() + self.cfg.graceful_timeout)


def _app_hook(worker: Any, name: str) -> Any:
    """A hook the app offers the worker (`app.extensions["seekworld"][name]`), or None."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None) or {}
    return extensions.get("seekworld", {}).get(name)


def _json_error_pages(note: Any) -> None:
    """gunicorn answers a request it cannot parse (400, 414, 431, 501...) through
    `gunicorn.util.write_error`, in HTML; in this worker's process it answers in JSON instead, with
    the same status and text, and the refusal is counted."""
    from gunicorn import util

    if getattr(util.write_error, "seekworld", False):
        return

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        message = f"{reason}: {mesg}" if mesg else reason
        try:
            peer = sock.getpeername()
        except OSError:
            peer = None
        note(status_int, str(status_int), message, peer)
        util.write_nonblock(sock, json_response(status_int, reason, message))

    write_error.seekworld = True  # type: ignore[attr-defined]
    util.write_error = write_error
