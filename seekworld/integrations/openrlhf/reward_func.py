"""In-process reward for upstream OpenRLHF: `--reward.remote_url <this file>`.

    seekworld reward-func-path   # prints this file's path

Upstream loads this file by path in each rollout worker and calls
`reward_func(queries, prompts, labels)` once per sample from `asyncio.to_thread`; it returns the
same dict as the HTTP server: `{"rewards": [...], "scores": [...], "extra_logs": {...}}`.

Configured by environment variables (read once, when the file is loaded; see
`seekworld.service.settings.ENV_VARS`): SEEKWORLD_REWARD (variant), SEEKWORLD_WEIGHTS,
SEEKWORLD_JUDGE_URL / SEEKWORLD_JUDGE_MODEL / SEEKWORLD_JUDGE_API_KEY, SEEKWORLD_LOG_DIR, ...
A bad setting fails the load, before training starts, with a message saying what to fix.

Thread-safe, and no per-call setup: the service (gazetteer, judge client, audit file) is built
once at load. No Flask here.
"""

from __future__ import annotations

from typing import Any

from seekworld.geo.gazetteer import load_gazetteer
from seekworld.service.service import RewardService
from seekworld.service.settings import ServiceConfig

__all__ = ["SERVICE", "reward_func"]

SERVICE = RewardService(ServiceConfig.from_env())
load_gazetteer()  # pay the table load now, not inside the first rollout


def reward_func(queries: list[str], prompts: list[str], labels: list[Any]) -> dict[str, Any]:
    """Upstream's reward-function hook: rewards, scores and numeric extra_logs for the samples."""
    return SERVICE.reply(queries, prompts, labels, "openrlhf")
