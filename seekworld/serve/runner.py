"""Run the reward app under gunicorn (a production WSGI server), programmatically.

Choices (measured in benchmarks/bench_reward_server.py, see docs/serve.md):
- Worker class `gthread`: each worker serves many connections with a thread pool. A request that
  waits on the judge holds a thread, not a whole process, so hundreds of rollout requests can be in
  flight while the judge works; `sync` workers serve one request each and queue the rest.
- `timeout` exceeds the judge's whole-batch budget, so a slow judge never gets a worker killed
  mid-request (the judge gives up first and the sample scores 0).
- Modules and the gazetteer are imported in the master before forking (shared, fast restarts);
  the app itself (judge client, thread pools, audit file) is built in each worker after the fork.
- Prometheus multi-process mode: a fresh directory per run, so /metrics sums all workers.
- One log format for every line the server writes, gunicorn's and ours (`seekworld.serve.logs`):
  UTC time, PID, level name, logger.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import tempfile
from typing import Any

from seekworld.errors import UsageError
from seekworld.service.settings import ServerOptions, ServiceConfig

__all__ = ["check_bindable", "gunicorn_options", "serve"]

log = logging.getLogger(__name__)

BACKLOG = 2048  # a rollout burst opens thousands of connections at once


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def gunicorn_options(config: ServiceConfig, options: ServerOptions) -> dict[str, Any]:
    judge_s = config.judge.budget_s if config.judge is not None else 0.0
    return {
        "bind": [_bind(options.host, options.port)],
        "workers": options.workers,
        # Our gthread subclass: arrival stamps, read timeouts, listeners closed on SIGTERM.
        "worker_class": "seekworld.serve.worker.ThreadWorker"
        if options.worker_class == "gthread"
        else options.worker_class,
        # gunicorn silently turns `sync` with threads > 1 into gthread: keep sync really sync.
        "threads": options.threads if options.worker_class != "sync" else 1,
        "timeout": int(judge_s + 60),  # > the judge's budget: the judge gives up first
        # SIGTERM: requests in flight are answered within it (the worker tells the judge).
        "graceful_timeout": options.graceful_timeout_s,
        "keepalive": 5,
        "backlog": BACKLOG,
        "loglevel": options.log_level,
        "accesslog": "-" if options.access_log else None,
        "errorlog": "-",
        "logger_class": "seekworld.serve.logs.ServerLogger",  # one log format (seekworld.serve.logs)
        "proc_name": "seekworld-serve",
        "preload_app": False,  # build the app per worker: no client or thread pool crosses a fork
        "limit_request_line": 8190,
        "child_exit": _child_exit,
        # gunicorn >= 24 opens a control socket at one fixed path per user; two servers would clash.
        "control_socket_disable": True,
    }


def check_bindable(host: str, port: int) -> None:
    """Raise UsageError when gunicorn could not bind host:port: the port is taken, or the host is
    not an address of this machine. Binds (and closes) a socket the way gunicorn does (IPv6 for an
    address with a colon, else IPv4; SO_REUSEADDR, so a port held only by closing connections
    still passes)."""
    address = host.strip("[]")
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except socket.gaierror as exc:
            raise UsageError(f"--host {host} cannot be resolved ({exc.strerror}): pass an address") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {port} on {host} is in use (another server?): stop it, or pick another with --port"
                ) from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise UsageError(f"--host {host} is not an address of this machine") from None
            raise


def _child_exit(server: Any, worker: Any) -> None:
    # Keep the dead worker's counters but drop its live gauges (prometheus-client multiprocess).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def _prepare_metrics_dir() -> str | None:
    """Use PROMETHEUS_MULTIPROC_DIR if set (cleared of old files), else a fresh temp dir."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        return None
    created = tempfile.mkdtemp(prefix="seekworld-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = created
    return created


def serve(config: ServiceConfig, options: ServerOptions) -> int:
    """Run until SIGTERM/SIGINT. Returns the exit status."""
    from seekworld.service.wire import PromptLabels

    # Read once in the master, before anything is created (a bad file stops the start, not a
    # request); the forked workers share it.
    labels = PromptLabels.from_jsonl(options.dataset) if options.dataset else None
    if config.log_dir:
        # Checked in the master: a worker that cannot write its audit log would crash at boot,
        # and gunicorn would print every worker's traceback before giving up.
        os.makedirs(config.log_dir, exist_ok=True)
        if not os.access(config.log_dir, os.W_OK | os.X_OK):
            raise UsageError(f"--log-dir {config.log_dir} is not writable")
    check_bindable(options.host, options.port)  # one line now, not gunicorn's five retries
    # Before anything imports prometheus_client: it picks its storage at import time.
    created = _prepare_metrics_dir()
    from gunicorn.app.base import BaseApplication

    # Warm imports in the master; forked workers share them (copy-on-write).
    from seekworld.geo.gazetteer import load_gazetteer
    from seekworld.serve import app as app_module

    load_gazetteer()
    from seekworld.serve.worker import ThreadWorker

    ThreadWorker.header_timeout_s = options.header_timeout_s
    ThreadWorker.body_timeout_s = options.body_timeout_s

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_options(config, options).items():
                if value is not None and key in self.cfg.settings:  # older gunicorn lacks some
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app_module.create_app(config, options, prompt_labels=labels)

    try:
        _App(prog="seekworld serve").run()
    finally:
        if created:
            shutil.rmtree(created, ignore_errors=True)
    return 0
