"""`OUTPUT/metrics.jsonl`: one JSON object per logged training step, written as training goes, and
one per held-out evaluation (its step and the `eval_*` keys)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

__all__ = ["MetricsWriter", "eval_row", "metrics_row"]


def metrics_row(step: int, logs: dict[str, Any], components: list[str]) -> dict[str, Any]:
    """TRL's log dict -> our row: step, reward, one key per component mean, then TRL's numbers."""
    row: dict[str, Any] = {"step": step, "reward": logs.get("reward")}
    for name in components:
        row[name] = logs.get(f"rewards/{name}/mean")
    for key, value in logs.items():
        if isinstance(value, (int, float)) and key not in row and math.isfinite(value):
            row[key] = value
    return row


def eval_row(step: int, logs: dict[str, Any]) -> dict[str, Any] | None:
    """An evaluation's log dict -> our row (step and the finite `eval_*` numbers), or None."""
    values = {
        k: v
        for k, v in logs.items()
        if k.startswith("eval_") and isinstance(v, (int, float)) and math.isfinite(v)
    }
    return {"step": step, **values} if values else None


class MetricsWriter(TrainerCallback):
    """Appends a row per training log (the ones carrying `reward`) and per evaluation on the main
    process."""

    def __init__(self, path: str | Path, components: list[str]) -> None:
        self.path = Path(path)
        self.components = components

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        if not logs or not state.is_world_process_zero:
            return
        if "reward" in logs:
            row: dict[str, Any] | None = metrics_row(state.global_step, logs, self.components)
        else:
            row = eval_row(state.global_step, logs)
        if row is None:
            return
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
