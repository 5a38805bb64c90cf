"""Training configuration: the shipped default TOML, an optional user file, then `--set` overrides.

    config = load_config("my.toml", ["reward.variant=rule+length", "cluster.gpus_per_node=4"])
    config["rollout.n_samples_per_prompt"]  # -> 16

Keys are dotted (`section.key`); the default file defines every key and its type, so a typo or a
wrong type is an error that names the key, not a silently ignored setting. `validate` refuses the
settings upstream OpenRLHF cannot train a VLM with, before any command is built.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from seekworld.errors import SeekworldError, UnknownNameError
from seekworld.io.net import is_loopback
from seekworld.layered_config import LayeredConfig, load_layered, parse_value, unknown_key

__all__ = [
    "FORBIDDEN_UPSTREAM_FLAGS",
    "PATH_KEYS",
    "ConfigError",
    "TrainConfig",
    "absolute_paths",
    "default_config_text",
    "load_config",
    "parse_value",
    "validate",
    "zoom_config",
]

BACKENDS = ("openrlhf", "trl")
REWARD_MODES = ("server", "url", "file")
JUDGE_MODES = ("none", "start", "url")
# Estimators that compare the samples of one prompt: upstream asserts n_samples_per_prompt > 1.
GROUP_ESTIMATORS = ("rloo", "reinforce_baseline", "group_norm", "dr_grpo")
ESTIMATORS = (*GROUP_ESTIMATORS, "reinforce", "flash_reinforce", "gae")

# Upstream flags that must not reach a VLM run through `upstream.extra_args` (the config keys that
# would set them are checked in `validate`): flag prefix -> why.
FORBIDDEN_UPSTREAM_FLAGS: dict[str, str] = {
    "--critic.": "VLM training in upstream OpenRLHF has no critic",
    "--ds.packing_samples": "packing breaks the alignment of image tokens and pixel values",
    "--train.dynamic_batch_enable": "dynamic batching switches packing back on",
    "--ds.ring_attn_size": "ring attention switches packing back on",
    "--algo.advantage.estimator": "set algo.advantage_estimator instead (it is checked)",
    "--reward.remote_url": "set reward.mode / reward.url instead (the launcher fills it in)",
}


class ConfigError(SeekworldError, ValueError):
    """A configuration that cannot be used; the message names the key and what to change."""


def _unknown_key(key: str, known: Mapping[str, Any]) -> str:
    return unknown_key(key, known, see=" (see --print-default-config)")


class TrainConfig(LayeredConfig):
    """Flat, read-only view of a configuration: dotted key -> value (TOML types)."""

    error_type = ConfigError
    unknown = staticmethod(_unknown_key)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some keys changed; keys use `__` for the dot (reward__url="...")."""
        values = dict(self.values)
        for name, value in changes.items():
            values[name.replace("__", ".")] = value
        return TrainConfig(MappingProxyType(values), self.sources)


SETTINGS_MARKER = "#@ reward-service settings"


def default_config_text() -> str:
    """The shipped, commented default configuration.

    The reward-service keys (`reward.variant`, `judge.verdict`...) are rendered from the settings
    table where the file says `#@ reward-service settings`, so they cannot drift from the server.
    """
    from seekworld.service.settings import RewardSettings

    text = resources.files("seekworld.train").joinpath("configs/default.toml").read_text(encoding="utf-8")
    lines, section = [], ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[] ")
        lines.append(RewardSettings.toml_section(section) if line.strip() == SETTINGS_MARKER else line)
    return "\n".join(lines) + "\n"


def load_config(path: str | os.PathLike[str] | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Defaults, then the file at `path`, then `key=value` overrides; validated. Raises ConfigError."""
    values, sources = load_layered(default_config_text(), path, overrides, ConfigError, _unknown_key)
    config = TrainConfig(values, sources)
    validate(config)
    return config


# Keys holding local paths. Upstream opens them in Ray workers, whose working directory is not
# the launcher's: they are made absolute before the command is built.
PATH_KEYS = (
    "data.prompt_data",
    "data.eval_data",
    "checkpoint.save_path",
    "logging.tensorboard_dir",
    "model.path",
)


def absolute_paths(config: TrainConfig, cwd: str | os.PathLike[str] | None = None) -> TrainConfig:
    """`config` with relative local paths made absolute (a hub id such as Qwen/... stays as it is)."""
    base = Path(cwd) if cwd is not None else Path.cwd()
    values = dict(config.values)
    for key in PATH_KEYS:
        value = values[key]
        if not value:
            continue
        parts = []
        for part in value.split(",") if key.endswith("_data") else [value]:
            p = Path(part.strip())
            is_hub_id = key == "model.path" and not (base / p).exists()
            parts.append(part.strip() if p.is_absolute() or is_hub_id else str(base / p))
        values[key] = ",".join(parts)
    return TrainConfig(MappingProxyType(values), config.sources)


def _positive(config: TrainConfig, *keys: str) -> None:
    for key in keys:
        if config[key] <= 0:
            raise ConfigError(f"{key} must be > 0, got {config[key]}")


# The TRL backend's vocabulary (seekworld/integrations/trl/backend.py maps it onto GRPOConfig).
# algo.advantage_estimator -> (scale_rewards, loss_type or None to keep trl.loss_type).
# TRL always subtracts the group mean; scale_rewards says which std divides it.
ESTIMATOR_SETTINGS: dict[str, tuple[str, str | None]] = {
    "reinforce_baseline": ("batch", None),  # group mean baseline, batch std (SeekWorld's recipe)
    "group_norm": ("group", None),  # GRPO: group mean and group std
    "dr_grpo": ("none", "dr_grpo"),
}
# transformers' scheduler names that both backends build from (lr, warm-up steps, total steps) alone;
# the *_min_lr ones also take min_lr_ratio.
LR_SCHEDULERS = (
    "linear",
    "cosine",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "constant",
    "constant_with_warmup",
)
MIN_LR_SCHEDULERS = ("cosine_with_min_lr", "cosine_warmup_with_min_lr")
DEVICES = ("auto", "cpu", "cuda")
VLLM_MODES = ("auto", "colocate", "server", "off")
DTYPES = ("auto", "float32", "bfloat16", "float16")
# A Hugging Face repository id (trl.hub_model_id, pushed by seekworld.integrations.trl.hub).
_HUB_REPO_ID = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*")


def _validate_trl(config: TrainConfig) -> None:
    """Settings the TRL path cannot use, refused with the reason. Raises ConfigError."""
    from seekworld.rewards.variants import RewardConfig

    estimator = config["algo.advantage_estimator"]
    if estimator not in ESTIMATOR_SETTINGS:
        raise ConfigError(
            f"backend=trl: algo.advantage_estimator={estimator} has no TRL equivalent (TRL always uses the "
            f"group mean as baseline); use one of {', '.join(ESTIMATOR_SETTINGS)}"
        )
    for key, allowed in (("trl.device", DEVICES), ("trl.vllm", VLLM_MODES), ("trl.dtype", DTYPES)):
        if config[key] not in allowed:
            raise ConfigError(f"{key} must be one of {', '.join(allowed)}, got {config[key]!r}")
    if config["trl.vllm"] == "server" and not config["trl.vllm_server_base_url"]:
        raise ConfigError("trl.vllm=server needs trl.vllm_server_base_url (the `trl vllm-serve` URL)")
    for key in (
        "rollout.n_samples_per_prompt",
        "rollout.batch_size",
        "train.batch_size",
        "train.micro_batch_size",
        "rollout.max_new_tokens",
        "train.num_episodes",
    ):
        if config[key] <= 0:
            raise ConfigError(f"{key} must be > 0, got {config[key]}")
    if config["rollout.n_samples_per_prompt"] < 2:
        raise ConfigError(
            "rollout.n_samples_per_prompt must be > 1: TRL's advantage is relative to the group"
        )
    if config["trl.tiny_warmup_steps"] < 0:
        raise ConfigError(f"trl.tiny_warmup_steps must be >= 0, got {config['trl.tiny_warmup_steps']}")
    if config["train.batch_size"] % config["train.micro_batch_size"]:
        raise ConfigError(
            f"train.batch_size ({config['train.batch_size']}) must be a multiple of train.micro_batch_size "
            f"({config['train.micro_batch_size']}) (times the number of processes)"
        )
    samples = config["rollout.batch_size"] * config["rollout.n_samples_per_prompt"]
    if samples % config["train.batch_size"]:
        raise ConfigError(
            f"rollout.batch_size * n_samples_per_prompt ({samples}) must be a multiple of train.batch_size "
            f"({config['train.batch_size']}): TRL trains on whole generation batches"
        )
    try:
        reward = RewardConfig.from_variant(config["reward.variant"], config["reward.weights"] or None)
    except (UnknownNameError, ValueError) as exc:
        raise ConfigError(f"reward.variant / reward.weights: {exc}") from None
    _validate_trl_judge(config, reward.needs_judge)
    _validate_trl_zoom(config, reward.needs_judge)
    repo = config["trl.hub_model_id"]
    if repo and (len(repo) > 96 or not _HUB_REPO_ID.fullmatch(repo)):
        raise ConfigError(
            f"trl.hub_model_id={repo!r}: use 'name' or 'user-or-org/name' (letters, digits, . _ -)"
        )


def zoom_config(config: TrainConfig) -> Any:
    """The `ZoomConfig` of the `[zoom]` section (`seekworld.zoom.protocol`), or None when zoom is off.
    Raises ConfigError for a value the protocol refuses."""
    if not config["zoom.enabled"]:
        return None
    from seekworld.errors import UsageError
    from seekworld.zoom.protocol import ZoomConfig

    prefix = "zoom."
    values = {k[len(prefix) :]: v for k, v in config.values.items() if k.startswith(prefix)}
    values.pop("enabled")
    if values.get("max_turns") == 0:
        values["max_turns"] = None  # TOML has no null: 0 means the protocol's default
    try:
        return ZoomConfig.from_mapping(values)
    except (UsageError, TypeError) as exc:
        raise ConfigError(f"[zoom]: {exc}") from None


def _validate_trl_zoom(config: TrainConfig, needs_judge: bool) -> None:
    zoom = zoom_config(config)
    if zoom is None:
        return
    if needs_judge:
        raise ConfigError(
            f"backend=trl with zoom.enabled: reward.variant={config['reward.variant']} weighs the LLM judge, "
            "which the TRL zoom tool does not call yet; use a variant without it, or the OpenRLHF agent"
        )
    if config["data.eval_data"]:
        raise ConfigError(
            "backend=trl with zoom.enabled: the held-out evaluation (data.eval_data) answers without the "
            "zoom tool, so its figures would not be the policy's; leave data.eval_data empty and run "
            "`seekworld eval` on the saved checkpoints"
        )
    if zoom.max_crops < 1:
        raise ConfigError("zoom.enabled needs zoom.max_crops >= 1")
    if zoom.turn_limit < 2:  # every turn but the last may zoom: one turn leaves TRL no tool round
        raise ConfigError("zoom.enabled needs zoom.max_turns >= 2 (or 0, the default 2 * max_crops + 2)")


def _validate_trl_judge(config: TrainConfig, needs_judge: bool) -> None:
    """The judge is called in the trainer's process at `judge.url`; TRL starts no server beside it."""
    from seekworld.service.settings import RewardSettings, SettingError

    try:
        RewardSettings.from_train(config)  # types and ranges of the judge.* (and reward.*) keys
    except SettingError as exc:
        raise ConfigError(str(exc)) from None
    mode = config["judge.mode"]
    if mode not in JUDGE_MODES:
        raise ConfigError(f"judge.mode must be one of {', '.join(JUDGE_MODES)}, got {mode!r}")
    if mode == "start":
        raise ConfigError(
            "backend=trl: judge.mode=start is OpenRLHF-only (the TRL trainer starts no process beside "
            "itself, and a judge sharing its GPU would compete with training): run `vllm serve "
            "<judge.model>` yourself and set judge.mode=url, judge.url=http://HOST:PORT/v1"
        )
    if needs_judge and mode == "none":
        raise ConfigError(
            f"backend=trl: reward.variant={config['reward.variant']} scores with an LLM judge: set "
            "judge.mode=url and judge.url (an OpenAI-compatible base URL serving judge.model)"
        )
    if mode == "url":
        url = config["judge.url"].strip()
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"judge.mode=url needs judge.url, an http(s) OpenAI-compatible base URL, got {url!r}"
            )
        if not needs_judge:
            raise ConfigError(
                f"judge.mode=url but reward.variant={config['reward.variant']} has no judge component"
            )


def _validate_schedule(config: TrainConfig) -> None:
    name = config["actor.lr_scheduler"]
    if name not in LR_SCHEDULERS:
        raise ConfigError(f"actor.lr_scheduler must be one of {', '.join(LR_SCHEDULERS)}, got {name!r}")
    if not 0 <= config["actor.lr_warmup_ratio"] < 1:
        raise ConfigError(f"actor.lr_warmup_ratio must be in [0, 1), got {config['actor.lr_warmup_ratio']}")
    if not 0 <= config["actor.min_lr_ratio"] <= 1:
        raise ConfigError(f"actor.min_lr_ratio must be in [0, 1], got {config['actor.min_lr_ratio']}")


def validate(config: TrainConfig) -> None:
    """Refuse what upstream cannot train a VLM with, and inconsistent settings. Raises ConfigError."""
    if config["backend"] not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {config['backend']!r}")
    _validate_eval(config)
    _validate_schedule(config)
    if config["backend"] == "trl":
        _validate_trl(config)
        return
    if config["trl.push_to_hub"]:
        raise ConfigError(
            "trl.push_to_hub is for backend=trl; OpenRLHF writes Hugging Face folders (checkpoint.save_hf, "
            "and the final model in checkpoint.save_path): upload one with `hf upload` (docs/train.md)"
        )
    if config["zoom.enabled"]:
        raise ConfigError(
            "zoom.enabled is for backend=trl (the `zoom` tool); on OpenRLHF, zoom is the agent file: use "
            "seekworld/train/configs/zoom.toml and set SEEKWORLD_ZOOM_* variables (docs/zoom.md)"
        )
    _validate_vlm(config)
    _validate_sizes(config)
    _validate_reward(config)


def _validate_eval(config: TrainConfig) -> None:
    if config["data.eval_data"]:
        _positive(config, "eval.every", "eval.batch_size")
    if config["eval.max_samples"] < 0:
        raise ConfigError(f"eval.max_samples must be >= 0 (0 = all), got {config['eval.max_samples']}")


def _validate_vlm(config: TrainConfig) -> None:
    # The settings VLM training forbids. Upstream asserts on some only after Ray is up, and turns
    # packing back on by itself for dynamic batching and ring attention (which then fails inside
    # the model): refuse them all here, with the reason.
    estimator = config["algo.advantage_estimator"]
    if estimator == "gae":
        raise ConfigError(
            "algo.advantage_estimator=gae needs a critic, and upstream OpenRLHF trains no critic for a "
            "VLM: use reinforce_baseline (SeekWorld's), rloo, group_norm or dr_grpo"
        )
    if estimator not in ESTIMATORS:
        close = difflib.get_close_matches(estimator, ESTIMATORS, n=2)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ConfigError(
            f"unknown algo.advantage_estimator {estimator!r}.{hint} Known: {', '.join(ESTIMATORS)}"
        )
    if config["deepspeed.packing_samples"]:
        raise ConfigError(
            "deepspeed.packing_samples=true is refused: VLM training cannot pack samples (packing "
            "collapses the batch, so image tokens no longer line up with pixel values, and Qwen's "
            "M-RoPE positions are computed by the model)"
        )
    if config["deepspeed.dynamic_batch"]:
        raise ConfigError(
            "deepspeed.dynamic_batch=true is refused: upstream turns sample packing on for dynamic "
            "batching, which VLM training cannot use"
        )
    if config["deepspeed.ring_attn_size"] != 1:
        raise ConfigError(
            "deepspeed.ring_attn_size must be 1: ring attention turns sample packing on, which VLM "
            "training cannot use"
        )
    for arg in config["upstream.extra_args"]:
        for prefix, why in FORBIDDEN_UPSTREAM_FLAGS.items():
            if arg.split("=", 1)[0].startswith(prefix):
                raise ConfigError(f"upstream.extra_args: {arg} is refused: {why}")


def _validate_sizes(config: TrainConfig) -> None:
    estimator = config["algo.advantage_estimator"]
    _positive(
        config,
        "rollout.n_samples_per_prompt",
        "rollout.batch_size",
        "rollout.micro_batch_size",
        "rollout.max_new_tokens",
        "train.batch_size",
        "train.micro_batch_size",
        "train.num_episodes",
        "cluster.nodes",
        "cluster.gpus_per_node",
        "cluster.vllm_tensor_parallel_size",
        "data.max_images_per_prompt",
        "data.max_len",
        "reward.num_servers",
        "reward.workers",
    )
    if estimator in GROUP_ESTIMATORS and config["rollout.n_samples_per_prompt"] < 2:
        raise ConfigError(
            f"{estimator} compares the samples of a prompt: rollout.n_samples_per_prompt must be > 1 "
            "(with 1, every advantage is 0 and training does nothing)"
        )
    if config["rollout.max_new_tokens"] >= config["data.max_len"]:
        raise ConfigError(
            f"rollout.max_new_tokens ({config['rollout.max_new_tokens']}) must be below data.max_len "
            f"({config['data.max_len']}), which also holds the prompt and its image tokens"
        )
    gpus = config["cluster.nodes"] * config["cluster.gpus_per_node"]
    tp = config["cluster.vllm_tensor_parallel_size"]
    if gpus % tp:
        raise ConfigError(
            f"cluster.vllm_tensor_parallel_size ({tp}) must divide nodes * gpus_per_node ({gpus})"
        )
    samples = config["rollout.batch_size"] * config["rollout.n_samples_per_prompt"]
    # Upstream asserts this after parsing; the same words here, before anything starts.
    if samples // config["rollout.micro_batch_size"] < gpus:
        raise ConfigError(
            "rollout.batch_size * n_samples_per_prompt / rollout.micro_batch_size must be at least the "
            f"number of actor GPUs ({gpus})"
        )
    if config["deepspeed.zero_stage"] not in (0, 1, 2, 3):
        raise ConfigError(f"deepspeed.zero_stage must be 0-3, got {config['deepspeed.zero_stage']}")


def _validate_reward(config: TrainConfig) -> None:
    from seekworld.rewards.variants import RewardConfig
    from seekworld.service.settings import RewardSettings, SettingError

    mode = config["reward.mode"]
    if mode not in REWARD_MODES:
        raise ConfigError(f"reward.mode must be one of {', '.join(REWARD_MODES)}, got {mode!r}")
    try:
        settings = RewardSettings.from_train(config)  # types and ranges of the table's keys
    except SettingError as exc:
        raise ConfigError(str(exc)) from None
    try:
        reward = RewardConfig.from_variant(settings.reward, settings.weights)
    except (UnknownNameError, ValueError) as exc:
        raise ConfigError(f"reward.variant / reward.weights: {exc}") from None
    if mode == "url":
        urls = [u for u in config["reward.url"].split(",") if u.strip()]
        if not urls:
            raise ConfigError("reward.mode=url needs reward.url (http://HOST:PORT/get_reward)")
        for url in urls:
            if not url.strip().startswith(("http://", "https://")):
                raise ConfigError(f"reward.url {url!r} must be an http(s) URL")
    if mode == "server" and config["cluster.nodes"] > 1 and is_loopback(config["reward.host"]):
        raise ConfigError(
            f"cluster.nodes={config['cluster.nodes']}: rollout workers on the other nodes cannot reach a "
            "reward server on loopback. Set reward.host=0.0.0.0 (and reward.public_host=<this node's "
            "address> if needed), or reward.mode=file"
        )
    judge_mode = config["judge.mode"]
    if judge_mode not in JUDGE_MODES:
        raise ConfigError(f"judge.mode must be one of {', '.join(JUDGE_MODES)}, got {judge_mode!r}")
    if reward.needs_judge and mode == "server" and judge_mode == "none":
        raise ConfigError(
            f"reward.variant={config['reward.variant']} scores with an LLM judge: set judge.mode=start "
            "(vllm serve judge.model on judge.gpus) or judge.mode=url with judge.url"
        )
    if judge_mode == "url" and not config["judge.url"]:
        raise ConfigError(
            "judge.mode=url needs judge.url (an OpenAI-compatible base URL, e.g. http://HOST:8001/v1)"
        )
    if judge_mode != "none" and not reward.needs_judge:
        raise ConfigError(
            f"judge.mode={judge_mode} but reward.variant={config['reward.variant']} has no judge component"
        )
