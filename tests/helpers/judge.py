"""A judge client config for tests: the settings table's defaults, with some fields replaced."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from seekworld.rewards.judge import JudgeConfig
from seekworld.service.settings import RewardSettings


def judge_config(url: str = "http://127.0.0.1:9/v1", model: str = "m", **fields: Any) -> JudgeConfig:
    """`JudgeConfig` as `seekworld serve --judge-url URL --judge-model MODEL` builds it, then `fields`
    (JudgeConfig's own names: timeout_s, retries, ...) replaced; `replace` re-runs its checks."""
    base = RewardSettings(reward="rule+judge", judge_url=url, judge_model=model).judge_config()
    return replace(base, **fields)
