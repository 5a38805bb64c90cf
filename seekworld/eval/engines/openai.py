"""Any OpenAI-compatible chat endpoint with image input (`vllm serve`, hosted APIs).

Requests run concurrently (at most `concurrency` in flight), each with a timeout; timeouts,
connection errors, 429 and 5xx replies are retried with exponential backoff; other 4xx replies are
not (the request itself is wrong). A request that still fails comes back with `error` set, and the
runner leaves it out of `predictions.jsonl` so a rerun tries it again. `--engine-arg name=value`
pairs go into the request body (e.g. vLLM's `top_k`, `repetition_penalty`).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from seekworld.eval.engines import EngineOptions, EngineUnavailable, GenParams, Output, Request
from seekworld.eval.rows import to_messages

__all__ = ["OpenAIEngine"]

_MAX_BACKOFF_S = 30.0


class OpenAIEngine:
    def __init__(self, options: EngineOptions) -> None:
        try:
            import openai
        except ImportError as exc:
            raise EngineUnavailable("the openai engine needs the openai client: pip install openai") from exc
        self._openai = openai
        if options.api_key_env:
            key = os.environ.get(options.api_key_env)
            if not key:
                raise EngineUnavailable(
                    f"environment variable {options.api_key_env} (--api-key-env) is not set"
                )
        else:
            # A local `vllm serve` needs no key, but the client insists on one.
            key = os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.options = options
        self.client = openai.OpenAI(
            base_url=options.base_url, api_key=key, timeout=options.timeout_s, max_retries=0
        )
        self.extra_body = dict(options.engine_args) or None

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
        openai = self._openai
        start = time.perf_counter()
        delay = self.options.retry_backoff_s
        attempts = 0
        try:
            args = self._request_args(row, params)
        except (OSError, ValueError) as exc:
            return Output(request.index, request.sample, None, 0.0, error=f"cannot build request: {exc}")
        while True:
            attempts += 1
            try:
                reply = self.client.chat.completions.create(**args)
                choice = reply.choices[0]
                return Output(
                    request.index,
                    request.sample,
                    choice.message.content or "",
                    time.perf_counter() - start,
                    finish_reason=choice.finish_reason,
                    attempts=attempts,
                )
            except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
                # APITimeoutError is an APIConnectionError: all of these may pass on a retry.
                error = f"{type(exc).__name__}: {exc}"
                if attempts > self.options.retries:
                    break
                time.sleep(delay * (1 + 0.25 * random.random()))
                delay = min(2 * delay, _MAX_BACKOFF_S)
            except openai.APIStatusError as exc:
                error = f"HTTP {exc.status_code}: {exc.message}"
                break
        return Output(
            request.index, request.sample, None, time.perf_counter() - start, error=error, attempts=attempts
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
