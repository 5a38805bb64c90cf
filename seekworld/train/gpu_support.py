"""What the training GPU can run: the attention implementation and the dtype, chosen in one place.

    gpu = local_gpu()                                   # the weakest visible CUDA GPU, or None
    choose_attention("auto", gpu, flash_attn_imports())  # Choice("flash_attention_2", "A100 is sm80 ...")
    choose_dtype("bf16", gpu)                           # on a T4: Choice("float16", "... needs sm80")

flash-attn 2's kernels and bfloat16 arithmetic both need compute capability 8.0 or newer (Ampere,
Ada, Hopper, Blackwell). On a T4 or an RTX 20xx (sm75) `auto` attention is sdpa and the TRL
backend's `auto` dtype is float16. Both backends choose through `choose_attention`: the OpenRLHF
command's `--ds.attn_implementation` (seekworld.train.command) and the TRL backend's model loading.
`check_gpu_fit` is the preflight's report of both choices.

The choices are pure functions of plain data; `local_gpu` and `flash_attn_imports` are the probes.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seekworld.train.config import TrainConfig

__all__ = [
    "SM80",
    "Choice",
    "Fit",
    "Gpu",
    "check_gpu_fit",
    "choose_attention",
    "choose_dtype",
    "flash_attn_imports",
    "local_gpu",
    "log_once",
    "probe",
    "trl_dtype",
]

log = logging.getLogger(__name__)

SM80 = (8, 0)  # flash-attn 2 kernels and native bfloat16: Ampere and newer
# Config spellings (OpenRLHF's --ds.param_dtype, trl.dtype) -> torch dtype names.
_DTYPE_NAMES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


@dataclass(frozen=True)
class Gpu:
    name: str
    capability: tuple[int, int]

    @property
    def sm(self) -> str:
        return f"sm{self.capability[0]}{self.capability[1]}"


@dataclass(frozen=True)
class Choice:
    value: str
    reason: str
    fallback: bool = False  # less than what was asked for, because of the GPU or the install

    def __str__(self) -> str:
        return f"{self.value} ({self.reason})"


def choose_attention(requested: str, gpu: Gpu | None, flash_attn_imports: bool) -> Choice:
    """`model.attn_implementation` resolved: `auto` is flash_attention_2 only on sm80+ with
    flash_attn importable, sdpa otherwise; any other value is kept (the user asked for it)."""
    if requested != "auto":
        return Choice(requested, "set by model.attn_implementation")
    if gpu is None:
        return Choice("sdpa", "no CUDA GPU visible here")
    if gpu.capability < SM80:
        return Choice("sdpa", f"{gpu.name} is {gpu.sm}; flash-attn 2 needs sm80 or newer", fallback=True)
    if not flash_attn_imports:
        reason = "flash_attn does not import here (scripts/install_gpu.sh installs it)"
        return Choice("sdpa", reason, fallback=True)
    return Choice("flash_attention_2", f"{gpu.name} is {gpu.sm} and flash_attn imports")


def choose_dtype(requested: str, gpu: Gpu | None) -> Choice:
    """The torch dtype for `requested` (`bf16`, `fp16`, or a torch name) on `gpu`: bfloat16 falls
    back to float16 below sm80, where the GPU has no bfloat16 arithmetic."""
    name = _DTYPE_NAMES.get(requested, requested)
    if name == "bfloat16" and gpu is not None and gpu.capability < SM80:
        return Choice("float16", f"{gpu.name} is {gpu.sm}; bfloat16 needs sm80 or newer", fallback=True)
    return Choice(name, f"as configured, on {gpu.name} ({gpu.sm})" if gpu else "as configured")


def trl_dtype(config: TrainConfig, device: str, gpu: Gpu | None) -> Choice:
    """The TRL backend's dtype: `trl.dtype` when set; `auto` is float32 on a CPU and
    `deepspeed.param_dtype` on a GPU, bfloat16 becoming float16 below sm80."""
    if config["trl.dtype"] != "auto":
        return Choice(config["trl.dtype"], "set by trl.dtype")
    if device == "cpu":
        return Choice("float32", "on the CPU")
    return choose_dtype(config["deepspeed.param_dtype"], gpu)


def _gpu_devices_present() -> bool:
    # Importing torch takes seconds: only where an NVIDIA (or ROCm) device node exists.
    return (
        Path("/proc/driver/nvidia").exists()
        or Path("/dev/kfd").exists()
        or any(Path("/dev").glob("nvidia[0-9]*"))
    )


def local_gpu() -> Gpu | None:
    """The visible CUDA GPU with the lowest compute capability (what every rank must be able to
    run), or None without torch, CUDA or a GPU."""
    if not _gpu_devices_present():
        return None
    try:
        import torch
    except ModuleNotFoundError:
        return None
    if not torch.cuda.is_available():
        return None
    gpus = [
        Gpu(torch.cuda.get_device_name(i), tuple(torch.cuda.get_device_capability(i)))
        for i in range(torch.cuda.device_count())
    ]
    return min(gpus, key=lambda g: g.capability) if gpus else None


def flash_attn_imports() -> bool:
    """Whether `import flash_attn` works here (an install built for another torch fails here with
    an undefined symbol, not at the first attention call)."""
    if importlib.util.find_spec("flash_attn") is None:
        return False
    try:
        import flash_attn  # noqa: F401
    except Exception as exc:  # ImportError, OSError from a mismatched build: reported, not raised
        log.warning("flash_attn is installed but does not import: %s: %s", type(exc).__name__, exc)
        return False
    return True


def probe() -> tuple[Gpu | None, bool]:
    """(the weakest local GPU, whether flash_attn imports); flash_attn is only imported on sm80+."""
    gpu = local_gpu()
    return gpu, gpu is not None and gpu.capability >= SM80 and flash_attn_imports()


_logged: set[tuple[str, Choice]] = set()


def log_once(what: str, choice: Choice) -> Choice:
    """Log `choice` the first time it is made in this process (a fallback as a warning); return it."""
    if (what, choice) not in _logged:
        _logged.add((what, choice))
        log.log(logging.WARNING if choice.fallback else logging.INFO, "%s: %s", what, choice)
    return choice


@dataclass(frozen=True)
class Fit:
    """The preflight's "gpu fit" line: ok, detail, warning."""

    ok: bool
    detail: str
    warning: bool = False


def check_gpu_fit(config: TrainConfig, gpu: Gpu | None, flash_attn: bool, device: str | None = None) -> Fit:
    """The preflight line: the attention and the dtype this run will use on `gpu`, and why.
    `device` is the TRL backend's (`cpu`/`cuda`); None for OpenRLHF.

    OpenRLHF 0.11.2 starts its vLLM engines in bfloat16 whatever `--ds.param_dtype` says
    (`openrlhf/trainer/ray/vllm_engine.py`), so below sm80 it cannot run: the check fails there and
    names the TRL backend, which trains in float16 there.
    """
    attention = choose_attention(config["model.attn_implementation"], gpu, flash_attn)
    if device is not None:
        dtype = trl_dtype(config, device, gpu)
        if dtype.value == "bfloat16" and gpu is not None and gpu.capability < SM80:
            detail = f"attention {attention}; trl.dtype=bfloat16 but {gpu.name} is {gpu.sm}"
            detail += ": set trl.dtype=auto (float16 there)"
            return Fit(False, detail)
    else:
        dtype = choose_dtype(config["deepspeed.param_dtype"], gpu)
        if gpu is not None and gpu.capability < SM80:
            detail = (
                f"attention {attention}; {gpu.name} is {gpu.sm}: upstream OpenRLHF 0.11.2 runs vLLM in "
                "bfloat16, which needs sm80 or newer: train on this GPU with backend=trl (float16)"
            )
            return Fit(False, detail)
    return Fit(True, f"attention {attention}; dtype {dtype}", warning=attention.fallback)
