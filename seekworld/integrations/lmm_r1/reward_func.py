"""In-process reward for lmm-r1: `--remote_rm_url <this file>`.

    python -c "import seekworld.integrations.lmm_r1.reward_func as m; print(m.__file__)"

lmm-r1 loads this file by path and runs `reward_func(queries, prompts, labels)` as a Ray task per
micro-batch. What it takes back depends on its release (seekworld.integrations.lmm_r1.reply): the
copy SeekWorld trained with (0.6.2) pops `rewards` from a dict of 1-D float tensors and logs the
rest (`rewards`, `scores` and each log of the variant: the `lmm-r1` reply of
`seekworld.service.wire`); current lmm-r1 concatenates the results, so there it gets the `rewards`
tensor alone. SEEKWORLD_LMM_R1_REPLY (`auto`, `dict`, `tensor`) chooses; `auto` reads the installed
lmm-r1.

Configured like the OpenRLHF reward file, by SEEKWORLD_* variables (seekworld.service.settings.ENV_VARS),
plus SEEKWORLD_DATASET: the lmm-r1 training JSONL, whose `answer` is used when a label arrives empty
(SeekWorld's lmm-r1 script passes no --label_key). Without it an empty label raises, saying so.
Read once, when the file is loaded; a bad setting fails the load, before training starts.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import torch

from seekworld.geo.gazetteer import load_gazetteer
from seekworld.integrations.lmm_r1.reply import ENV_VAR, resolve_shape, shaped
from seekworld.service.service import RewardService
from seekworld.service.settings import ServiceConfig
from seekworld.service.wire import PromptLabels, fill_labels

__all__ = ["LABELS", "SERVICE", "SHAPE", "reward_func"]

SERVICE = RewardService(ServiceConfig.from_env())
_DATASET = os.environ.get("SEEKWORLD_DATASET")
LABELS = PromptLabels.from_jsonl(_DATASET) if _DATASET else None
SHAPE, _WHY = resolve_shape(os.environ.get(ENV_VAR))
# One line in the worker's log at load, as lmm-r1 prints its own "Loading custom reward_func".
print(f"seekworld lmm-r1 reward file: returns a {SHAPE} ({_WHY})", file=sys.stderr, flush=True)
load_gazetteer()  # pay the table load now, not inside the first rollout


def reward_func(
    queries: list[str], prompts: list[str], labels: list[Any]
) -> dict[str, torch.Tensor] | torch.Tensor:
    """lmm-r1's reward-function hook: one float per sample, as the installed lmm-r1 takes it."""
    filled = fill_labels(prompts, labels, LABELS)
    return shaped(SERVICE.reply(queries, prompts, filled, "lmm-r1"), SHAPE)
