"""Flask app of the reward server: a thin adapter over RewardService.

Routes:
    POST /get_reward  upstream OpenRLHF's protocol ({"query","prompts","labels"} -> rewards dict),
                      or lmm-r1's (`protocol="lmm-r1"`: a flat reply; see seekworld.service.wire)
    GET  /health      200 + variant and version
    GET  /metrics     Prometheus text

Rejections are JSON `{"error": "..."}`: 400 (not JSON, missing keys, lists of different lengths,
wrong types, JSON nested too deeply), 401 (token), 408 (body not received in time), 413 (body over
the limit, or more samples than `max_samples`). A well-formed request always gets numbers:
samples that cannot be scored score 0 and are counted.

The gunicorn worker (`seekworld.serve.worker`) uses two hooks in `app.extensions["seekworld"]`:
`refused(status, reason, message, client)` for the answers it gives itself (408 for a slow client,
gunicorn's 400/414/431), counted and logged like the app's; `stop(answer_by)` at SIGTERM, so the
judge gives up in time for the requests in flight to be answered.

The token, when set, is accepted as `Authorization: Bearer T` or as `?token=T` in the URL, since
upstream's client sends no headers: `--reward.remote_url http://host:5000/get_reward?token=T`.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from seekworld.serve.metrics import Metrics
from seekworld.serve.refusals import RefusalLog
from seekworld.service.service import RewardService
from seekworld.service.settings import ServerOptions, ServiceConfig
from seekworld.service.wire import LabelLookupError, PromptLabels, RequestError, fill_labels, validate_payload

__all__ = ["create_app", "set_arrival"]

log = logging.getLogger(__name__)


def _error(status: int, message: str, reason: str) -> tuple[Response, int]:
    g.error_reason, g.error_message = reason, message
    return jsonify(error=message), status


_arrival = threading.local()


def set_arrival(when: float | None) -> None:
    """Called by the gunicorn worker (seekworld.serve.worker) with the request's arrival time."""
    _arrival.value = when


def _arrived() -> float:
    when = getattr(_arrival, "value", None)
    return when if when is not None else time.monotonic()


class _SlowBody(Exception):
    pass


class _Refused(Exception):
    """A request answered with a 4xx: status, the message the client gets, the reason counted."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


def _read_limited(stream: Any, limit: int, deadline: float) -> bytes:
    """Up to `limit` bytes; raises _SlowBody past `deadline` (each read is also bounded by the
    socket's timeout, set by the worker), so a trickling client cannot hold a thread."""
    chunks, size = [], 0
    while size < limit:
        if time.monotonic() > deadline:
            raise _SlowBody
        chunk = stream.read(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _authorised(token: bytes | None) -> bool:
    if token is None:
        return True
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else request.args.get("token", "")
    return hmac.compare_digest(given.encode(), token)


def _payload(options: ServerOptions) -> tuple[list[str], list[str], list[Any]]:
    """The request's (queries, prompts, labels), read within the body limits. Raises _Refused."""
    limit, timeout_s = options.max_body_bytes, options.body_timeout_s
    too_large = _Refused(413, f"body over the limit of {limit} bytes", "too_large")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # Chunked bodies too: werkzeug would cut one at the limit silently; read one byte past it.
    stream = request.stream if request.content_length is not None else request.environ["wsgi.input"]
    try:
        # From now, not from arrival: time queued for a thread is not the client's fault.
        body = _read_limited(stream, limit + 1, time.monotonic() + timeout_s)
    except (_SlowBody, TimeoutError):
        raise _Refused(408, f"body not received within {timeout_s:g} s", "slow_body") from None
    if len(body) > limit:
        raise too_large
    try:
        payload = json.loads(body)
    except RecursionError:
        raise _Refused(400, "invalid JSON: nested too deeply", "invalid_json") from None
    except ValueError as exc:
        raise _Refused(400, f"invalid JSON: {exc}", "invalid_json") from None
    try:
        queries, prompts, labels = validate_payload(payload)
    except RequestError as exc:
        raise _Refused(400, str(exc), "bad_request") from None
    if len(queries) > options.max_samples:
        message = f"{len(queries)} samples in one request, over the limit of {options.max_samples}"
        raise _Refused(413, message, "too_many_samples")
    return queries, prompts, labels


def _json_errors(app: Flask, max_body_bytes: int) -> None:
    """Flask's own error answers as JSON: a 4xx with its reason, a 500 without details."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        if status == 413:
            message = f"body over the limit of {max_body_bytes} bytes"
        else:
            message = exc.description or exc.name
        return _error(status, message, "too_large" if status == 413 else str(status))

    @app.errorhandler(Exception)
    def _internal_error(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return _error(500, f"internal error: {type(exc).__name__}", "internal")


def create_app(
    config: ServiceConfig,
    options: ServerOptions,
    service: RewardService | None = None,
    prompt_labels: PromptLabels | None = None,
) -> Flask:
    """Build the app (one per process: it owns the judge client and the audit file).

    `options.protocol == "lmm-r1"` answers flat and refuses (400) an empty label it cannot look
    up; `prompt_labels` (from `--dataset`) fills empty labels by prompt under either protocol.
    """
    protocol, max_body_bytes = options.protocol, options.max_body_bytes
    app = Flask("seekworld.serve")
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    metrics = Metrics()
    service = service or RewardService(
        config,
        on_samples=metrics.observe_samples,
        on_judge_result=metrics.observe_judge,
        on_audit_error=metrics.audit_errors.inc,
    )
    token = options.token.encode() if options.token else None
    refusals = RefusalLog(log)  # each refusal's reason in the server's log, rate-limited

    def refused(status: int, reason: str, message: str, client: str | None) -> None:
        metrics.requests.labels(str(status)).inc()
        metrics.errors.labels(reason).inc()
        refusals.note(status, reason, message, client)

    app.extensions["seekworld"] = {
        "service": service,
        "metrics": metrics,
        "refused": refused,
        "stop": service.stop_by,
    }

    @app.before_request
    def _start() -> None:
        g.start = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        if request.path == "/get_reward":
            metrics.requests.labels(str(response.status_code)).inc()
            metrics.latency.observe(time.perf_counter() - g.get("start", time.perf_counter()))
            if response.status_code >= 400:
                reason = g.get("error_reason", str(response.status_code))
                metrics.errors.labels(reason).inc()
                refusals.note(response.status_code, reason, g.get("error_message", ""), request.remote_addr)
        return response

    _json_errors(app, max_body_bytes)

    @app.post("/get_reward")
    def get_reward() -> Any:
        arrival = _arrived()
        try:
            if not _authorised(token):
                raise _Refused(401, "missing or wrong token", "unauthorised")
            queries, prompts, labels = _payload(options)
            if protocol == "lmm-r1" or prompt_labels is not None:
                try:
                    labels = fill_labels(prompts, labels, prompt_labels)
                except LabelLookupError as exc:
                    raise _Refused(400, str(exc), "no_label") from None
        except _Refused as refused:
            return _error(refused.status, refused.message, refused.reason)
        return jsonify(service.reply(queries, prompts, labels, protocol, arrival=arrival))

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok", **config.describe())

    @app.get("/metrics")
    def prometheus() -> Response:
        data, content_type = metrics.render()
        return Response(data, content_type=content_type)

    return app
