"""Grow the trace set: a strong VLM solves prepared samples through the zoom protocol, and the
episodes whose final answer scores 1 are kept as traces (rejection sampling).

    stats = collect(rows, "traces.jsonl", CollectConfig(model="gpt-4o", base_url=...))

For each prepared row (`seekworld prepare ... --label-format json`, so the label names the image),
up to `tries` episodes are played: the engine gets the zoom system prompt, the row's question and
photo; each zoom turn is carried out by the same `ZoomEpisode` and `crop` the RL agent uses, and
the crop comes back as an image with the agent's observation text. An episode is kept when its
accuracy is 1, its multi-turn format is 1 and it made at least `min_zooms` crops. Kept traces are
appended to the output as they come (JSONL, `seekworld.traces.schema`); a rerun skips the ids
already there.

Engines are registered by name in `TRACE_ENGINES`; "openai" is any OpenAI-compatible chat endpoint
(OpenAI, vLLM, SGLang, ...). The stop string `</zoom>` ends zoom turns; OpenAI-style APIs drop the
stop string from the text, so it is put back.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from seekworld.errors import UsageError
from seekworld.geo.label import LabelError, parse_label
from seekworld.io.files import iter_jsonl, json_error
from seekworld.io.images import data_url
from seekworld.io.openai_client import make_client, retrying
from seekworld.registry import Registry
from seekworld.rewards.variants import RewardConfig
from seekworld.traces.schema import Trace, TraceError, trace_from_turns
from seekworld.zoom.crop import check_box, crop, load_image
from seekworld.zoom.protocol import (
    STOP,
    ZOOM_CLOSE,
    ZOOM_OPEN,
    Box,
    Refusal,
    ZoomConfig,
    ZoomEpisode,
    system_prompt,
)
from seekworld.zoom.reward import score_episode

__all__ = ["TRACE_ENGINES", "CollectConfig", "Engine", "OpenAITraceEngine", "collect", "play_episode"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectConfig:
    model: str
    base_url: str | None = None  # None: the client's default (OPENAI_BASE_URL or api.openai.com)
    api_key: str | None = field(default=None, repr=False)
    engine: str = "openai"
    temperature: float = 0.7
    max_tokens: int = 2048  # per turn
    tries: int = 4  # episodes per sample until one is kept
    workers: int = 8  # samples in flight
    min_zooms: int = 1  # a trace without a crop teaches no clue tracking
    timeout_s: float = 120.0
    limit: int | None = None  # samples to try (after skipping those already collected)
    zoom: ZoomConfig = field(default_factory=ZoomConfig)

    def __post_init__(self) -> None:
        if self.tries < 1 or self.workers < 1 or self.min_zooms < 0 or self.max_tokens < 1:
            raise UsageError("tries, workers and max_tokens must be >= 1, min_zooms >= 0")


class Engine(Protocol):
    def complete(self, messages: list[dict[str, Any]], stop: list[str]) -> str:
        """The assistant's next turn for a chat, generation stopped at any of `stop`."""


class OpenAITraceEngine:
    """An OpenAI-compatible chat-completions endpoint. `client` may be injected (tests)."""

    def __init__(self, config: CollectConfig, client: Any = None) -> None:
        self.config = config
        if client is None:
            client = make_client(config.base_url, api_key=config.api_key, timeout_s=config.timeout_s)
        self.client = client

    def complete(self, messages: list[dict[str, Any]], stop: list[str]) -> str:
        # The client's own default was 2 retries; the same policy, now through the shared helper.
        reply, _ = retrying(
            lambda timeout: self.client.chat.completions.create(
                model=self.config.model,
                messages=messages,
                stop=stop,
                temperature=self.config.temperature,
                max_tokens=self.config.max_tokens,
                timeout=timeout,
            ),
            retries=2,
            backoff_s=0.5,
            timeout_s=self.config.timeout_s,
        )
        choice = reply.choices[0]
        text = choice.message.content or ""
        # The API drops the stop string: a turn that opened a zoom and stopped was a zoom turn.
        if choice.finish_reason == "stop" and text.count(ZOOM_OPEN) > text.count(ZOOM_CLOSE):
            text = text.rstrip() + ZOOM_CLOSE
        return text


TRACE_ENGINES: Registry[Callable[[CollectConfig], Engine]] = Registry("trace engine")
TRACE_ENGINES.register("openai", OpenAITraceEngine)


def _image_part(image: Any) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": data_url(image)}}


def _question(row: dict[str, Any]) -> str:
    for message in row.get("prompt") or []:
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"].replace("<image>", "").strip()
    from seekworld.prepare.prompts import DEFAULT_QUESTION

    return DEFAULT_QUESTION


@dataclass
class Attempt:
    episode: ZoomEpisode
    accuracy: float
    format: float
    reason: str | None  # why it was not kept


def play_episode(engine: Engine, row: dict[str, Any], config: CollectConfig) -> Attempt:
    """One episode of the zoom protocol against `engine` on a prepared row."""
    gold = parse_label(row["label"])
    original = load_image(gold.image or row["images"][0])
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system_prompt(config.zoom)},
        {"role": "user", "content": [_image_part(original), {"type": "text", "text": _question(row)}]},
    ]
    episode = ZoomEpisode(config.zoom)
    tiles: list[Any] = []  # the crop of the current turn, if one was made

    def check(box: Box) -> Refusal | None:
        refusal = check_box(box, original.size, config.zoom)
        if refusal is None:
            tiles.append(crop(original, box, config.zoom))
        return refusal

    while not episode.done:
        text = engine.complete(messages, [STOP])
        tiles.clear()
        step = episode.step(text, check)
        messages.append({"role": "assistant", "content": step.turn})
        if step.done:
            break
        content = [_image_part(t) for t in tiles] + [{"type": "text", "text": step.observation}]
        messages.append({"role": "user", "content": content})
    score = score_episode(episode, gold, RewardConfig.from_variant("rule"), config.zoom)
    accuracy, fmt = score.logs["accuracy"], score.logs["format"]
    reason = None
    if accuracy < 1.0:
        reason = "wrong_answer"
    elif fmt < 1.0:
        reason = "bad_format"
    elif episode.zoom_calls < config.min_zooms:
        reason = "too_few_zooms"
    return Attempt(episode, accuracy, fmt, reason)


def _trace(row: dict[str, Any], attempt: Attempt, config: CollectConfig, index: int) -> Trace:
    steps, answer = trace_from_turns(attempt.episode.turns)
    gold = parse_label(row["label"])
    label = row["label"]
    if isinstance(label, str) and label.strip().startswith("{"):
        label = json.loads(label)
    return Trace(
        id=str(row.get("id")),
        origin=f"{config.engine}:{config.model}",
        image=gold.image or row["images"][0],
        label=label,
        steps=steps,
        answer=answer,
        difficulty=row.get("difficulty"),
        source=f"{config.engine}:{config.model}",
        extra={"attempt": index},
    )


def _done_ids(path: Path) -> set[str]:
    if not path.exists():
        return set()
    ids = set()
    for _, obj in iter_jsonl(path):
        if isinstance(obj, dict) and "id" in obj:  # a line cut short by a crash is skipped
            ids.add(str(obj["id"]))
    return ids


def collect(
    rows: Iterable[dict[str, Any]],
    output: str | Path,
    config: CollectConfig,
    engine: Engine | None = None,
    progress: Callable[[Counter], None] | None = None,
) -> Counter:
    """Play up to `config.tries` episodes per row, append kept traces to `output`. Returns counts:
    samples, kept, skipped (already collected), attempts, and one count per rejection reason."""
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    engine = engine if engine is not None else TRACE_ENGINES.get(config.engine)(config)
    done = _done_ids(out)
    stats: Counter = Counter()
    todo: list[dict[str, Any]] = []
    for row in rows:
        if str(row.get("id")) in done:
            stats["skipped"] += 1
            continue
        if config.limit is not None and len(todo) >= config.limit:
            break
        todo.append(row)
    lock = threading.Lock()

    def work(row: dict[str, Any]) -> None:
        local: Counter = Counter(samples=1)
        kept = None
        for i in range(config.tries):
            local["attempts"] += 1
            try:
                attempt = play_episode(engine, row, config)
            except LabelError as exc:
                log.warning("sample %s: unreadable label: %s", row.get("id"), exc)
                local["label_error"] += 1
                break  # no retry helps
            except Exception as exc:  # the engine's own errors (HTTP, timeouts), an unreadable photo
                log.warning("sample %s: %s: %s", row.get("id"), type(exc).__name__, exc)
                local["error"] += 1
                continue
            if attempt.reason is not None:
                local[attempt.reason] += 1
                continue
            try:
                kept = _trace(row, attempt, config, i)
            except TraceError as exc:
                local["bad_format"] += 1
                log.warning("sample %s: %s", row.get("id"), exc)
                continue
            break
        with lock:
            if kept is not None:
                local["kept"] += 1
                with out.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(kept.to_json(), ensure_ascii=False) + "\n")
            stats.update(local)
            if progress is not None:
                progress(stats)

    with ThreadPoolExecutor(max_workers=config.workers) as pool:
        list(pool.map(work, todo))
    return stats


def read_rows(paths: Sequence[str | Path]) -> Iterable[dict[str, Any]]:
    """Rows of prepared JSONL splits. Every file is checked before the first row is read, and a
    line that is not a JSON object raises `TraceError` naming its file and line."""
    for path in paths:
        if not Path(path).is_file():
            raise TraceError(f"input {path} does not exist or is not a file")
    return _rows(paths)


def _rows(paths: Sequence[str | Path]) -> Iterable[dict[str, Any]]:
    for path in paths:
        for lineno, obj in iter_jsonl(path):
            if isinstance(obj, ValueError):
                raise TraceError(f"{path}:{lineno}: {json_error(obj)}")
            if not isinstance(obj, dict):
                raise TraceError(f"{path}:{lineno}: not a JSON object")
            yield obj
