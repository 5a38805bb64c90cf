"""`seekworld train` with `backend = "trl"`: TRL's GRPOTrainer on one machine.

    config = load_config("examples/configs/trl_cpu_smoke.toml", ["backend=trl"])
    run_trl(config)            # train; OUTPUT = checkpoint.save_path
    run_trl(config, dry_run=True)  # preflight only

The same config file, prepared data and reward variants as the OpenRLHF path. `grpo_arguments`
maps the config onto `GRPOConfig` (docs/train.md, "OpenRLHF flag -> TRL setting", says where TRL
differs); each reward component is a TRL reward function (`seekworld.integrations.trl.rewards`).

Devices: CPU (transformers generation), one GPU (vLLM colocated in the trainer's process when vLLM
imports, else transformers generation), several GPUs of one node under `accelerate launch
--config_file seekworld/train/configs/accelerate_zero3.yaml -m seekworld train ...`.

OUTPUT holds `metrics.jsonl` (one row per logged step), `samples.jsonl` (every scored completion),
TRL checkpoints (`checkpoint-N/`) and the final model + processor (Hugging Face format).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seekworld.train.config import (
    ESTIMATOR_SETTINGS,
    MIN_LR_SCHEDULERS,
    ConfigError,
    TrainConfig,
    zoom_config,
)
from seekworld.train.preflight import CheckResult

if TYPE_CHECKING:
    from seekworld.rewards.judge import JudgeConfig

__all__ = [
    "ESTIMATOR_SETTINGS",
    "TINY_MODEL",
    "check_trl",
    "check_zoom",
    "grpo_arguments",
    "judge_config",
    "resolve_device",
    "run_trl",
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


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))  # set by accelerate / torchrun


def _dtype(config: TrainConfig, device: str) -> str:
    if config["trl.dtype"] != "auto":
        return config["trl.dtype"]
    if device == "cpu":
        return "float32"
    return {"bf16": "bfloat16", "fp16": "float16"}.get(config["deepspeed.param_dtype"], "float32")


def reward_config(config: TrainConfig) -> Any:
    """The variant, weights and country credit the run pays: what `seekworld serve` would pay."""
    from seekworld.rewards.variants import RewardConfig

    return RewardConfig.from_variant(
        config["reward.variant"],
        config["reward.weights"] or None,
        country_credit=config["reward.country_credit"],
    )


def grpo_arguments(config: TrainConfig, device: str, world_size: int = 1) -> dict[str, Any]:
    """The GRPOConfig keyword arguments for `config` (pure; GRPOConfig itself validates them)."""
    from seekworld.integrations.trl.rewards import variant_components

    reward = reward_config(config)
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
        "reward_weights": [w for _, w, _ in variant_components(reward)],
        "multi_objective_aggregation": "sum_then_normalize",  # the weighted sum is the reward, as served
        "gradient_checkpointing": config["deepspeed.gradient_checkpointing"],
        "logging_steps": config["logging.logging_steps"],
        "save_strategy": "steps",
        "save_steps": config["checkpoint.save_steps"],
        "save_total_limit": config["checkpoint.max_num"],
        "report_to": report_to or "none",
        "run_name": config["logging.wandb_run_name"] or None,
        "log_completions": config["trl.log_completions"],
        "use_vllm": vllm is not None,
    }
    zoom = zoom_config(config)
    if zoom is not None:
        from seekworld.integrations.trl.zoom import tool_rounds, zoom_reward_functions

        args["reward_weights"] = zoom_reward_functions(reward, zoom)[1]
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
    from seekworld.rewards.settings import env_setting
    from seekworld.train.launch import reward_settings

    key = env_setting("judge_api_key", env)
    return reward_settings(config, judge_api_key=key).service_config().judge


# ---------------------------------------------------------------- model


def _tiny_model_dir(config: TrainConfig) -> Path:
    return Path(config["checkpoint.save_path"]) / "tiny-random-init"


def model_path(config: TrainConfig) -> str:
    """The model to load: `model.path`, or the tiny random model built under OUTPUT."""
    if config["model.path"] != TINY_MODEL:
        return config["model.path"]
    import torch

    # 64-wide layers gain nothing from intra-op threads, and on a busy small machine the threads'
    # spinning makes each step up to 10x slower.
    torch.set_num_threads(1)
    out = _tiny_model_dir(config)
    if not (out / "config.json").is_file():
        from seekworld.integrations.trl.data import load_prompt_dataset
        from seekworld.train.tiny_qwen import build_warmed_up

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
    name = config["model.attn_implementation"]
    if name != "auto":
        return name
    return "flash_attention_2" if device == "cuda" and importlib.util.find_spec("flash_attn") else "sdpa"


def _cap_pixels(processor: Any, config: TrainConfig) -> Any:
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
    processor = _cap_pixels(AutoProcessor.from_pretrained(path), config)
    model = AutoModelForImageTextToText.from_pretrained(
        path, dtype=getattr(torch, dtype), attn_implementation=_attn_implementation(config, device)
    )
    if config["model.freeze_visual_encoder"]:
        from seekworld.sft.train import freeze_vision

        freeze_vision(model)
    return model, processor


def _bad_words(processor: Any) -> list[list[int]]:
    tokenizer = getattr(processor, "tokenizer", processor)
    ids = [tokenizer.convert_tokens_to_ids(t) for t in VISION_TOKENS]
    return [[i] for i in ids if i is not None and i != tokenizer.unk_token_id]


def _last_checkpoint(output: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output)) if output.is_dir() else None


# ---------------------------------------------------------------- preflight and run


def _probe_reward(config: TrainConfig, funcs: list[Any], weights: list[float]) -> CheckResult:
    """Gold answers must out-score junk through the reward functions the trainer will call."""
    from seekworld.train.preflight import _gold_answer, first_rows

    rows = first_rows(config, 4)
    if rows:
        labels = [r[config["data.label_key"]] for r in rows]
        good = [[{"role": "assistant", "content": _gold_answer(x)}] for x in labels]
        bad = [[{"role": "assistant", "content": "I cannot tell."}] for _ in labels]
        total = {
            kind: [
                sum(w * f(completions=c, label=labels)[i] for f, w in zip(funcs, weights, strict=True))
                for i in range(len(labels))
            ]
            for kind, c in (("gold", good), ("junk", bad))
        }
        ok = all(g > j and math.isfinite(g) for g, j in zip(total["gold"], total["junk"], strict=True))
        detail = (
            f"in-process {config['reward.variant']} ({', '.join(f.__name__ for f in funcs)}): gold answers "
            f"{min(total['gold']):.2f}..{max(total['gold']):.2f}, junk {max(total['junk']):.2f}"
        )
        return CheckResult("reward", ok, detail if ok else detail + ": gold must beat junk")
    return CheckResult("reward", False, "no row with a usable label to probe the reward")


def _zoom_processor(config: TrainConfig, tmp: str) -> tuple[Any, str]:
    """The run's processor for the zoom checks, and where it came from. No download: a hub id not
    in the local cache (and `tiny-random`) is checked on the tiny Qwen2.5-VL tokenizer instead; a
    local folder that does not load raises (the zoom check fails, as the run would)."""
    from transformers import AutoProcessor

    from seekworld.train.tiny_qwen import build_tiny_qwen

    path = config["model.path"]
    why = ""
    if path != TINY_MODEL:
        try:
            return _cap_pixels(AutoProcessor.from_pretrained(path, local_files_only=True), config), path
        except (OSError, ValueError):
            if Path(path).is_dir():
                raise  # a model folder that does not load would fail the run too: the check fails
            why = f" ({path} is not available locally)"
    tiny = build_tiny_qwen(Path(tmp) / "tiny", max_pixels=TINY_MAX_PIXELS, with_model=False).processor
    where = "the tiny Qwen2.5-VL tokenizer" + why
    return _cap_pixels(tiny, config), where


def check_zoom(config: TrainConfig, zoom: Any) -> CheckResult:
    """The zoom tool on TRL (`seekworld.integrations.trl.zoom.preflight`): template, parser, tool,
    crop tokens, and the zoom reward on the data's first labels."""
    import tempfile

    from seekworld.integrations.trl.zoom import preflight
    from seekworld.io.images import open_rgb
    from seekworld.train.preflight import _gold_answer, first_rows

    rows = first_rows(config, 4)
    if not rows:  # as the reward probe of a run without zoom
        return CheckResult("zoom", False, "no row with a usable label to probe the zoom reward")
    probes = [(r[config["data.label_key"]], _gold_answer(r[config["data.label_key"]])) for r in rows]
    image = None
    for row in rows:
        try:
            image = open_rgb(row[config["data.image_key"]][0])
            break
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue
    try:
        with tempfile.TemporaryDirectory(prefix="seekworld-zoom-check-") as tmp:
            processor, where = _zoom_processor(config, tmp)
            ok, detail = preflight(processor, zoom, reward_config(config), probes, image)
    except Exception as exc:  # the preflight reports whatever broke
        return CheckResult("zoom", False, f"zoom tool check failed: {type(exc).__name__}: {exc}")
    detail = f"{detail} (template checked on {where})"
    # The OpenRLHF agent's prompt teaches the <zoom> tag, which this backend never carries out.
    tag_prompt = any(
        "<zoom>[" in json.dumps(r.get(config["data.input_key"]), ensure_ascii=False) for r in rows
    )
    if ok and tag_prompt:
        detail += (
            "\nthe data's prompt explains the <zoom> tag, not the zoom tool call: prepare it with "
            "`seekworld traces prompt-template --tool-call` as --prompt-template"
        )
    return CheckResult("zoom", ok, detail, warning=ok and tag_prompt)


def check_trl(config: TrainConfig, sample: int | None = None) -> list[CheckResult]:
    """Data, reward probe, packages, GRPOConfig: what the TRL run needs before it starts."""
    from seekworld.integrations.trl.data import PreparedDataError, load_prompt_dataset
    from seekworld.integrations.trl.rewards import close_judge, reward_functions
    from seekworld.train.preflight import check_data, check_logging, check_outputs

    results = [r for r in check_data(config, sample) if r.name != "reward"]
    try:
        dataset = load_prompt_dataset(config["data.prompt_data"], config["data.max_samples"])
        results.append(CheckResult("trl data", True, f"{len(dataset)} prompts in TRL's VLM format"))
    except PreparedDataError as exc:
        results.append(CheckResult("trl data", False, str(exc)))

    reward = reward_config(config)
    if reward.needs_judge:
        from seekworld.train.preflight import check_judge

        judged = check_judge(config)
        if judged is not None:
            results.append(judged)
    zoom = zoom_config(config)
    if zoom is None:
        funcs, weights = reward_functions(reward, judge=judge_config(config))
        try:
            results.append(_probe_reward(config, funcs, weights))
        finally:
            close_judge(funcs)
    else:
        results.append(check_zoom(config, zoom))

    missing = [
        m
        for m in ("trl", "transformers", "torch", "datasets", "accelerate")
        if not importlib.util.find_spec(m)
    ]
    if missing:
        results.append(
            CheckResult("packages", False, f"missing {', '.join(missing)}: pip install 'seekworld[trl]'")
        )
        return results
    import trl
    from trl import GRPOConfig

    device = resolve_device(config)
    try:
        args = GRPOConfig(**grpo_arguments(config, device, _world_size()))
    except (ValueError, TypeError, ConfigError) as exc:
        results.append(CheckResult("GRPOConfig", False, f"{type(exc).__name__}: {exc}"))
    else:
        gen = "vLLM " + args.vllm_mode if args.use_vllm else "transformers generation"
        results.append(
            CheckResult(
                "GRPOConfig",
                True,
                f"trl {trl.__version__}, {device}, {gen}; {args.num_generations} samples/prompt, "
                f"scale_rewards={args.scale_rewards}, loss_type={args.loss_type}, beta={args.beta}",
            )
        )
    if config["trl.vllm"] in ("colocate", "server") and not importlib.util.find_spec("vllm"):
        results.append(CheckResult("vllm", False, f"trl.vllm={config['trl.vllm']} but vLLM is not installed"))
    model = config["model.path"]
    if model == TINY_MODEL:
        results.append(
            CheckResult("model", True, f"tiny random Qwen2.5-VL, built in {_tiny_model_dir(config)}")
        )
    else:
        from seekworld.train.preflight import check_model

        results.append(check_model(config))
    results.append(check_outputs(config))
    results.append(check_logging(config))
    return results


def run_trl(config: TrainConfig, dry_run: bool = False, sample: int | None = None) -> int:
    """Preflight, then train. Returns the exit code."""
    from seekworld.train.preflight import format_report

    results = check_trl(config, sample)
    print(format_report(results), flush=True)
    passed = all(r.ok for r in results)
    if dry_run:
        print("dry run: " + ("every check passed" if passed else "fix the failed checks above"))
        return 0 if passed else 1
    if not passed:
        print("seekworld train: not starting: fix the failed checks above", flush=True)
        return 1
    summary = train(config)
    print(json.dumps(summary), flush=True)
    return 0


def train(config: TrainConfig) -> dict[str, Any]:
    """Build the trainer and train; save the final model + processor into OUTPUT."""
    from trl import GRPOConfig, GRPOTrainer

    from seekworld.integrations.trl.callbacks import MetricsWriter
    from seekworld.integrations.trl.data import load_prompt_dataset
    from seekworld.integrations.trl.rewards import reward_functions

    output = Path(config["checkpoint.save_path"])
    output.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config)
    kwargs = grpo_arguments(config, device, _world_size())
    # The arguments first: under `accelerate launch` with ZeRO-3 they switch on the sharded loading
    # that `from_pretrained` checks for.
    args = GRPOConfig(**kwargs)
    model, processor = _load(config, device, _dtype(config, device))
    zoom = zoom_config(config)
    if zoom is not None:
        from seekworld.integrations.trl.zoom import apply_tool_template

        apply_tool_template(processor)
    if not args.use_vllm:
        args.generation_kwargs = {**(args.generation_kwargs or {}), "bad_words_ids": _bad_words(processor)}
    reward = reward_config(config)
    resume = _last_checkpoint(output) if config["checkpoint.load"] else None
    # Each process scores its own slice of the batch: one file per process when there are several.
    rank = int(os.environ.get("RANK", "0"))
    samples = output / ("samples.jsonl" if _world_size() == 1 else f"samples.rank{rank}.jsonl")
    if resume is None:  # a fresh run starts fresh logs (each process its own)
        samples.unlink(missing_ok=True)
        if rank == 0:
            (output / "metrics.jsonl").unlink(missing_ok=True)
    # The judge (rule+judge) is built here, once for the trainer's life.
    tool_kwargs: dict[str, Any] = {}
    if zoom is None:
        funcs, _ = reward_functions(reward, recorder_path=samples, judge=judge_config(config))
    else:  # the zoom tool: one environment per rollout; the rewards score its transcript
        from seekworld.integrations.trl.zoom import environment_factory, zoom_reward_functions

        funcs, _ = zoom_reward_functions(reward, zoom, recorder_path=samples)
        tool_kwargs["environment_factory"] = environment_factory(zoom)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=args,
        train_dataset=load_prompt_dataset(config["data.prompt_data"], config["data.max_samples"]),
        processing_class=processor,
        callbacks=[MetricsWriter(output / "metrics.jsonl", [f.__name__ for f in funcs])],
        **tool_kwargs,
    )
    result = trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(str(output))
    if trainer.is_world_process_zero():
        processor.save_pretrained(str(output))
        from seekworld.train.curves import plot_at_end

        plot_at_end(output)
    return {
        "output": str(output),
        "steps": result.global_step,
        "train_loss": result.training_loss,
        "resumed_from": resume,
    }
