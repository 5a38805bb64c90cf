"""The checks of the OpenRLHF launch: the reward endpoint answering as upstream asks, every flag in
upstream's own parser, the agent file loaded as upstream loads it, GPUs and packages. With the
common checks (`seekworld.train.preflight.common`), `run_preflight` is what `seekworld train` runs.

    results = run_preflight(config, argv, reward_urls, dry_run=True)
    print(format_report(results)); all(r.ok for r in results)
"""

from __future__ import annotations

import difflib
import importlib.metadata
import importlib.util
import json
import math
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seekworld.chat import QWEN
from seekworld.train.command import redact
from seekworld.train.config import TrainConfig
from seekworld.train.preflight.common import (
    MAX_LISTED,
    CheckResult,
    check_data,
    check_eval_data,
    check_judge,
    check_logging,
    check_model,
    check_outputs,
    first_rows,
    gold_answer,
)

__all__ = [
    "PINNED_OPENRLHF",
    "check_agent",
    "check_environment",
    "check_gpus",
    "check_packages",
    "check_reward",
    "check_upstream",
    "run_preflight",
]

PINNED_OPENRLHF = "0.11.2"  # the version the `train` extra pins and the flags table is written for


# ---------------------------------------------------------------- reward


def _qwen_prompt(messages: Any) -> str:
    """The chat-templated prompt upstream sends as `prompts` (Qwen template, one pad per image)."""
    return QWEN.render(messages)


def _reward_samples(config: TrainConfig, rows: list[dict]) -> list[tuple[str, str, Any, str]]:
    """(query, prompt, label, kind) per probe: a correct answer and a junk one for each row."""
    samples = []
    for row in rows:
        prompt = _qwen_prompt(row[config["data.input_key"]])
        # Like upstream's `query`: the prompt with the image pads expanded, then the response.
        expanded = prompt.replace("<|image_pad|>", "<|image_pad|>" * 4)
        label = row[config["data.label_key"]]
        samples.append((expanded + gold_answer(label) + QWEN.turn_end, prompt, label, "gold"))
        samples.append((expanded + "I cannot tell." + QWEN.turn_end, prompt, label, "junk"))
    return samples


def _reward_range(config: TrainConfig) -> tuple[float, float]:
    from seekworld.rewards.variants import RewardConfig

    weights = RewardConfig.from_variant(config["reward.variant"], config["reward.weights"] or None).weights
    # Every component is in [0, 1].
    return sum(min(0.0, w) for _, w in weights), sum(max(0.0, w) for _, w in weights)


def _validate_answer(answer: Any, lo: float, hi: float) -> tuple[float | None, dict[str, Any], str | None]:
    """(reward, extra_logs, error) for one answer in upstream's format."""
    if not isinstance(answer, dict) or "rewards" not in answer:
        return None, {}, f"answer has no 'rewards': {str(answer)[:200]}"
    rewards = answer["rewards"]
    if not isinstance(rewards, list) or len(rewards) != 1:
        return None, {}, f"'rewards' must be a list with one number per query, got {rewards!r}"
    value = rewards[0]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None, {}, f"reward {value!r} is not a finite number"
    if not lo - 1e-6 <= value <= hi + 1e-6:
        return None, {}, f"reward {value} is outside the variant's range [{lo}, {hi}]"
    scores = answer.get("scores")
    if scores is not None and (
        not isinstance(scores, list)
        or not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in scores)
    ):
        return None, {}, f"'scores' must be numbers, got {scores!r}"
    logs = answer.get("extra_logs") or {}
    if not isinstance(logs, dict):
        return None, {}, f"'extra_logs' must be an object, got {logs!r}"
    for key, values in logs.items():
        # Upstream turns each into a tensor: a string crashes the training step.
        vals = values if isinstance(values, list) else [values]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            return (
                None,
                {},
                f"extra_logs[{key!r}] must be numbers (a string crashes upstream), got {values!r}",
            )
    return float(value), logs, None


_FILE_PROBE = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("reward_func", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
out = []
for q, p, l in json.load(sys.stdin):
    out.append(module.reward_func([q], [p], [l]))
json.dump(out, sys.stdout)
"""


def _ask_file(path: str, samples: list[tuple[str, str, Any, str]], env: dict[str, str]) -> list[Any]:
    # A fresh interpreter, loaded by path like upstream's rollout workers do, with the run's env.
    proc = subprocess.run(
        [sys.executable, "-c", _FILE_PROBE, path],
        input=json.dumps([s[:3] for s in samples]),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"reward file failed: {proc.stderr.strip().splitlines()[-1:] or proc.returncode}")
    return json.loads(proc.stdout)


def check_reward(
    config: TrainConfig, reward_urls: Sequence[str], rows: list[dict], env: dict[str, str] | None = None
) -> CheckResult:
    """Send a correct and a junk answer for a few real rows the way upstream does; check the replies."""
    from seekworld.train.launch import http_json

    if not rows:
        return CheckResult("reward", False, "no valid data rows to send (see the data check)")
    lo, hi = _reward_range(config)
    try:
        samples = _reward_samples(config, rows)
    except ValueError as exc:
        return CheckResult("reward", False, f"cannot build probes from the data: {exc}")
    answers: list[Any] = []
    try:
        if config["reward.mode"] == "file":
            answers = _ask_file(reward_urls[0], samples, env or {})
        else:
            for i, (query, prompt, label, _) in enumerate(samples):
                url = reward_urls[i % len(reward_urls)]  # round-robin, like upstream
                answers.append(
                    http_json(url, {"query": [query], "prompts": [prompt], "labels": [label]}, 180)
                )
    except (OSError, ValueError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return CheckResult("reward", False, f"{', '.join(redact(reward_urls))}: {exc}")

    by_kind: dict[str, list[float]] = {"gold": [], "junk": []}
    log_keys: set[str] | None = None
    for (_, _, _, kind), answer in zip(samples, answers, strict=True):
        value, logs, error = _validate_answer(answer, lo, hi)
        if error:
            return CheckResult("reward", False, f"{', '.join(redact(reward_urls))}: {error}")
        if log_keys is not None and set(logs) != log_keys:
            return CheckResult(
                "reward",
                False,
                f"extra_logs keys differ between answers: {sorted(log_keys)} vs {sorted(logs)}",
            )
        log_keys = set(logs)
        by_kind[kind].append(value)  # type: ignore[arg-type]
    gold = sum(by_kind["gold"]) / len(by_kind["gold"])
    junk = sum(by_kind["junk"]) / len(by_kind["junk"])
    where = "reward file" if config["reward.mode"] == "file" else ", ".join(reward_urls)
    detail = (
        f"{where} ({config['reward.variant']}) scored {len(samples)} probes from {len(rows)} rows: "
        f"correct answers {gold:.3f}, junk {junk:.3f}, range [{lo:g}, {hi:g}]"
    )
    if log_keys:
        detail += f"; extra_logs {', '.join(sorted(log_keys))}"
    if gold <= junk:
        return CheckResult(
            "reward",
            True,
            detail + "\na correct answer did not score above junk: check reward.variant and labels",
            True,
        )
    if config["reward.mode"] == "file":
        detail += "\nupstream loads the file in Ray workers: SEEKWORLD_* must be set where Ray started"
        return CheckResult("reward", True, detail, warning=True)
    return CheckResult("reward", True, detail)


# ---------------------------------------------------------------- upstream


def check_upstream(argv: Sequence[str]) -> list[CheckResult]:
    """Every flag exists in the installed train_ppo_ray parser; upstream's parser accepts the values."""
    from seekworld.train.command import UPSTREAM_ENTRY
    from seekworld.train.upstream_flags import (
        UpstreamSourceError,
        check_with_upstream_parser,
        option_tokens,
        read_upstream_flags,
    )

    try:
        flags = read_upstream_flags()
    except UpstreamSourceError as exc:
        return [CheckResult("upstream flags", False, str(exc))]
    args = list(argv[argv.index(UPSTREAM_ENTRY) + 1 :]) if UPSTREAM_ENTRY in argv else list(argv)
    unknown = flags.unknown(args)
    version = flags.version or "unknown version"
    if unknown:
        lines = []
        for flag in unknown:
            close = difflib.get_close_matches(flag, sorted(flags.options), n=2, cutoff=0.6)
            lines.append(flag + (f" (did you mean {' or '.join(close)}?)" if close else ""))
        detail = (
            f"{len(unknown)} flag(s) not in openrlhf {version}'s train_ppo_ray ({flags.path}):\n"
            + "\n".join(lines)
        )
        return [CheckResult("upstream flags", False, detail)]
    results = [
        CheckResult(
            "upstream flags",
            True,
            f"all {len(option_tokens(args))} flags exist in openrlhf {version}'s train_ppo_ray "
            f"({flags.path})",
            warning=bool(flags.unresolved_lines),
        )
    ]
    check = check_with_upstream_parser(args, flags.path)
    detail = check.detail
    warnings = [line for line in check.output.splitlines() if line.strip()]
    if warnings:
        detail += "\nupstream says: " + "\nupstream says: ".join(warnings[:MAX_LISTED])
    results.append(CheckResult("upstream parser", check.ok is not False, detail, warning=check.ok is None))
    return results


# ---------------------------------------------------------------- GPUs and packages


def _training_gpu_ids(config: TrainConfig) -> list[str]:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [g.strip() for g in visible.split(",") if g.strip()] if visible else None
    n = config["cluster.gpus_per_node"]
    return ids[:n] if ids is not None else [str(i) for i in range(n)]


def _gpu_devices_present() -> bool:
    """Whether this machine has NVIDIA (or ROCm) device nodes at all."""
    return (
        Path("/proc/driver/nvidia").exists()
        or Path("/dev/kfd").exists()
        or any(Path("/dev").glob("nvidia[0-9]*"))
    )


def check_gpus(config: TrainConfig, dry_run: bool) -> list[CheckResult]:
    """Local GPUs versus the config; without GPUs a warning in a dry run, a failure otherwise."""
    results = []
    need, nodes = config["cluster.gpus_per_node"], config["cluster.nodes"]
    if config["judge.mode"] == "start":
        judge = {g.strip() for g in config["judge.gpus"].split(",") if g.strip()}
        overlap = sorted(judge & set(_training_gpu_ids(config)))
        if overlap:
            results.append(
                CheckResult(
                    "judge gpus",
                    False,
                    f"judge.gpus {','.join(overlap)} are also training GPUs "
                    f"({','.join(_training_gpu_ids(config))}): "
                    "lower cluster.gpus_per_node and start Ray with CUDA_VISIBLE_DEVICES listing the others",
                )
            )
    count, torch = 0, None
    if _gpu_devices_present():  # importing torch takes seconds: only where a GPU can be
        try:
            import torch

            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        except ModuleNotFoundError:
            pass
    scope = f"{need} per node x {nodes} node(s)"
    if count == 0:
        gib = config["cluster.min_gpu_memory_gib"]
        msg = f"no GPU visible here (the run needs {scope}, each with >= {gib:g} GiB)"
        if dry_run:
            return [*results, CheckResult("gpus", True, msg + "; fine for a dry run", warning=True)]
        return [*results, CheckResult("gpus", False, msg + ": not starting")]
    if count < need:
        return [
            *results,
            CheckResult("gpus", False, f"{count} GPU(s) visible here, cluster.gpus_per_node={need}"),
        ]
    assert torch is not None
    small = []
    for i in range(need):
        props = torch.cuda.get_device_properties(i)
        gib = props.total_memory / 2**30
        if gib < config["cluster.min_gpu_memory_gib"]:
            small.append(f"GPU {i} ({props.name}): {gib:.0f} GiB")
    if small:
        detail = f"below cluster.min_gpu_memory_gib={config['cluster.min_gpu_memory_gib']:g}: " + "; ".join(
            small
        )
        return [*results, CheckResult("gpus", False, detail)]
    name = torch.cuda.get_device_properties(0).name
    detail = f"{count} GPU(s) here ({name}); using {need} per node x {nodes} node(s)"
    if nodes > 1:
        detail += "; other nodes are not checked from here (`ray status` lists them)"
    return [*results, CheckResult("gpus", True, detail, warning=nodes > 1)]


_IMPORT_PROBE = r"""
import importlib, json, sys
out = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
        out[name] = None
    except BaseException as exc:
        out[name] = f"{type(exc).__name__}: {exc}"
json.dump(out, sys.stdout)
"""


# Import name -> distribution name.
GPU_PACKAGES = {"vllm": "vllm", "deepspeed": "deepspeed", "flash_attn": "flash-attn", "ray": "ray"}


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_packages(config: TrainConfig, dry_run: bool) -> list[CheckResult]:
    """openrlhf at the pinned version; vLLM, DeepSpeed, flash-attn, Ray import (in a subprocess)."""
    results = []
    version = _version("openrlhf")
    if version is None:
        hint = "scripts/install_gpu.sh (GPU) or pip install --no-deps openrlhf==0.11.2 (CPU checks)"
        results.append(CheckResult("openrlhf", False, f"not installed: {hint}"))
    elif version != PINNED_OPENRLHF:
        results.append(
            CheckResult(
                "openrlhf",
                True,
                f"{version} installed; seekworld pins {PINNED_OPENRLHF} (see 'Upgrading OpenRLHF')",
                warning=True,
            )
        )
    else:
        results.append(CheckResult("openrlhf", True, f"{version} (pinned)"))
    present = [m for m in GPU_PACKAGES if importlib.util.find_spec(m) is not None]
    errors: dict[str, str | None] = {}
    if present:
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _IMPORT_PROBE, *present], capture_output=True, text=True, timeout=300
            )
            errors = (
                json.loads(proc.stdout)
                if proc.returncode == 0
                else dict.fromkeys(present, proc.stderr[-300:])
            )
        except (subprocess.TimeoutExpired, ValueError) as exc:
            errors = dict.fromkeys(present, f"import probe failed: {exc}")
    lines, missing, broken = [], [], []
    for module, dist in GPU_PACKAGES.items():
        if module not in present:
            missing.append(module)
            lines.append(f"{module}: not installed")
        elif errors.get(module):
            broken.append(module)
            lines.append(f"{module} {_version(dist) or '?'}: import fails: {errors[module]}")
        else:
            lines.append(f"{module} {_version(dist) or '?'}")
    # Without flash_attn, attn_implementation=auto falls back to sdpa: slower, but it runs.
    needed = [
        m
        for m in missing + broken
        if m != "flash_attn" or config["model.attn_implementation"] == "flash_attention_2"
    ]
    detail = "; ".join(lines)
    if not needed and not broken and not missing:
        results.append(CheckResult("gpu packages", True, detail))
    elif dry_run or not needed:
        hint = "" if not needed else "\ninstall them on the GPU machines: scripts/install_gpu.sh"
        results.append(CheckResult("gpu packages", True, detail + hint, warning=True))
    else:
        hint = "\ninstall them in order: scripts/install_gpu.sh (torch, flash-attn, then .[train])"
        results.append(CheckResult("gpu packages", False, detail + hint))
    return results


# ---------------------------------------------------------------- agent, all together


def _flag_value(argv: Sequence[str], flag: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def check_agent(config: TrainConfig, argv: Sequence[str], env: dict[str, str]) -> CheckResult | None:
    """The multi-turn agent file (`--train.agent_func_path`), loaded the way upstream loads it (by
    path, no `sys.modules` entry); its `AgentExecutor` must subclass upstream's base. When the file
    offers `preflight(env, processor_path)` (the zoom agent does: one canned episode) it runs too."""
    path = _flag_value(argv, "--train.agent_func_path")
    if path is None:
        return None
    if not Path(path).is_file():
        return CheckResult("agent", False, f"{path}: no such file")
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the agent reads SEEKWORLD_* settings as it would in a Ray worker
    try:
        spec = importlib.util.spec_from_file_location("agent_module", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        executor = getattr(module, "AgentExecutor", None)
        from openrlhf.utils.agent import AgentExecutorBase

        if not (isinstance(executor, type) and issubclass(executor, AgentExecutorBase)):
            return CheckResult("agent", False, f"{path}: AgentExecutor must subclass AgentExecutorBase")
        if not callable(getattr(module, "preflight", None)):
            return CheckResult("agent", True, f"{path}: AgentExecutor loads (no preflight() to run)")
        needed = getattr(module, "images_per_prompt", None)
        if callable(needed) and config["data.max_images_per_prompt"] < needed(dict(os.environ)):
            return CheckResult(
                "agent",
                False,
                f"data.max_images_per_prompt={config['data.max_images_per_prompt']} but the agent can show "
                f"{needed(dict(os.environ))} images per episode (upstream would drop the extra crops)",
            )
        model = Path(config["model.path"])
        ok, detail = module.preflight(
            env={**os.environ}, processor_path=str(model) if model.is_dir() else None
        )
    except Exception as exc:  # an agent file can fail in any way; the preflight reports it
        return CheckResult("agent", False, f"{path}: {type(exc).__name__}: {exc}")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return CheckResult("agent", bool(ok), f"{path}: {detail}")


def check_environment(config: TrainConfig, dry_run: bool) -> list[CheckResult]:
    """GPUs and packages: what a real run checks before it starts anything; then the attention and
    dtype those GPUs get (seekworld.train.gpu_support)."""
    from seekworld.train.gpu_support import check_gpu_fit, probe

    fit = check_gpu_fit(config, *probe())
    return [
        *check_gpus(config, dry_run),
        *check_packages(config, dry_run),
        CheckResult("gpu fit", fit.ok, fit.detail, fit.warning),
    ]


def run_preflight(
    config: TrainConfig,
    argv: Sequence[str],
    reward_urls: Sequence[str] | None,
    *,
    dry_run: bool,
    sample: int | None = None,
    reward_env: dict[str, str] | None = None,
    environment: list[CheckResult] | None = None,
) -> list[CheckResult]:
    """All checks in order. `reward_urls` None: the reward services did not start (already reported).
    `environment`: results of `check_environment` already run (not repeated)."""
    results = check_data(config, sample) + check_eval_data(config, sample)
    if reward_urls is not None:
        judge = check_judge(config)
        if judge is not None:
            results.append(judge)
        results.append(check_reward(config, reward_urls, first_rows(config), reward_env))
    results += check_upstream(argv)
    agent = check_agent(config, argv, reward_env or {})
    if agent is not None:
        results.append(agent)
    results.append(check_model(config))
    results.append(check_outputs(config))
    results.append(check_logging(config))
    results += environment if environment is not None else check_environment(config, dry_run)
    return results
