"""In-process reward for lmm-r1: `--remote_rm_url <this file>`.

    python -c "import seekworld.integrations.lmm_r1.reward_func as m; print(m.__file__)"

lmm-r1 loads this file by path, wraps `reward_func(queries, prompts, labels)` in a Ray task per
micro-batch and calls `.pop("rewards").to(device)` on the result, so every value returned here is
a 1-D float tensor: `rewards`, `scores` and each log of the variant (the `lmm-r1` reply of
`seekworld.service.wire`).

Configured like the OpenRLHF reward file, by SEEKWORLD_* variables (seekworld.service.settings.ENV_VARS),
plus SEEKWORLD_DATASET: the lmm-r1 training JSONL, whose `answer` is used when a label arrives empty
(SeekWorld's lmm-r1 script passes no --label_key). Without it an empty label raises, saying so.
Read once, when the file is loaded; a bad setting fails the load, before training starts.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from seekworld.geo.gazetteer import load_gazetteer
from seekworld.service.service import RewardService
from seekworld.service.settings import ServiceConfig
from seekworld.service.wire import PromptLabels, fill_labels

__all__ = ["LABELS", "SERVICE", "reward_func"]

SERVICE = RewardService(ServiceConfig.from_env())
_DATASET = os.environ.get("SEEKWORLD_DATASET")
LABELS = PromptLabels.from_jsonl(_DATASET) if _DATASET else None
load_gazetteer()  # pay the table load now, not inside the first rollout


def reward_func(queries: list[str], prompts: list[str], labels: list[Any]) -> dict[str, torch.Tensor]:
    """lmm-r1's reward-function hook: a float tensor per key, one value per sample."""
    filled = fill_labels(prompts, labels, LABELS)
    reply = SERVICE.reply(queries, prompts, filled, "lmm-r1")
    return {key: torch.tensor(values, dtype=torch.float32) for key, values in reply.items()}
