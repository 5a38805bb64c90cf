"""Where a rerun resumes: the last complete checkpoint under OUTPUT, for either backend.

    trl_checkpoints(output) -> [Checkpoint(path, step, problem)]   # every checkpoint-N, by step
    trl_resume_point(output) -> Checkpoint | None                  # the last complete one
    openrlhf_resume_point(ckpt_dir) -> Checkpoint | None           # ckpt/_actor's `latest` tag
    describe_resume(save_path, backend, load) -> (ok, detail)      # preflight's one line

TRL writes `OUTPUT/checkpoint-N/` (weights, optimizer, scheduler, RNG, `trainer_state.json`
last); our trainer writes each into `OUTPUT/.checkpoint-staging/` and renames it into place
once whole (`seekworld.integrations.trl.checkpoints`), so a `checkpoint-N` without its
`trainer_state.json` was cut off before this rule or damaged since. OpenRLHF writes DeepSpeed
checkpoints `ckpt/_actor/<tag>/` and names the last whole one in `ckpt/_actor/latest`, which
DeepSpeed writes after the tag's files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "STAGING",
    "Checkpoint",
    "checkpoint_problem",
    "describe_resume",
    "openrlhf_resume_point",
    "trl_checkpoints",
    "trl_resume_point",
]

STAGING = ".checkpoint-staging"  # under OUTPUT: outside TRL's `checkpoint-*` names, same disk
TRL_NAME = re.compile(r"^checkpoint-(\d+)$")  # as transformers' get_last_checkpoint reads them
OPENRLHF_TAG = re.compile(r"(\d+)$")  # global_step40, best_global_step40
WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
    "adapter_model.safetensors",
    "adapter_model.bin",
)


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int
    problem: str | None = None  # why it cannot be resumed from; None when complete


def checkpoint_problem(files: Collection[str], state_step: int | None, step: int) -> str | None:
    """Why a TRL `checkpoint-<step>` holding `files` (names in the folder; a `global_step*` entry
    is a DeepSpeed checkpoint) is not whole, or None. `state_step`: the `global_step` its
    `trainer_state.json` records (None when missing or unreadable)."""
    if "trainer_state.json" not in files:
        return "no trainer_state.json"
    if state_step is None:
        return "trainer_state.json unreadable"
    if state_step != step:
        return f"trainer_state.json records step {state_step}"
    deepspeed = any(name.startswith("global_step") for name in files)
    if not deepspeed and not any(name in files for name in WEIGHTS):
        return "no model weights"
    if not deepspeed and "optimizer.pt" not in files:
        return "no optimizer.pt"
    return None


def _state_step(folder: Path) -> int | None:
    try:
        step = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))["global_step"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return step if isinstance(step, int) else None


def _missing_shard(folder: Path, files: Collection[str]) -> str | None:
    """The first shard a sharded checkpoint's index names that is not there."""
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if index in files:
            try:
                shards = set(json.loads((folder / index).read_text(encoding="utf-8"))["weight_map"].values())
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return index
            return next((s for s in sorted(shards) if s not in files), None)
    return None


def trl_checkpoints(output: str | Path) -> list[Checkpoint]:
    """Every `checkpoint-N` folder in `output`, oldest step first, each with its problem (if any)."""
    output = Path(output)
    if not output.is_dir():
        return []
    found = []
    for entry in output.iterdir():
        match = TRL_NAME.match(entry.name)
        if match is None or not entry.is_dir():
            continue
        step = int(match.group(1))
        try:
            files = {p.name for p in entry.iterdir()}
        except OSError:  # removed meanwhile (the main process clears incomplete ones)
            continue
        problem = checkpoint_problem(files, _state_step(entry), step)
        shard = None if problem else _missing_shard(entry, files)
        found.append(Checkpoint(entry, step, problem or (f"no {shard}" if shard else None)))
    return sorted(found, key=lambda c: c.step)


def trl_resume_point(output: str | Path) -> Checkpoint | None:
    """The complete `checkpoint-N` with the highest N, or None."""
    complete = [c for c in trl_checkpoints(output) if c.problem is None]
    return complete[-1] if complete else None


def openrlhf_resume_point(ckpt_dir: str | Path) -> Checkpoint | None:
    """What OpenRLHF's `--ckpt.load_enable` loads from `ckpt_dir` (`<ckpt.path>/_actor`): the tag in
    its `latest` file. None when there is no `_actor` folder (a fresh start); a Checkpoint with a
    problem when the folder would not load."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return None
    try:
        tag = (ckpt_dir / "latest").read_text(encoding="utf-8").strip()
    except OSError:
        return Checkpoint(ckpt_dir, 0, "no `latest` file: no checkpoint there was finished")
    match = OPENRLHF_TAG.search(tag)
    step = int(match.group(1)) if match else 0
    folder = ckpt_dir / tag
    if not tag or not folder.is_dir():
        return Checkpoint(folder, step, f"`latest` names {tag or 'nothing'}, which is not there")
    if not any(p.name.endswith("model_states.pt") for p in folder.iterdir()):
        return Checkpoint(folder, step, "no *model_states.pt in it")
    return Checkpoint(folder, step)


def describe_resume(save_path: str | Path, backend: str, load: bool) -> tuple[bool, str]:
    """Preflight's line on resuming: (ok, detail). Fails only where upstream would stop on the folder
    (OpenRLHF 0.11.2 raises KeyError 'episode' when `_actor` holds no loadable checkpoint)."""
    save = Path(save_path)
    if backend == "trl":
        points = trl_checkpoints(save)
        last = trl_resume_point(save)
        if not load:
            return True, f"{save}: writable; checkpoint.load=false (starts fresh)"
        bad = [c for c in points if c.problem is not None]
        notes = "".join(f"; {c.path.name} is incomplete ({c.problem}): removed at start" for c in bad)
        staging = save / STAGING
        cut = sorted(p.name for p in staging.iterdir()) if staging.is_dir() else []
        if cut:
            notes += f"; {STAGING} holds a write cut off ({', '.join(cut)}): removed at start"
        if last is None:
            return True, f"{save}: writable; no checkpoint to resume (starts fresh){notes}"
        return True, f"{save}: resumes from {last.path.name} (step {last.step}){notes}"
    actor = save / "ckpt" / "_actor"
    point = openrlhf_resume_point(actor) if load else None
    if point is None:
        return True, f"{save}: writable; no checkpoint to resume (starts fresh)"
    if point.problem is not None:
        return False, (
            f"{actor}: cannot resume from it ({point.problem}); OpenRLHF would stop on it: remove the "
            "folder to start fresh, or set checkpoint.load=false"
        )
    return True, f"{save}: resumes from {point.path} (step {point.step})"
