"""`seekworld train --backend trl`: preflight, then train (or only the preflight with `--dry-run`)."""

from __future__ import annotations

import json

from seekworld.integrations.trl.backend import train
from seekworld.integrations.trl.preflight import check_trl
from seekworld.train.config import TrainConfig
from seekworld.train.preflight.common import format_report

__all__ = ["run_trl"]


def run_trl(config: TrainConfig, dry_run: bool = False, sample: int | None = None) -> int:
    """Preflight, then train. Returns the exit code."""
    results = check_trl(config, sample)
    print(format_report(results), flush=True)
    passed = all(r.ok for r in results)
    if dry_run:
        print("dry run: " + ("every check passed" if passed else "fix the failed checks above"))
        return 0 if passed else 1
    if not passed:
        print("seekworld train: not starting: fix the failed checks above", flush=True)
        return 1
    summary = train(config)
    print(json.dumps(summary), flush=True)
    return 0
