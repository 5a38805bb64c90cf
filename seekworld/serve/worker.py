"""gunicorn's threaded worker with three changes the reward server needs (gunicorn loads it by
path: `worker_class = "seekworld.serve.worker.ThreadWorker"`).

- Arrival time: each request is stamped when its connection is handed to the thread pool, so the
  request deadline counts time spent queueing for a thread (upstream's 180 s clock starts when
  it sends, not when a thread is free).
- Read timeout: the client socket gets a timeout while a request is read, so a client that sends
  headers and then stalls (or trickles bytes) cannot hold a thread forever.
- Stop accepting at once on SIGTERM: the listening sockets are closed as the drain starts, so a
  connection that arrives during the drain is refused (and upstream retries it elsewhere) instead
  of being held in the backlog and reset when the worker exits.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker as _GunicornThreadWorker

from seekworld.serve.app import set_arrival

__all__ = ["ThreadWorker"]


class ThreadWorker(_GunicornThreadWorker):
    body_timeout_s: float  # set from ServerOptions by the runner before gunicorn forks

    def enqueue_req(self, conn: Any) -> None:
        conn.seekworld_arrival = time.monotonic()
        if not getattr(conn, "seekworld_timed", False):
            conn.seekworld_timed = True
            init = conn.init
            timeout = self.body_timeout_s

            def init_with_timeout() -> None:
                # gunicorn makes the socket blocking (no timeout) right before this call.
                init()
                conn.sock.settimeout(timeout)

            conn.init = init_with_timeout
        super().enqueue_req(conn)

    def handle_request(self, req: Any, conn: Any) -> Any:
        set_arrival(getattr(conn, "seekworld_arrival", None))
        try:
            return super().handle_request(req, conn)
        finally:
            set_arrival(None)

    def handle_exit(self, sig: Any, frame: Any) -> None:
        was_alive = self.alive
        super().handle_exit(sig, frame)
        if was_alive:
            self.method_queue.defer(self._close_listeners)  # runs on the worker's main loop

    def _close_listeners(self) -> None:
        self.set_accept_enabled(False)
        for listener in self.sockets:
            try:
                listener.close()
            except OSError:
                pass
