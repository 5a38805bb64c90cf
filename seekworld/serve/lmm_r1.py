"""What lmm-r1 (the OpenRLHF 0.6 fork SeekWorld trained with) needs from the reward service.

Its HTTP client posts `{"query", "prompts", "labels"}` per micro-batch, then turns every top-level
value of the reply into a tensor, so the reply must be flat: `rewards`, `scores` and each log as a
top-level list of numbers (`flat_reply`). SeekWorld's lmm-r1 script passes no `--label_key`, so
labels arrive empty; like SeekWorld's own server, the label is then looked up by the prompt (the
training row's `message` string, sent as is) in the training JSONL (`PromptLabels`).

Framework-free: the HTTP app and the lmm-r1 reward file both use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.io.files import iter_jsonl, json_error

__all__ = ["PROTOCOLS", "LabelLookupError", "PromptLabels", "fill_labels", "flat_reply"]

PROTOCOLS = ("openrlhf", "lmm-r1")


class LabelLookupError(SeekworldError, ValueError):
    """A sample has no label and none can be found by its prompt."""


def flat_reply(reply: Mapping[str, Any]) -> dict[str, list[float]]:
    """`{"rewards", "scores", "extra_logs": {k: [...]}}` -> `{"rewards", "scores", k: [...], ...}`.

    A log named like a top-level key would overwrite it: it is kept as `log_<name>` instead.
    """
    out: dict[str, list[float]] = {"rewards": list(reply["rewards"])}
    out["scores"] = list(reply.get("scores", reply["rewards"]))
    for key, values in reply.get("extra_logs", {}).items():
        out[f"log_{key}" if key in out else key] = list(values)
    return out


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
