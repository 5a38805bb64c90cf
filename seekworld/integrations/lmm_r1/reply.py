"""The shape lmm-r1 takes back from a reward file: a dict of tensors (old) or one tensor (current).

lmm-r1 runs the file's `reward_func` as a Ray task per micro-batch, and its two lines of releases
read the result differently:

- **dict** — lmm-r1 0.6.1–0.6.2, the copy inside SeekWorld's repository: a dict is accepted, its
  `rewards` popped as the reward and every other key logged; a bare tensor is accepted too.
- **tensor** — lmm-r1 since its March 2025 sync with OpenRLHF (0.6.3.post2 … 0.7.x, TideDra/lmm-r1
  main): the per-micro-batch results are concatenated with `torch.cat`, so only a tensor works (a
  dict fails with "expected Tensor as element 0 ... but got dict"). The logs are lost.

`SEEKWORLD_LMM_R1_REPLY=dict|tensor` chooses; `auto` (the default) reads the installed lmm-r1's
experience maker (the `openrlhf` package in the Ray worker, never imported here) and answers `dict`
only when that file pops `rewards` out of the reward result, else `tensor`, which both accept.
Version numbers cannot tell them apart: lmm-r1 merged OpenRLHF's history, whose 0.6.0.post2 and
0.6.3.post1 already took tensors while lmm-r1's own 0.6.2 took dicts.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError

__all__ = [
    "ENV_VAR",
    "SHAPES",
    "ReplyShapeError",
    "detect_shape",
    "installed_experience_maker",
    "resolve_shape",
    "shaped",
]

ENV_VAR = "SEEKWORLD_LMM_R1_REPLY"
SHAPES = ("auto", "dict", "tensor")
# The old experience maker takes the reward out of a dict result: `r.pop('rewards')`.
_POPS_REWARDS = re.compile(r"""\.pop\(\s*["']rewards["']\s*\)""")


class ReplyShapeError(SeekworldError, ValueError):
    """An unknown SEEKWORLD_LMM_R1_REPLY value."""


def detect_shape(experience_maker_source: str | None) -> str:
    """`dict` when the experience maker's source pops `rewards` from a reward result, else `tensor`
    (also when the source could not be read: a tensor works with every lmm-r1)."""
    if experience_maker_source and _POPS_REWARDS.search(experience_maker_source):
        return "dict"
    return "tensor"


def installed_experience_maker() -> str | None:
    """The text of the installed `openrlhf/trainer/ppo_utils/experience_maker.py` (lmm-r1 installs
    as `openrlhf`), found without importing the package; None when it is not there."""
    try:
        spec = importlib.util.find_spec("openrlhf")
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "trainer" / "ppo_utils" / "experience_maker.py"
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return None


def resolve_shape(setting: str | None) -> tuple[str, str]:
    """(shape, why) for a SEEKWORLD_LMM_R1_REPLY value (None or "" = auto). Raises ReplyShapeError."""
    value = (setting or "auto").strip().lower()
    if value not in SHAPES:
        raise ReplyShapeError(f"{ENV_VAR}={setting!r}: use one of {', '.join(SHAPES)}")
    if value != "auto":
        return value, f"{ENV_VAR}={value}"
    source = installed_experience_maker()
    shape = detect_shape(source)
    if source is None:
        return shape, "no installed lmm-r1 (openrlhf) found: a tensor, which every lmm-r1 accepts"
    if shape == "dict":
        return shape, "the installed lmm-r1 pops 'rewards' from a dict result (0.6.1-0.6.2): logs kept"
    return shape, "the installed lmm-r1 concatenates tensors (0.6.3.post2 and later): logs dropped"


def shaped(flat: Mapping[str, Sequence[float]], shape: str) -> Any:
    """A flat reply (`rewards`, `scores`, one list per log) as lmm-r1 takes it: a dict of 1-D float
    tensors, or the `rewards` tensor alone."""
    import torch

    if shape == "tensor":
        return torch.tensor(list(flat["rewards"]), dtype=torch.float32)
    return {key: torch.tensor(list(values), dtype=torch.float32) for key, values in flat.items()}
