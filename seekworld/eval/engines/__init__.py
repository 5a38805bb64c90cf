"""Generation engines for `seekworld eval`, `predict` and the demo.

    engine = create_engine(EngineOptions(engine="openai", model="gpt-4o", base_url=...))
    for out in engine.generate(rows, [Request(0, 0), Request(1, 0)], GenParams()):
        ...  # Output(index, sample, text, latency_s, ...), in completion order

An engine turns (row, sample number) requests into texts; it yields each output as soon as it has
it, so the runner can write and resume sample by sample. Rows become chat messages through
`seekworld.eval.rows.to_messages` in every engine (the training prompt). Engines are registered
by name and imported lazily: `vllm`, `transformers`, `openai` need their own libraries.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from seekworld.errors import SeekworldError, UsageError
from seekworld.registry import Registry

__all__ = [
    "ENGINES",
    "Engine",
    "EngineOptions",
    "EngineUnavailable",
    "GenParams",
    "Output",
    "Request",
    "create_engine",
    "parse_engine_args",
    "sample_seed",
]


class EngineUnavailable(SeekworldError, RuntimeError):
    """The engine's library (or hardware) is missing; the message says what to install or use."""


@dataclass(frozen=True)
class GenParams:
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    max_new_tokens: int = 2048
    seed: int = 0  # per-sample seeds derive from it (see sample_seed)


@dataclass(frozen=True)
class Request:
    index: int  # row index in the rows passed to generate()
    sample: int  # 0..K-1


@dataclass(frozen=True)
class Output:
    index: int
    sample: int
    text: str | None  # None when the request failed (see error)
    latency_s: float
    finish_reason: str | None = None  # "stop", "length", ...
    error: str | None = None
    attempts: int = 1


@dataclass(frozen=True)
class EngineOptions:
    engine: str
    model: str
    base_url: str | None = None  # openai
    api_key_env: str | None = None  # openai: name of the variable holding the key
    concurrency: int = 8  # openai: requests in flight; transformers: rows per batch
    timeout_s: float = 300.0  # openai: per request
    retries: int = 4  # openai: extra tries after a timeout, connection error, 429 or 5xx
    retry_backoff_s: float = 1.0  # openai: first wait between tries (doubles, at most 30 s)
    device: str | None = None  # transformers: "cuda", "cpu" (default: cuda when available)
    dtype: str | None = None  # transformers: "bfloat16", "float32", ... (default: bf16 on GPU)
    engine_args: tuple[tuple[str, Any], ...] = field(default_factory=tuple)  # passed through
    progress: bool = True  # the libraries' own bars while a model loads (--no-progress: none)


class Engine(Protocol):
    def generate(
        self, rows: Sequence[dict], requests: Sequence[Request], params: GenParams
    ) -> Iterator[Output]:
        """Outputs for the requests, in completion order."""
        ...

    def stream(self, row: dict, params: GenParams) -> Iterator[str]:
        """Text pieces of one response as they are generated (the demo)."""
        ...

    def close(self) -> None: ...


ENGINES: Registry[str] = Registry("engine")
ENGINES.register("openai", "seekworld.eval.engines.openai:OpenAIEngine")
ENGINES.register("transformers", "seekworld.eval.engines.transformers:TransformersEngine")
ENGINES.register("vllm", "seekworld.eval.engines.vllm:VLLMEngine")


def create_engine(options: EngineOptions) -> Engine:
    """Build the named engine (imports its library now). Raises KeyError, EngineUnavailable."""
    module, _, cls = ENGINES.get(options.engine).partition(":")
    return getattr(importlib.import_module(module), cls)(options)


def check_model_reachable(model: str, timeout_s: float = 3.0) -> None:
    """Fail in seconds, not minutes of hub retries, when `model` is a hub id that is neither in the
    local Hugging Face cache nor downloadable (offline mode, or the hub does not answer).

    A local folder, a cached model and an unknown form of name pass: loading says what is wrong.
    """
    if Path(model).exists():
        return
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:
        return
    try:
        cached = try_to_load_from_cache(model, "config.json")
    except ValueError:  # not a repo id (HFValidationError): from_pretrained explains
        return
    if isinstance(cached, str):
        return
    fix = "download it where there is a network (`hf download MODEL`) or pass a local folder to --model"
    if constants.HF_HUB_OFFLINE:
        raise EngineUnavailable(
            f"{model} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: {fix}"
        )
    url = urlsplit(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname or "", port), timeout=timeout_s).close()
    except OSError as exc:
        raise EngineUnavailable(
            f"{model} is not in the local Hugging Face cache and the hub at {constants.ENDPOINT} cannot "
            f"be reached ({exc.strerror or exc}): {fix}"
        ) from None


def sample_seed(seed: int, row_id: str, sample: int) -> int:
    """A seed for one (row, sample): the same whatever the batch, order or resume point."""
    digest = hashlib.sha1(f"{seed}:{row_id}:{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def parse_engine_args(items: Sequence[str]) -> tuple[tuple[str, Any], ...]:
    """['tensor_parallel_size=2', 'max_model_len=8192'] -> (('tensor_parallel_size', 2), ...).
    Values are read as JSON when they parse (numbers, true/false, objects), else kept as strings."""
    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"engine argument {item!r} must look like name=value")
        try:
            parsed: Any = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        out.append((name.strip(), parsed))
    return tuple(out)
