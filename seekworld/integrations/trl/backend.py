"""`seekworld train` with `backend = "trl"`: the config mapped onto TRL's GRPOTrainer, the model
loaded, and the run (`train`). Preflight: `seekworld.integrations.trl.preflight`; the command's entry
point: `seekworld.integrations.trl.run.run_trl`.

    config = load_config("examples/configs/trl_cpu_smoke.toml", ["backend=trl"])
    grpo_arguments(config, "cpu")   # the GRPOConfig keyword arguments
    train(config)                   # OUTPUT = checkpoint.save_path

The same config file, prepared data and reward variants as the OpenRLHF path. `grpo_arguments`
maps the config onto `GRPOConfig` (docs/train.md, "OpenRLHF flag -> TRL setting", says where TRL
differs); the reward is one TRL reward function, the variant's total (`seekworld.integrations.trl.rewards`).

Devices: CPU (transformers generation), one GPU (vLLM colocated in the trainer's process when vLLM
imports, else transformers generation), several GPUs of one node under `accelerate launch
--config_file seekworld/train/configs/accelerate_zero3.yaml -m seekworld train ...`.

OUTPUT holds `metrics.jsonl` (one row per logged step, with the collapse and hacking monitors of
`seekworld.rewards.monitors`, and one per held-out evaluation: `seekworld.integrations.trl.heldout`),
`samples.jsonl` (every scored completion), TRL checkpoints (`checkpoint-N/`) and the final model +
processor (Hugging Face format).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from seekworld.integrations.trl.data import load_prompt_dataset
from seekworld.integrations.trl.hub import hub_arguments
from seekworld.integrations.trl.rewards import reward_function
from seekworld.integrations.trl.sft import freeze_vision
from seekworld.integrations.trl.zoom import (
    apply_tool_template,
    environment_factory,
    tool_rounds,
    zoom_reward_function,
)
from seekworld.rewards.judge import JudgeConfig
from seekworld.rewards.variants import RewardConfig
from seekworld.service.settings import RewardSettings
from seekworld.train.config import (
    ESTIMATOR_SETTINGS,
    MIN_LR_SCHEDULERS,
    ConfigError,
    TrainConfig,
    zoom_config,
)
from seekworld.train.curves import plot_at_end
from seekworld.train.gpu_support import choose_attention, local_gpu, log_once, probe, trl_dtype
from seekworld.train.launch import reward_settings
from seekworld.train.places import with_monitor_places
from seekworld.train.tiny_qwen import build_warmed_up
from seekworld.zoom.reward import episode_config

__all__ = [
    "TINY_MAX_PIXELS",
    "TINY_MODEL",
    "cap_pixels",
    "grpo_arguments",
    "judge_config",
    "resolve_device",
    "reward_config",
    "tiny_model_dir",
    "train",
    "world_size",
]

TINY_MODEL = "tiny-random"
TINY_MAX_PIXELS = 112 * 112  # 16 visual tokens per image: a smoke run stays fast on 2 cores
TINY_WARMUP_PROMPTS = 32  # the format warm-up's prompts: the data's first rows, with their pictures
# Tokens a policy must never emit: a sampled <|image_pad|> breaks the next forward pass.
VISION_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")


def resolve_device(config: TrainConfig) -> str:
    """cpu or cuda."""
    if config["trl.device"] != "auto":
        return config["trl.device"]
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _vllm_mode(config: TrainConfig, device: str) -> str | None:
    mode = config["trl.vllm"]
    if mode == "auto":
        return "colocate" if device == "cuda" and importlib.util.find_spec("vllm") is not None else None
    return None if mode == "off" else mode


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))  # set by accelerate / torchrun


def _dtype(config: TrainConfig, device: str) -> str:
    return log_once("dtype", trl_dtype(config, device, local_gpu() if device == "cuda" else None)).value


def reward_config(config: TrainConfig) -> Any:
    """The variant, weights and country credit the run pays: what `seekworld serve` would pay."""
    return RewardConfig.from_variant(
        config["reward.variant"],
        config["reward.weights"] or None,
        country_credit=config["reward.country_credit"],
    )


def grpo_arguments(config: TrainConfig, device: str, world_size: int = 1) -> dict[str, Any]:
    """The GRPOConfig keyword arguments for `config` (pure; GRPOConfig itself validates them)."""
    scale_rewards, loss_type = ESTIMATOR_SETTINGS[config["algo.advantage_estimator"]]
    per_step = config["train.micro_batch_size"] * world_size
    if config["train.batch_size"] % per_step:
        raise ConfigError(
            f"train.batch_size ({config['train.batch_size']}) must be a multiple of micro_batch_size * "
            f"processes ({per_step})"
        )
    vllm = _vllm_mode(config, device)
    dtype = _dtype(config, device)
    report_to = (["wandb"] if config["logging.wandb"] else []) + (
        ["tensorboard"] if config["logging.tensorboard_dir"] else []
    )
    args: dict[str, Any] = {
        "output_dir": config["checkpoint.save_path"],
        "use_cpu": device == "cpu",
        "bf16": dtype == "bfloat16",
        "fp16": dtype == "float16",
        "seed": config["train.seed"],
        "learning_rate": config["actor.lr"],
        # upstream's schedule: transformers' scheduler by name, warm-up as a share of the steps
        "lr_scheduler_type": config["actor.lr_scheduler"],
        "warmup_steps": config["actor.lr_warmup_ratio"],
        "lr_scheduler_kwargs": (
            {"min_lr_rate": config["actor.min_lr_ratio"]}
            if config["actor.lr_scheduler"] in MIN_LR_SCHEDULERS
            else None
        ),
        "beta": config["algo.kl_init_coef"],
        "num_generations": config["rollout.n_samples_per_prompt"],
        "generation_batch_size": config["rollout.batch_size"] * config["rollout.n_samples_per_prompt"],
        "per_device_train_batch_size": config["train.micro_batch_size"],
        "gradient_accumulation_steps": config["train.batch_size"] // per_step,
        "num_iterations": config["train.max_epochs"],
        "num_train_epochs": config["train.num_episodes"],
        "max_steps": config["trl.max_steps"] or -1,
        "max_completion_length": config["rollout.max_new_tokens"],
        "temperature": config["rollout.temperature"],
        "top_p": config["rollout.top_p"],
        "scale_rewards": scale_rewards,
        "loss_type": loss_type or config["trl.loss_type"],
        "reward_weights": [1.0],  # one function: the variant's total, as served
        "gradient_checkpointing": config["deepspeed.gradient_checkpointing"],
        "logging_steps": config["logging.logging_steps"],
        "save_strategy": "steps",
        "save_steps": config["checkpoint.save_steps"],
        "save_total_limit": config["checkpoint.max_num"],
        "report_to": report_to or "none",
        "run_name": config["logging.wandb_run_name"] or None,
        "log_completions": config["trl.log_completions"],
        "shuffle_dataset": config["trl.shuffle_dataset"],
        "use_vllm": vllm is not None,
    }

    args.update(hub_arguments(config))
    zoom = zoom_config(config)
    if zoom is not None:
        args["max_tool_calling_iterations"] = tool_rounds(zoom)
    if vllm is not None:
        args.update(
            vllm_mode=vllm,
            vllm_gpu_memory_utilization=config["cluster.vllm_gpu_memory_utilization"],
            vllm_enable_sleep_mode=config["cluster.vllm_enable_sleep"],
            vllm_tensor_parallel_size=config["cluster.vllm_tensor_parallel_size"],
            vllm_max_model_length=config["data.max_len"],
        )
        if vllm == "server":
            args["vllm_server_base_url"] = config["trl.vllm_server_base_url"]
    return args


def judge_config(config: TrainConfig, env: Mapping[str, str] | None = None) -> JudgeConfig | None:
    """The `JudgeConfig` of the config's `judge.*` keys (None when the variant has no judge).

    Mapped through the settings table as for `seekworld serve` (`judge.url`, `judge.model`,
    `judge.timeout_s`, `judge.breaker_*`, `judge.budget_s`...); the API key comes from the environment
    only ($SEEKWORLD_JUDGE_API_KEY, else $OPENAI_API_KEY), never from a config file."""
    key = RewardSettings.row("judge_api_key").from_env(os.environ if env is None else env)
    return reward_settings(config, judge_api_key=key).service_config().judge


def tiny_model_dir(config: TrainConfig) -> Path:
    return Path(config["checkpoint.save_path"]) / "tiny-random-init"


def model_path(config: TrainConfig) -> str:
    """The model to load: `model.path`, or the tiny random model built under OUTPUT."""
    if config["model.path"] != TINY_MODEL:
        return config["model.path"]
    import torch

    # 64-wide layers gain nothing from intra-op threads, and on a busy small machine the threads'
    # spinning makes each step up to 10x slower.
    torch.set_num_threads(1)
    out = tiny_model_dir(config)
    if not (out / "config.json").is_file():
        rows = load_prompt_dataset(config["data.prompt_data"], config["data.max_samples"])
        first = rows.select(range(min(TINY_WARMUP_PROMPTS, len(rows))))
        build_warmed_up(
            out,
            first["prompt"],
            rows["label"],
            images=[row[0] if row else None for row in first["images"]],
            steps=config["trl.tiny_warmup_steps"],
            seed=config["train.seed"],
            max_pixels=TINY_MAX_PIXELS,
        )
    return str(out)


def _attn_implementation(config: TrainConfig, device: str) -> str:
    gpu, flash_attn = probe() if device == "cuda" else (None, False)
    return log_once("attention", choose_attention(config["model.attn_implementation"], gpu, flash_attn)).value


def cap_pixels(processor: Any, config: TrainConfig) -> Any:
    if config["trl.max_pixels"] > 0:
        processor.image_processor.max_pixels = config["trl.max_pixels"]
        processor.image_processor.size = {  # a SizeDict on transformers 5: dict() reads either
            **dict(processor.image_processor.size),
            "longest_edge": config["trl.max_pixels"],
        }
    return processor


def _load(config: TrainConfig, device: str, dtype: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    path = model_path(config)
    processor = cap_pixels(AutoProcessor.from_pretrained(path), config)
    model = AutoModelForImageTextToText.from_pretrained(
        path, dtype=getattr(torch, dtype), attn_implementation=_attn_implementation(config, device)
    )
    if config["model.freeze_visual_encoder"]:
        freeze_vision(model)
    return model, processor


def _bad_words(processor: Any) -> list[list[int]]:
    tokenizer = getattr(processor, "tokenizer", processor)
    ids = [tokenizer.convert_tokens_to_ids(t) for t in VISION_TOKENS]
    return [[i] for i in ids if i is not None and i != tokenizer.unk_token_id]


def _held_out(config: TrainConfig, processor: Any) -> Any:
    """The held-out evaluation of `data.eval_data` (None without it)."""
    if not config["data.eval_data"]:
        return None
    from seekworld.integrations.trl.heldout import HeldOut

    rows = load_prompt_dataset(config["data.eval_data"], config["eval.max_samples"] or None)
    return HeldOut(rows, config["rollout.max_new_tokens"], config["eval.batch_size"], _bad_words(processor))


def _card(config: TrainConfig, rows: int) -> Any:
    """The model card writer (seekworld.integrations.trl.model_card), from the run's config."""
    from seekworld.integrations.trl.model_card import CardFacts, ModelCardWriter

    output = Path(config["checkpoint.save_path"])
    facts = CardFacts(
        name=output.name,
        base_model=config["model.path"],
        data=config["data.prompt_data"],
        rows=rows,
        variant=config["reward.variant"],
        tiny=config["model.path"] == TINY_MODEL,
    )
    return ModelCardWriter(output, facts)


def train(config: TrainConfig) -> dict[str, Any]:
    """Build the trainer and train; save the final model + processor into OUTPUT."""
    from trl import GRPOConfig

    from seekworld.integrations.trl.callbacks import MetricsWriter
    from seekworld.integrations.trl.checkpoints import prepare_resume
    from seekworld.integrations.trl.heldout import EvalSchedule, SeekworldGRPOTrainer

    config = with_monitor_places(config)  # accuracy/<id> is logged for these
    output = Path(config["checkpoint.save_path"])
    output.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config)
    kwargs = grpo_arguments(config, device, world_size())
    # The arguments first: under `accelerate launch` with ZeRO-3 they switch on the sharded loading
    # that `from_pretrained` checks for.
    args = GRPOConfig(**kwargs)
    model, processor = _load(config, device, _dtype(config, device))
    zoom = zoom_config(config)
    if zoom is not None:
        apply_tool_template(processor)
    if not args.use_vllm:
        args.generation_kwargs = {**(args.generation_kwargs or {}), "bad_words_ids": _bad_words(processor)}
    reward = reward_config(config)
    # Each process scores its own slice of the batch: one file per process when there are several.
    rank = int(os.environ.get("RANK", "0"))
    samples = output / ("samples.jsonl" if world_size() == 1 else f"samples.rank{rank}.jsonl")
    logs = [samples, output / "metrics.jsonl"] if rank == 0 else [samples]
    main = os.environ.get("LOCAL_RANK", "0") == "0"
    resume = prepare_resume(output, config["checkpoint.load"], logs, main=main)  # logs cut to its step
    # The judge (rule+judge) is built here, once for the trainer's life.
    tool_kwargs: dict[str, Any] = {}
    if zoom is None:
        monitor = reward_settings(config).monitor_config()
        func = reward_function(
            reward, recorder_path=samples, judge=judge_config(config), monitor=monitor, warn=rank == 0
        )
        components = list(reward.components)
    else:  # the zoom tool: one environment per rollout; the reward scores its transcript
        func = zoom_reward_function(reward, zoom, recorder_path=samples)
        components = list(episode_config(reward).components)
        tool_kwargs["environment_factory"] = environment_factory(zoom)
    held_out = _held_out(config, processor)
    dataset = load_prompt_dataset(config["data.prompt_data"], config["data.max_samples"])
    callbacks: list[Any] = [MetricsWriter(output / "metrics.jsonl", components), _card(config, len(dataset))]
    if held_out is not None:
        callbacks.append(EvalSchedule(config["eval.every"]))
    trainer = SeekworldGRPOTrainer(
        model=model,
        reward_funcs=[func],
        args=args,
        train_dataset=dataset,
        processing_class=processor,
        callbacks=callbacks,
        **tool_kwargs,
    )
    trainer.held_out = held_out
    result = trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(str(output))
    if trainer.is_world_process_zero():
        processor.save_pretrained(str(output))
        plot_at_end(output)
    return {
        "output": str(output),
        "steps": result.global_step,
        "train_loss": result.training_loss,
        "resumed_from": resume,
    }
