"""Checks run before training starts (and alone with `--dry-run`).

- `common`: what both backends check (data, images, model folder, outputs, logging, the judge) and
  the `CheckResult` report.
- `openrlhf`: the OpenRLHF launch's checks (reward endpoint, upstream's flags, agent file, GPUs,
  packages) and `run_preflight`.
The TRL backend's own checks live with it (`seekworld.integrations.trl.preflight`).
"""

from seekworld.train.preflight.common import CheckResult, format_report
from seekworld.train.preflight.openrlhf import check_environment, run_preflight

__all__ = ["CheckResult", "check_environment", "format_report", "run_preflight"]
