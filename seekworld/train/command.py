"""Config -> the exact `python -m openrlhf.cli.train_ppo_ray ...` command (a pure function).

    argv = build_command(config, reward_url="http://127.0.0.1:5000/get_reward")

`FLAGS` is the one table from config keys to upstream OpenRLHF 0.11.2 flags; the flag names come
from the installed parser (`openrlhf/cli/train_ppo_ray.py`), and the tests check every flag this
module can emit against it. Keys that only drive the launcher are in `LAUNCHER_KEYS`.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any

from seekworld.service.settings import RewardSettings
from seekworld.train.config import TrainConfig
from seekworld.train.gpu_support import Gpu, choose_attention

__all__ = [
    "DERIVED",
    "FLAGS",
    "LAUNCHER_KEYS",
    "UPSTREAM_ENTRY",
    "build_command",
    "format_command",
    "redact",
    "upstream_args",
]

UPSTREAM_ENTRY = "openrlhf.cli.train_ppo_ray"

# Config key (or `=derived` name, see DERIVED) -> upstream flag. A bool emits the bare flag when
# true and nothing when false; "" and None emit nothing; a list emits its items after the flag.
FLAGS: tuple[tuple[str, str], ...] = (
    # model
    ("model.path", "--actor.model_name_or_path"),
    ("=attn_implementation", "--ds.attn_implementation"),
    ("model.freeze_visual_encoder", "--actor.freeze_visual_encoder"),
    # data (VLM prompts as `seekworld prepare` writes them)
    ("data.prompt_data", "--data.prompt_dataset"),
    ("data.input_key", "--data.input_key"),
    ("data.label_key", "--data.label_key"),
    ("data.image_key", "--data.image_key"),
    ("data.apply_chat_template", "--data.apply_chat_template"),
    ("data.max_images_per_prompt", "--data.max_images_per_prompt"),
    ("data.max_samples", "--data.max_samples"),
    ("data.max_len", "--data.max_len"),
    # held-out evaluation (upstream's own, greedy, one sample per prompt), with data.eval_data
    ("data.eval_data", "--eval.dataset"),
    ("=eval_steps", "--eval.steps"),
    ("=eval_temperature", "--eval.temperature"),
    ("=eval_n_samples", "--eval.n_samples_per_prompt"),
    # rollout
    ("rollout.n_samples_per_prompt", "--rollout.n_samples_per_prompt"),
    ("rollout.batch_size", "--rollout.batch_size"),
    ("rollout.micro_batch_size", "--rollout.micro_batch_size"),
    ("rollout.max_new_tokens", "--rollout.max_new_tokens"),
    ("rollout.temperature", "--rollout.temperature"),
    ("rollout.top_p", "--rollout.top_p"),
    # training
    ("train.batch_size", "--train.batch_size"),
    ("train.micro_batch_size", "--train.micro_batch_size"),
    ("train.num_episodes", "--train.num_episodes"),
    ("train.max_epochs", "--train.max_epochs"),
    ("train.seed", "--train.seed"),
    ("algo.advantage_estimator", "--algo.advantage.estimator"),
    ("algo.kl_init_coef", "--algo.kl.init_coef"),
    ("algo.gamma", "--algo.advantage.gamma"),
    ("algo.lambd", "--algo.advantage.lambd"),
    ("actor.lr", "--actor.adam.lr"),
    ("actor.lr_scheduler", "--actor.lr_scheduler"),
    ("actor.lr_warmup_ratio", "--actor.lr_warmup_ratio"),
    ("actor.min_lr_ratio", "--actor.min_lr_ratio"),
    # reward
    ("=reward_url", "--reward.remote_url"),
    ("reward.normalize", "--reward.normalize_enable"),
    # cluster: the actor on every GPU, vLLM engines colocated on the same GPUs
    ("cluster.nodes", "--actor.num_nodes"),
    ("cluster.gpus_per_node", "--actor.num_gpus_per_node"),
    ("cluster.nodes", "--ref.num_nodes"),  # the reference model only loads when kl_init_coef > 0
    ("cluster.gpus_per_node", "--ref.num_gpus_per_node"),
    ("=vllm_num_engines", "--vllm.num_engines"),
    ("cluster.vllm_tensor_parallel_size", "--vllm.tensor_parallel_size"),
    ("cluster.colocate_all", "--train.colocate_all"),
    ("cluster.vllm_gpu_memory_utilization", "--vllm.gpu_memory_utilization"),
    ("cluster.vllm_enable_sleep", "--vllm.enable_sleep"),
    ("cluster.vllm_enable_prefix_caching", "--vllm.enable_prefix_caching"),
    ("cluster.vllm_sync_backend", "--vllm.sync_backend"),
    ("cluster.ds_enable_sleep", "--ds.enable_sleep"),
    # DeepSpeed
    ("deepspeed.zero_stage", "--ds.zero_stage"),
    ("deepspeed.param_dtype", "--ds.param_dtype"),
    ("deepspeed.gradient_checkpointing", "--actor.gradient_checkpointing_enable"),
    ("deepspeed.adam_offload", "--ds.adam_offload"),
    ("deepspeed.packing_samples", "--ds.packing_samples"),  # validated false: emits nothing
    ("deepspeed.dynamic_batch", "--train.dynamic_batch_enable"),  # validated false: emits nothing
    ("deepspeed.ring_attn_size", "--ds.ring_attn_size"),  # validated 1
    # checkpoints
    ("checkpoint.save_path", "--ckpt.output_dir"),
    ("=ckpt_path", "--ckpt.path"),
    ("checkpoint.save_steps", "--ckpt.save_steps"),
    ("checkpoint.load", "--ckpt.load_enable"),
    ("checkpoint.save_hf", "--ckpt.save_hf"),
    ("checkpoint.max_num", "--ckpt.max_num"),
    # logging
    ("logging.logging_steps", "--logger.logging_steps"),
    ("=wandb_key", "--logger.wandb.key"),
    ("=wandb_project", "--logger.wandb.project"),
    ("=wandb_group", "--logger.wandb.group"),
    ("=wandb_run_name", "--logger.wandb.run_name"),
    ("logging.tensorboard_dir", "--logger.tensorboard_dir"),
)

# Keys that configure the launcher, not upstream (the tests check every key is here or in FLAGS).
LAUNCHER_KEYS: frozenset[str] = frozenset(
    {
        "model.attn_implementation",  # resolved into =attn_implementation
        *RewardSettings.train_keys(),  # the reward-service settings (seekworld/service/settings.py)
        "reward.mode",
        "reward.url",
        "reward.host",
        "reward.public_host",
        "reward.port",
        "reward.num_servers",
        "reward.workers",
        "reward.startup_timeout_s",
        "judge.mode",
        "judge.url",
        "judge.host",
        "judge.port",
        "judge.gpus",
        "judge.gpu_memory_utilization",
        "judge.startup_timeout_s",
        "judge.extra_args",
        "cluster.min_gpu_memory_gib",
        "eval.every",  # resolved into =eval_steps
        "eval.max_samples",  # TRL only: upstream evaluates the whole file (capped at data.max_samples)
        "eval.batch_size",  # TRL only
        "logging.wandb",
        "logging.wandb_project",
        "logging.wandb_group",
        "logging.wandb_run_name",
        "upstream.python",
        "upstream.extra_args",  # appended verbatim
        # backend=trl runs TRL in-process instead (seekworld.integrations.trl); not upstream flags
        "backend",
        "trl.device",
        "trl.vllm",
        "trl.vllm_server_base_url",
        "trl.loss_type",
        "trl.max_steps",
        "trl.max_pixels",
        "trl.dtype",
        "trl.log_completions",
        "trl.shuffle_dataset",
        "trl.push_to_hub",
        "trl.hub_model_id",
        "trl.hub_private",
        "trl.tiny_warmup_steps",
        # the zoom tool on backend=trl (seekworld.integrations.trl.zoom; refused with openrlhf)
        "zoom.enabled",
        "zoom.max_crops",
        "zoom.max_turns",
        "zoom.min_box_px",
        "zoom.crop_min_side",
        "zoom.crop_max_pixels",
        "zoom.tool_bonus",
    }
)


def _attn(config: TrainConfig, ctx: dict[str, Any]) -> str:
    return choose_attention(config["model.attn_implementation"], ctx["gpu"], ctx["flash_attn"]).value


def _eval(value: Callable[[TrainConfig], Any]) -> Callable[[TrainConfig, dict[str, Any]], Any]:
    def get(config: TrainConfig, ctx: dict[str, Any]) -> Any:
        return value(config) if config["data.eval_data"] else None

    return get


def _wandb(key: str) -> Callable[[TrainConfig, dict[str, Any]], Any]:
    def get(config: TrainConfig, ctx: dict[str, Any]) -> Any:
        return config[f"logging.{key}"] if config["logging.wandb"] else None

    return get


# `=name` sources of FLAGS: values computed from several keys or from the launch context
# (ctx: reward_url, gpu, flash_attn, wandb_key).
DERIVED: dict[str, Callable[[TrainConfig, dict[str, Any]], Any]] = {
    "attn_implementation": _attn,
    "reward_url": lambda c, ctx: ctx["reward_url"],
    # Colocated: one engine per vllm_tensor_parallel_size GPUs of the actor (upstream asserts it).
    "vllm_num_engines": lambda c, ctx: (
        c["cluster.nodes"] * c["cluster.gpus_per_node"] // c["cluster.vllm_tensor_parallel_size"]
    ),
    "ckpt_path": lambda c, ctx: str(PurePath(c["checkpoint.save_path"]) / "ckpt"),
    "wandb_key": lambda c, ctx: ctx["wandb_key"] if c["logging.wandb"] else None,
    # Greedy held-out evaluation: temperature 0 (vLLM's greedy decoding), one sample per prompt.
    "eval_steps": _eval(lambda c: c["eval.every"]),
    "eval_temperature": _eval(lambda c: 0.0),
    "eval_n_samples": _eval(lambda c: 1),
    "wandb_project": _wandb("wandb_project"),
    "wandb_group": _wandb("wandb_group"),
    "wandb_run_name": _wandb("wandb_run_name"),
}


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # 4e-07, 0.5: exact, and what argparse's float() reads back
    return str(value)


def upstream_args(
    config: TrainConfig,
    *,
    reward_url: str,
    gpu: Gpu | None = None,
    flash_attn: bool = False,
    wandb_key: str | None = None,
) -> list[str]:
    """The flags for train_ppo_ray (without the interpreter and module), in FLAGS order."""
    ctx = {"reward_url": reward_url, "gpu": gpu, "flash_attn": flash_attn, "wandb_key": wandb_key}
    argv: list[str] = []
    for source, flag in FLAGS:
        value = DERIVED[source[1:]](config, ctx) if source.startswith("=") else config[source]
        if value is None or value is False or value == "":
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, list):
            if value:
                argv.extend([flag, *map(_format_value, value)])
        else:
            argv.extend([flag, _format_value(value)])
    argv.extend(config["upstream.extra_args"])
    return argv


def build_command(
    config: TrainConfig,
    *,
    reward_url: str,
    gpu: Gpu | None = None,
    flash_attn: bool = False,
    wandb_key: str | None = None,
    python: str | None = None,
) -> list[str]:
    """The full argv: `<python> -m openrlhf.cli.train_ppo_ray <flags>`.

    reward_url: what `--reward.remote_url` gets (comma-joined URLs, or the reward file's path).
    gpu, flash_attn: this node's weakest GPU and whether flash_attn imports here; together they
    decide model.attn_implementation=auto (seekworld.train.gpu_support.choose_attention).
    wandb_key: passed as `--logger.wandb.key` when logging.wandb is on (upstream takes it so).
    """
    interpreter = python or config["upstream.python"] or sys.executable
    args = upstream_args(config, reward_url=reward_url, gpu=gpu, flash_attn=flash_attn, wandb_key=wandb_key)
    return [interpreter, "-m", UPSTREAM_ENTRY, *args]


_TOKEN_IN_URL = re.compile(r"([?&]token=)[^&,\s]+")


def redact(argv: Sequence[str]) -> list[str]:
    """argv with secret values (the W&B key, reward-server tokens in URLs) replaced, for printing
    and logs."""
    out = [_TOKEN_IN_URL.sub(r"\1***", arg) for arg in argv]
    for i, arg in enumerate(out[:-1]):
        if arg == "--logger.wandb.key":
            out[i + 1] = "***"
    return out


def format_command(argv: Sequence[str]) -> str:
    """A copy-pasteable shell form, one flag per line, secrets redacted."""
    shown = redact(argv)
    lines: list[str] = []
    current: list[str] = []
    for arg in shown:
        if arg.startswith("--") and current:
            lines.append(shlex.join(current))
            current = []
        current.append(arg)
    if current:
        lines.append(shlex.join(current))
    return " \\\n    ".join(lines)
