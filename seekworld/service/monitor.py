"""The reward service's collapse and reward-hacking monitors: a window over the samples this
process scored recently (`seekworld.rewards.monitors.Window`), its figures added to every reply's
`extra_logs`, and a warning line in the service's log when one crosses its threshold.

Upstream OpenRLHF averages each `extra_logs` key over a training step, so a figure computed over
a window of recent samples (not each sample alone) reaches its logs as `train/<key>`. Each process
(each gunicorn worker, each rollout worker loading the reward file) keeps its own window.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from seekworld.rewards.monitors import FIGURES, JUDGE_FIGURE, PLACE_PREFIX, MonitorConfig, Watch, observe
from seekworld.rewards.scoring import SampleScore

__all__ = ["CHECK_EVERY", "ServiceMonitor"]

CHECK_EVERY = 16

log = logging.getLogger(__name__)


class ServiceMonitor:
    """Thread-safe; one per RewardService."""

    def __init__(self, config: MonitorConfig, judge: bool) -> None:
        self.config = config
        self.judge = judge
        self._watch = Watch(config, judge)
        self._lock = threading.Lock()
        self._checked = 0  # samples seen at the last check

    def keys(self) -> tuple[str, ...]:
        """The figures every reply carries, in order."""
        judge = (JUDGE_FIGURE,) if self.judge else ()
        return (*FIGURES, *judge, *(PLACE_PREFIX + p for p in self.config.places))

    def update(self, responses: Sequence[str], scores: Sequence[SampleScore]) -> dict[str, float]:
        """Add a request's samples to the window; the window's figures after them. The thresholds
        are checked every `CHECK_EVERY` samples: upstream sends one sample per request, and a
        warning a few samples late costs nothing."""
        observed = [observe(r, s) for r, s in zip(responses, scores, strict=True)]
        with self._lock:
            self._watch.add(observed)
            figures = self._watch.figures()
            seen = self._watch.window.seen
            due = seen - self._checked >= CHECK_EVERY
            if due:
                self._checked = seen
            lines = self._watch.check(f"after {seen} samples", figures) if due else []
        for line in lines:
            log.warning("seekworld monitors: %s", line)
        return figures
