"""TRL checkpoints that resume with their weights, are written whole or not at all, and say why not.

    resume = prepare_resume(output, load=True, logs=[output / "metrics.jsonl", samples], main=True)
    trainer = ResumableGRPOTrainer(model=..., args=..., ...)
    trainer.train(resume_from_checkpoint=resume)

Weights. transformers 5 saves Qwen2.5-VL in its original key layout (`visual.*`, `model.layers.*`;
`save_pretrained(save_original_format=True)` reverts the class's conversion mapping), while the
model's own keys are `model.visual.*`, `model.language_model.*`. `from_pretrained` converts on load;
`Trainer._load_from_checkpoint` does not (a plain `load_state_dict(strict=False)`), so a resumed run
kept its initial weights with a warning. `load_weights` renames the saved keys through the same
mapping `from_pretrained` uses and refuses to go on when any weight of the model is not restored.

Atomic writes. Each checkpoint is written into `OUTPUT/.checkpoint-staging/checkpoint-N` and renamed
to `OUTPUT/checkpoint-N` once whole (and synced): a `checkpoint-N` is never half-written.
`prepare_resume` removes what an interrupted write left, skips and removes incomplete checkpoints
(saying so), and cuts `metrics.jsonl`/`samples.jsonl` back to the resumed step.

Disk full. A failed write removes its partial folder and, when the disk is the cause, raises
`CheckpointSpaceError` naming the disk, its free space and the space a checkpoint needs.

Data order. TRL's sampler shuffles every pass over the data with one generator that runs on from
pass to pass; a resumed run starts a new generator, so a run resumed in its second pass drew the
first pass's order again (and trained on other batches than the run it continues). `EpochSampler`
seeds each pass's shuffle from the seed and the pass number, which the trainer gives it on resume
too (`set_epoch`).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR, rotate_checkpoints
from trl import GRPOTrainer
from trl.trainer.utils import RepeatSampler

from seekworld.errors import SeekworldError
from seekworld.train.resume import STAGING, trl_checkpoints, trl_resume_point

__all__ = [
    "CheckpointSpaceError",
    "CheckpointWeightsError",
    "EpochSampler",
    "ResumableGRPOTrainer",
    "checkpoint_bytes",
    "disk_of",
    "is_space_failure",
    "keep_row",
    "load_weights",
    "prepare_resume",
    "space_message",
    "truncate_steps",
    "weight_key_map",
]

SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class CheckpointWeightsError(SeekworldError):
    """A checkpoint whose weights do not cover the model: resuming would train from other weights."""


class CheckpointSpaceError(SeekworldError, OSError):
    """A checkpoint not written for want of disk space (`str()` names the disk and the sizes)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------- weights


def weight_key_map(model: Any, keys: Iterable[str]) -> dict[str, str]:
    """Saved key -> the model's key, through the conversion mapping `from_pretrained` applies to this
    model (its `_weight_conversions`, else the one registered for its class). A key no mapping
    renames maps to itself. Raises CheckpointWeightsError where a key needs a tensor conversion
    (merge, split), which a key rename cannot do."""
    from transformers.conversion_mapping import get_model_conversion_mapping
    from transformers.core_model_loading import WeightConverter, WeightRenaming, rename_source_key

    conversions = getattr(model, "_weight_conversions", None) or get_model_conversion_mapping(model)
    renamings = [c for c in conversions if isinstance(c, WeightRenaming)]
    converters = [c for c in conversions if isinstance(c, WeightConverter)]
    own = model.state_dict()
    mapping = {}
    for key in keys:
        renamed, converter = rename_source_key(key, renamings, converters, model.base_model_prefix, own)
        if converter is not None:
            raise CheckpointWeightsError(
                f"checkpoint weight {key} needs a tensor conversion to load into "
                f"{type(model).__name__}; resume is not supported for this model class"
            )
        mapping[key] = renamed if renamed in own or key not in own else key
    return mapping


def _weight_files(folder: Path) -> list[Path] | None:
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        return [folder / s for s in shards]
    single = folder / "model.safetensors"
    return [single] if single.is_file() else None


def load_weights(model: Any, folder: str | Path) -> int:
    """Load a checkpoint's safetensors weights (one file or shards) into `model` in place; returns
    the number of tensors loaded. Raises CheckpointWeightsError when a weight of the model is not
    restored (a parameter tied to a restored one counts as restored) or a saved one has no place."""
    from safetensors.torch import load_file

    folder = Path(folder)
    files = _weight_files(folder)
    if files is None:
        raise CheckpointWeightsError(f"{folder}: no model.safetensors or model.safetensors.index.json")
    loaded: set[str] = set()
    unexpected: list[str] = []
    for file in files:
        state = load_file(str(file), device="cpu")
        mapping = weight_key_map(model, state)
        result = model.load_state_dict({mapping[k]: v for k, v in state.items()}, strict=False)
        unexpected += result.unexpected_keys
        loaded |= {mapping[k] for k in state} - set(result.unexpected_keys)
        del state
    params = list(model.named_parameters(remove_duplicate=False))
    restored = {id(t) for k, t in params if k in loaded}
    saved = set(model.state_dict())  # persistent buffers are saved; rotary caches are not
    missing = [k for k, t in params if k not in loaded and id(t) not in restored]
    missing += [k for k, _ in model.named_buffers() if k in saved and k not in loaded]
    if missing or unexpected:
        what = []
        if missing:
            what.append(f"{len(missing)} model weights not in it ({', '.join(missing[:3])}, ...)")
        if unexpected:
            what.append(f"{len(unexpected)} saved weights the model lacks ({', '.join(unexpected[:3])}, ...)")
        raise CheckpointWeightsError(f"{folder}: cannot resume from it: {'; '.join(what)}")
    return len(loaded)


# ---------------------------------------------------------------- disk space


def checkpoint_bytes(model: Any, optimizer: Any | None) -> int:
    """About what a checkpoint writes: the weights plus the optimizer's state tensors."""
    seen: dict[int, int] = {}
    for tensor in list(model.parameters()) + list(model.buffers()):
        numel = getattr(tensor, "ds_numel", None) or tensor.numel()  # ZeRO-3 keeps a shard locally
        seen[id(tensor)] = numel * tensor.element_size()
    total = sum(seen.values())
    state = getattr(optimizer, "state", None)
    if isinstance(state, dict):
        for values in state.values():
            for value in values.values() if isinstance(values, dict) else ():
                if hasattr(value, "numel") and hasattr(value, "element_size"):
                    total += value.numel() * value.element_size()
    return total


def disk_of(path: str | Path) -> tuple[str, str]:
    """(mount point, device) of the filesystem holding `path` (device "" when unknown)."""
    probe = Path(path).resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    while not os.path.ismount(probe) and probe != probe.parent:
        probe = probe.parent
    device = ""
    try:
        for line in Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if len(fields) > 1 and fields[1] == str(probe):
                device = fields[0]  # the last mount over a point is the one in use
    except OSError:
        pass
    return str(probe), device


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def space_message(
    name: str, output: str | Path, mount: str, device: str, free: int, needed: int, last: str | None
) -> str:
    """The one-line disk-full error of checkpoint `name` written under `output`."""
    disk = f"{mount} ({device})" if device else mount
    after = f"rerun to resume from {last}" if last else "rerun (no checkpoint yet: it starts fresh)"
    return (
        f"{name} not saved: the disk holding {output} is full: {disk} has {_size(free)} free, a "
        f"checkpoint needs about {_size(needed)}; free space or lower checkpoint.max_num, then {after}"
    )


def is_space_failure(exc: BaseException, free: int, needed: int) -> bool:
    """Whether a failed checkpoint write failed for want of space: ENOSPC or EDQUOT anywhere in the
    exception chain, or, when the chain carries no errno at all (torch.save's "unexpected pos"
    does not), less space free than a checkpoint needs. Another errno (EACCES...) is never read
    as a full disk."""
    errnos = []
    current: BaseException | None = exc
    for _ in range(8):
        if current is None:
            break
        if isinstance(current, OSError) and current.errno is not None:
            errnos.append(current.errno)
        current = current.__cause__ or current.__context__
    if any(e in SPACE_ERRNOS for e in errnos):
        return True
    return not errnos and free < needed


def _fsync_tree(root: Path) -> None:
    """Flush a written checkpoint to the disk before it is renamed into place."""
    for folder, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(root)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # a platform without directory handles
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _publish(staged: Path, final: Path) -> None:
    """Rename a whole checkpoint into place (replacing a stale one of the same step)."""
    _fsync_tree(staged)
    old = staged.parent / f"replaced-{final.name}"
    if final.exists():
        os.replace(final, old)
    os.replace(staged, final)
    _fsync_dir(final.parent)
    shutil.rmtree(old, ignore_errors=True)
    try:
        staged.parent.rmdir()  # only when empty: another process may still be writing there
    except OSError:
        pass


# ---------------------------------------------------------------- the trainer


class EpochSampler(RepeatSampler):
    """TRL's `RepeatSampler` whose shuffle of pass `epoch` depends only on the seed and `epoch`
    (pass 0's order is TRL's own), so a resumed run draws the order the uninterrupted run drew."""

    def set_epoch(self, epoch: int) -> None:
        if self.shuffle and self.seed is not None:
            self.generator.manual_seed(self.seed + epoch)


class ResumableGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer with whole-or-nothing checkpoints that resume with their weights, in the
    data order of the run they continue."""

    _staging_dir: str | None = None

    def _get_train_sampler(self, dataset: Any = None) -> EpochSampler:
        trl = super()._get_train_sampler(dataset)
        return EpochSampler(
            trl.data_source,
            mini_repeat_count=trl.mini_repeat_count,
            batch_size=trl.batch_size,
            repeat_count=trl.repeat_count,
            shuffle=trl.shuffle,
            seed=trl.seed,
        )

    def _get_output_dir(self, trial: Any) -> str:
        return self._staging_dir or super()._get_output_dir(trial)

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        run_dir = Path(super()._get_output_dir(trial))
        name = f"{PREFIX_CHECKPOINT_DIR}-{self.state.global_step}"
        staging = run_dir / STAGING
        if self.args.should_save:
            shutil.rmtree(staging / name, ignore_errors=True)
        self.accelerator.wait_for_everyone()
        self._staging_dir = str(staging)
        try:
            super()._save_checkpoint(model, trial)
        except Exception as exc:
            self._raise_save_error(exc, run_dir, staging / name)
        finally:
            self._staging_dir = None
        self.accelerator.wait_for_everyone()  # every process has written its part
        if self.args.should_save:
            _publish(staging / name, run_dir / name)
            best = self.state.best_model_checkpoint
            if best is not None and Path(best).parent == staging:
                self.state.best_model_checkpoint = str(run_dir / Path(best).name)
            # By step, as get_last_checkpoint picks the one to resume from.
            rotate_checkpoints(
                str(run_dir), self.args.save_total_limit, self.state.best_model_checkpoint, use_mtime=False
            )
        self.accelerator.wait_for_everyone()

    def _raise_save_error(self, exc: Exception, run_dir: Path, partial: Path) -> None:
        shutil.rmtree(partial, ignore_errors=True)  # a partial write only takes space
        try:
            partial.parent.rmdir()
        except OSError:
            pass
        free = shutil.disk_usage(run_dir).free
        last = trl_resume_point(run_dir)
        needed = max(
            checkpoint_bytes(self.model, self.optimizer),
            sum(f.stat().st_size for f in last.path.rglob("*") if f.is_file()) if last else 0,
        )
        if is_space_failure(exc, free, needed):
            mount, device = disk_of(run_dir)
            message = space_message(
                partial.name, run_dir, mount, device, free, needed, last.path.name if last else None
            )
            raise CheckpointSpaceError(message) from exc
        raise exc

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any | None = None) -> None:
        target = self.model if model is None else model
        plain = not (self.is_deepspeed_enabled or self.is_fsdp_enabled or hasattr(target, "peft_config"))
        if plain and _weight_files(Path(resume_from_checkpoint)) is not None:
            load_weights(target, resume_from_checkpoint)
            return
        # DeepSpeed loads its own `global_step*` state (the module's keys, strictly); FSDP and PEFT
        # adapters go through transformers as they are.
        super()._load_from_checkpoint(resume_from_checkpoint, model)


# ---------------------------------------------------------------- rerun


def keep_row(line: str, last_step: int) -> bool:
    """A JSONL log row to keep when resuming at `last_step`: a whole JSON object with an int
    `step` no later than it (a torn last line, or a row of a step to be redone, goes)."""
    try:
        row = json.loads(line)
    except ValueError:
        return False
    step = row.get("step") if isinstance(row, dict) else None
    return isinstance(step, int) and not isinstance(step, bool) and step <= last_step


def truncate_steps(path: str | Path, last_step: int) -> int:
    """Drop the rows of `path` after `last_step` (all of them, and the file, at step 0), streaming
    into a temporary file that replaces it. Returns the number of rows dropped."""
    path = Path(path)
    if not path.exists():
        return 0
    if last_step <= 0:
        dropped = sum(1 for _ in path.open("rb"))
        path.unlink()
        return dropped
    dropped = 0
    tmp = path.with_name(path.name + ".tmp")
    # Bytes, so that only "\n" ends a row (a stray "\r" in a torn row is not a line break).
    with path.open("rb") as src, tmp.open("wb") as dst:
        for raw in src:
            if keep_row(raw.decode("utf-8", errors="replace"), last_step):
                dst.write(raw if raw.endswith(b"\n") else raw + b"\n")
            else:
                dropped += 1
    if dropped:
        os.replace(tmp, path)
    else:
        tmp.unlink()
    return dropped


def prepare_resume(
    output: str | Path,
    load: bool,
    logs: Sequence[str | Path],
    main: bool = True,
    say: Callable[[str], None] = print,
) -> str | None:
    """Before a run: the checkpoint to resume from (None: a fresh start), with `logs` (this process's
    JSONL files) cut back to its step. The main process (`main`) removes what an interrupted
    checkpoint write left and every incomplete `checkpoint-N` (a rerun would otherwise stop on one,
    and TRL's rotation would count it), saying what and why."""
    output = Path(output)
    staging = output / STAGING
    if main and staging.is_dir():
        leftovers = sorted(p.name for p in staging.iterdir())
        shutil.rmtree(staging, ignore_errors=True)
        if leftovers:
            cut = ", ".join(leftovers)
            say(f"seekworld train: removed {cut} from {staging} (a checkpoint write cut off)")
    point = None
    if load:
        for ckpt in trl_checkpoints(output):
            if ckpt.problem is not None and main:
                shutil.rmtree(ckpt.path, ignore_errors=True)
                say(f"seekworld train: {ckpt.path} is incomplete ({ckpt.problem}): removed, not resumed from")
        point = trl_resume_point(output)
    step = point.step if point is not None else 0
    for log in logs:
        dropped = truncate_steps(log, step)
        if dropped and point is not None:
            rows = "row" if dropped == 1 else "rows"
            say(f"seekworld train: {Path(log).name}: dropped {dropped} {rows} after step {step} (redone)")
    if point is not None:
        say(f"seekworld train: resuming from {point.path} (step {point.step})")
    return str(point.path) if point is not None else None
