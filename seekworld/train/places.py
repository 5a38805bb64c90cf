"""The places a run reports accuracy for (`accuracy/<id>`), read from its training labels.

    config = with_monitor_places(config)   # monitor.places filled in when it is empty

Both backends call it before training: TRL's reward function and the OpenRLHF launch's reward
server (or reward file) then log the same keys. Regions when the data has few, else the most common
countries (`seekworld.rewards.monitors.monitor_places`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.io.files import iter_jsonl
from seekworld.rewards.monitors import monitor_places
from seekworld.train.config import TrainConfig

__all__ = ["training_labels", "with_monitor_places"]


def training_labels(config: TrainConfig) -> Iterator[GoldLabel]:
    """The readable labels of `data.prompt_data` (rows or labels that cannot be read are skipped:
    the preflight reports them)."""
    key = config["data.label_key"]
    for name in (p.strip() for p in config["data.prompt_data"].split(",") if p.strip()):
        path = Path(name)
        if not path.is_file():
            continue
        try:
            for _, row in iter_jsonl(path):
                if isinstance(row, dict) and key in row:
                    try:
                        yield parse_label(row[key])
                    except LabelError:
                        continue
        except (OSError, UnicodeDecodeError):
            continue


def with_monitor_places(config: TrainConfig) -> TrainConfig:
    """`config` with `monitor.places` filled from the training labels when it is empty."""
    if config["monitor.places"]:
        return config
    return config.replace(monitor__places=",".join(monitor_places(training_labels(config))))
