"""Any OpenAI-compatible chat endpoint with image input (`vllm serve`, hosted APIs).

Requests run concurrently (at most `concurrency` in flight), each with a timeout; timeouts,
connection errors, 429 and 5xx replies are retried with exponential backoff; other 4xx replies are
not (the request itself is wrong). A request that still fails comes back with `error` set, and the
runner leaves it out of `predictions.jsonl` so a rerun tries it again. An endpoint that is not
there at all (nothing listens, or it refuses the key) stops the engine at its start instead.
`--engine-arg name=value` pairs go into the request body (e.g. vLLM's `top_k`, `repetition_penalty`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from seekworld.eval.engines import EngineOptions, EngineUnavailable, GenParams, Output, Request
from seekworld.eval.rows import to_messages
from seekworld.io.openai_client import CallFailed, make_client, resolve_api_key, retrying

__all__ = ["PROBE_TIMEOUT_S", "OpenAIEngine"]

PROBE_TIMEOUT_S = 10.0  # the endpoint check at start; a slower answer is not taken as "absent"


class OpenAIEngine:
    def __init__(self, options: EngineOptions) -> None:
        try:
            # --api-key-env names the variable (it must be set); else OPENAI_API_KEY or no key.
            key = resolve_api_key(env=options.api_key_env)
        except ValueError as exc:
            raise EngineUnavailable(f"{exc} (--api-key-env)") from None
        try:
            self.client = make_client(options.base_url, api_key=key, timeout_s=options.timeout_s)
        except ImportError as exc:
            raise EngineUnavailable("the openai engine needs the openai client: pip install openai") from exc
        self.options = options
        self.extra_body = dict(options.engine_args) or None
        self.endpoint = str(self.client.base_url)
        if not options.base_url:  # made only when there is something to send: said once, then
            print(
                f"note: no --base-url: requests go to {self.endpoint}, the openai client's default "
                "($OPENAI_BASE_URL sets another)",
                file=sys.stderr,
                flush=True,
            )
        try:
            self._check_endpoint()
        except EngineUnavailable:
            self.client.close()
            raise

    def _check_endpoint(self) -> None:
        """Stop at once, naming the URL, when the endpoint is not there (nothing listens, the host
        does not resolve) or refuses the key: a configuration error, which retrying every request
        would only make slower. One GET /models, without retries; an endpoint that answers it in
        any other way (even 404: not every server has it) is there, and a slow one is left to the
        requests' own timeouts and retries."""
        import openai

        given = "" if self.options.base_url else " (no --base-url given: the openai client's default)"
        try:
            self.client.models.list(timeout=min(self.options.timeout_s, PROBE_TIMEOUT_S))
        except openai.APITimeoutError:
            return
        except openai.APIConnectionError as exc:
            reason = exc.__cause__ or exc
            raise EngineUnavailable(
                f"cannot connect to {self.endpoint}{given} ({reason}): check that a server answers "
                "there, or pass its URL with --base-url"
            ) from None
        except openai.AuthenticationError as exc:
            raise EngineUnavailable(
                f"{self.endpoint}{given} refused the API key (HTTP {exc.status_code}): name the variable "
                "holding the key with --api-key-env (default OPENAI_API_KEY)"
            ) from None
        except openai.OpenAIError:
            return

    def _request_args(self, row: dict, params: GenParams) -> dict:
        args = {
            "model": self.options.model,
            "messages": to_messages(row, "openai"),
            "temperature": params.temperature,
        }
        # Newer OpenAI models take only max_completion_tokens (pass it with --engine-arg).
        if "max_completion_tokens" not in (self.extra_body or {}):
            args["max_tokens"] = params.max_new_tokens
        if params.top_p != 1.0:
            args["top_p"] = params.top_p
        if self.extra_body:
            args["extra_body"] = self.extra_body
        return args

    def _call(self, request: Request, row: dict, params: GenParams) -> Output:
        start = time.perf_counter()
        try:
            args = self._request_args(row, params)
        except (OSError, ValueError) as exc:
            return Output(request.index, request.sample, None, 0.0, error=f"cannot build request: {exc}")
        try:
            reply, attempts = retrying(
                lambda timeout: self.client.chat.completions.create(timeout=timeout, **args),
                retries=self.options.retries,
                backoff_s=self.options.retry_backoff_s,
                timeout_s=self.options.timeout_s,
            )
        except CallFailed as exc:
            return Output(
                request.index, request.sample, None, time.perf_counter() - start,
                error=_describe(exc), attempts=exc.attempts,
            )  # fmt: skip
        choice = reply.choices[0]
        return Output(
            request.index,
            request.sample,
            choice.message.content or "",
            time.perf_counter() - start,
            finish_reason=choice.finish_reason,
            attempts=attempts,
        )

    def generate(
        self, rows: Sequence[dict], requests: Sequence[Request], params: GenParams
    ) -> Iterator[Output]:
        pool = ThreadPoolExecutor(max_workers=max(1, self.options.concurrency))
        try:
            futures = [pool.submit(self._call, r, rows[r.index], params) for r in requests]
            for future in as_completed(futures):
                yield future.result()
        finally:
            # On Ctrl-C or an early stop, drop what has not started; finished work is already yielded.
            pool.shutdown(wait=False, cancel_futures=True)

    def stream(self, row: dict, params: GenParams) -> Iterator[str]:
        args = self._request_args(row, params)
        for chunk in self.client.chat.completions.create(stream=True, **args):
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    def close(self) -> None:
        self.client.close()


def _describe(exc: CallFailed) -> str:
    """A failed request's `error`: "HTTP 400: message" for a refused request, else the client's
    exception ("APITimeoutError: Request timed out.")."""
    cause = exc.cause
    status = getattr(cause, "status_code", None)
    if status is not None and exc.kind.startswith("http_") and not (status == 429 or status >= 500):
        return f"HTTP {status}: {getattr(cause, 'message', cause)}"
    return f"{type(cause).__name__}: {cause}" if cause is not None else exc.kind
