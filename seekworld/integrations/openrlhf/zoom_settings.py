"""Everything the zoom environment is configured by, read from the environment in one place.

    settings = ZoomSettings.from_env()     # SEEKWORLD_ZOOM_* and the reward service's SEEKWORLD_*

Lives here, not in the agent file: upstream loads the agent file without registering it in
`sys.modules`, and a dataclass defined in such a module cannot be built (dataclasses looks its
module up there to resolve string annotations).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from seekworld.chat import QWEN, ChatTemplate
from seekworld.rewards.variants import RewardConfig
from seekworld.zoom.protocol import ZoomConfig

__all__ = ["ZoomSettings"]


@dataclass(frozen=True)
class ZoomSettings:
    zoom: ZoomConfig
    reward: RewardConfig
    judge: Any = None  # seekworld.rewards.judge.JudgeConfig, when the variant weighs the judge
    markers: ChatTemplate = QWEN

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ZoomSettings:
        """SEEKWORLD_ZOOM_* (`ZoomConfig.from_env`) and SEEKWORLD_REWARD, SEEKWORLD_WEIGHTS,
        SEEKWORLD_JUDGE_* (the reward-service settings table). Raises ValueError."""
        from seekworld.service.settings import ServiceConfig

        service = ServiceConfig.from_env(env)
        return cls(ZoomConfig.from_env(env), service.reward, service.judge)
