"""The wire formats of the reward service: what trainers send and what they read back.

Requests (both trainers): `{"query": [...], "prompts": [...], "labels": [...]}` (`validate_payload`).
`query` = decode(prompt ids + response ids, skip_special_tokens=False): the whole chat-templated
prompt (image pads included) followed by the response, often ending in an end-of-turn token;
`extract_response` cuts the response out with the model's chat template (`seekworld.chat`).

Replies, one per protocol (`PROTOCOLS`):
- `openrlhf` (upstream OpenRLHF 0.11.2): `{"rewards", "scores", "extra_logs": {key: [number]}}`.
  `scores` is the outcome, for upstream's dynamic filtering (which keeps prompts whose mean score is
  inside a range, e.g. (0, 1) = "not all wrong, not all right"): accuracy when the variant has it,
  else the distance score, else the reward. `extra_logs` holds numbers only, the same keys for
  every sample of a variant: each component, extras such as `distance_km`, `label_error` (1 when
  the label could not be read), for judge variants `judge_error` (the judge failed; its score
  is 0) and `judge_flagged` (the reasoning addressed the grader; its score is 0), then the
  service's monitors over its window of recent samples (`seekworld.service.monitor`).
- `lmm-r1` (the OpenRLHF 0.6 fork SeekWorld trained with): the same numbers flat, each log a
  top-level list (its client turns every top-level value into a tensor). SeekWorld's lmm-r1 script
  passes no `--label_key`, so labels arrive empty; like SeekWorld's own server, the label is then
  looked up by the prompt (the training row's `message`, sent as is) in the training JSONL
  (`PromptLabels`).

Framework-free: the HTTP app and the reward files all use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seekworld.chat import QWEN, ChatTemplate, content_end
from seekworld.errors import SeekworldError
from seekworld.io.files import iter_jsonl, json_error
from seekworld.registry import Registry
from seekworld.rewards.scoring import SampleScore
from seekworld.rewards.variants import RewardConfig

__all__ = [
    "PROTOCOLS",
    "LabelLookupError",
    "PromptLabels",
    "RequestError",
    "extract_response",
    "fill_labels",
    "flat_reply",
    "openrlhf_reply",
    "validate_payload",
]

REQUIRED_KEYS = ("query", "prompts", "labels")


class RequestError(SeekworldError, ValueError):
    """A request that is not the trainers' shape. The message names the problem."""


class LabelLookupError(SeekworldError, ValueError):
    """A sample has no label and none can be found by its prompt."""


def validate_payload(payload: Any) -> tuple[list[str], list[str], list[Any]]:
    """Check a request body; return (queries, prompts, labels). Raises RequestError.

    Labels may be any JSON value: one that is not a usable label scores 0 (`label_error`), it
    does not reject the batch.
    """
    if not isinstance(payload, dict):
        raise RequestError(f"body must be a JSON object, got {type(payload).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise RequestError(f"missing key(s): {', '.join(missing)} (expected {', '.join(REQUIRED_KEYS)})")
    for k in REQUIRED_KEYS:
        if not isinstance(payload[k], list):
            raise RequestError(f"'{k}' must be a list, got {type(payload[k]).__name__}")
    queries, prompts, labels = (payload[k] for k in REQUIRED_KEYS)
    lengths = {k: len(payload[k]) for k in REQUIRED_KEYS}
    if len(set(lengths.values())) > 1:
        raise RequestError(
            "lists have different lengths: " + ", ".join(f"{k}={n}" for k, n in lengths.items())
        )
    for name, values in (("query", queries), ("prompts", prompts)):
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise RequestError(f"'{name}[{i}]' must be a string, got {type(value).__name__}")
    return queries, prompts, labels


def extract_response(query: str, prompt: str | None = None, template: ChatTemplate | None = None) -> str:
    """The policy's response inside `query`.

    After the last assistant marker when there is one; otherwise after `prompt` when the query
    starts with it; otherwise the whole query. Trailing end-of-turn tokens and whitespace go.
    """
    template = template or QWEN
    cut = -1
    for marker in template.assistant_markers:
        at = query.rfind(marker)
        if at >= 0 and at + len(marker) > cut:
            cut = at + len(marker)
    if cut < 0:
        cut = len(prompt) if prompt and query.startswith(prompt) else 0
    # One slice of the query: cutting the response out and then its end would copy it twice.
    return query[cut : content_end(query, template.end_tokens, cut)]


def _outcome(score: SampleScore) -> float:
    for name in ("accuracy", "distance"):
        if name in score.components:
            return score.components[name]
    return score.reward


def _number(value: float) -> float:
    # JSON has no NaN/inf; a non-finite value would also poison the training step.
    value = float(value)
    return value if math.isfinite(value) else 0.0


def reply_keys(config: RewardConfig) -> list[str]:
    """The `extra_logs` keys of every reply for `config`, in order."""
    keys = [*config.log_keys, "label_error"]
    if config.needs_judge:
        keys += ["judge_error", "judge_flagged"]
    return keys


def _flags(score: SampleScore) -> dict[str, float]:
    """The extra logs that are facts about the sample, not scores: 1.0 or 0.0."""
    judge = score.judge
    return {
        "label_error": 0.0 if score.label_error is None else 1.0,
        "judge_error": 1.0 if judge is not None and judge.error is not None else 0.0,
        "judge_flagged": 1.0 if judge is not None and judge.flagged is not None else 0.0,
    }


def openrlhf_reply(
    scores: Sequence[SampleScore], config: RewardConfig, monitors: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """Upstream OpenRLHF's answer shape; every `extra_logs` value is a float, same keys for every
    sample. `monitors`: the service's window figures, the same for every sample of the request."""
    keys = reply_keys(config)
    extra: dict[str, list[float]] = {k: [] for k in keys}
    for s in scores:
        logs, flags = s.logs, _flags(s)
        for k in keys:
            extra[k].append(_number(flags[k] if k in flags else logs.get(k, 0.0)))
    for key, value in (monitors or {}).items():
        extra[key] = [_number(value)] * len(scores)
    return {
        "rewards": [_number(s.reward) for s in scores],
        "scores": [_number(_outcome(s)) for s in scores],
        "extra_logs": extra,
    }


def flat_reply(reply: Mapping[str, Any]) -> dict[str, list[float]]:
    """`{"rewards", "scores", "extra_logs": {k: [...]}}` -> `{"rewards", "scores", k: [...], ...}`.

    A log named like a top-level key would overwrite it: it is kept as `log_<name>` instead.
    """
    out: dict[str, list[float]] = {"rewards": list(reply["rewards"])}
    out["scores"] = list(reply.get("scores", reply["rewards"]))
    for key, values in reply.get("extra_logs", {}).items():
        out[f"log_{key}" if key in out else key] = list(values)
    return out


Reply = Callable[[Sequence[SampleScore], RewardConfig, Mapping[str, float] | None], dict[str, Any]]
PROTOCOLS: Registry[Reply] = Registry("protocol")
PROTOCOLS.register("openrlhf", openrlhf_reply)
PROTOCOLS.register(
    "lmm-r1", lambda scores, config, monitors=None: flat_reply(openrlhf_reply(scores, config, monitors))
)


def _is_empty(label: Any) -> bool:
    return label is None or (isinstance(label, str) and not label.strip())


@dataclass(frozen=True)
class PromptLabels:
    """Labels of an lmm-r1 training file, keyed by the prompt string as the trainer sends it."""

    path: str
    by_prompt: Mapping[str, str]
    input_key: str = "message"

    @classmethod
    def from_jsonl(cls, path: str, input_key: str = "message", label_key: str = "answer") -> PromptLabels:
        """Read `{input_key: str, label_key: str}` rows. Raises LabelLookupError saying which row is bad.

        A prompt repeated with the same label is fine (difficulty sampling repeats rows); the same
        prompt with two different labels is refused: no answer could say which one was meant.
        """
        by_prompt: dict[str, str] = {}
        try:
            rows = list(iter_jsonl(path))
        except OSError as exc:
            raise LabelLookupError(f"--dataset {path}: cannot read ({exc.strerror})") from None
        for n, row in rows:
            if isinstance(row, ValueError):
                raise LabelLookupError(f"--dataset {path}:{n}: {json_error(row)}") from None
            prompt = row.get(input_key) if isinstance(row, dict) else None
            label = row.get(label_key) if isinstance(row, dict) else None
            if not isinstance(prompt, str) or not isinstance(label, str) or not label.strip():
                raise LabelLookupError(
                    f"--dataset {path}:{n}: needs a string '{input_key}' and a non-empty '{label_key}' "
                    "(lmm-r1 training rows)"
                )
            if by_prompt.setdefault(prompt, label) != label:
                raise LabelLookupError(
                    f"--dataset {path}:{n}: this prompt already has the label {by_prompt[prompt]!r}, "
                    f"not {label!r}"
                )
        if not by_prompt:
            raise LabelLookupError(f"--dataset {path}: no rows")
        return cls(path, by_prompt, input_key)

    def fill(self, prompts: Sequence[str], labels: Sequence[Any]) -> list[Any]:
        """Labels with each empty one replaced by its prompt's. Raises LabelLookupError (-> 400)."""
        out = list(labels)
        for i, label in enumerate(out):
            if _is_empty(label):
                found = self.by_prompt.get(prompts[i])
                if found is None:
                    found = self.by_prompt.get(prompts[i].strip())
                if found is None:
                    raise LabelLookupError(
                        f"labels[{i}] is empty and prompts[{i}] is no '{self.input_key}' of {self.path} "
                        f"(prompt starts {prompts[i][:80]!r})"
                    )
                out[i] = found
        return out


def fill_labels(prompts: Sequence[str], labels: Sequence[Any], index: PromptLabels | None) -> list[Any]:
    """`index.fill`, or, with no dataset, a clear error when a label is empty."""
    if index is not None:
        return index.fill(prompts, labels)
    for i, label in enumerate(labels):
        if _is_empty(label):
            raise LabelLookupError(
                f"labels[{i}] is empty: pass the label field to training (lmm-r1: --label_key answer) "
                "or start the server with --dataset TRAIN.jsonl to look labels up by prompt"
            )
    return list(labels)
