"""`seekworld sft` configuration: the shipped default TOML, an optional user file, `--set` overrides.

    config = load_sft_config("my.toml", ["train.max_steps=2", "model.path=/ckpt/tiny"])
    config["train.learning_rate"]  # -> 1e-05

Keys are dotted (`section.key`); the default file defines every key and its type, so a typo or a
wrong type is an error that names the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.layered_config import LayeredConfig, load_layered, unknown_key

__all__ = ["DEFAULT_CONFIG", "SFTConfigError", "SFTRunConfig", "load_sft_config"]

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.toml"
DTYPES = ("auto", "bfloat16", "float16", "float32")


class SFTConfigError(SeekworldError, ValueError):
    """A configuration that cannot be used; the message names the key."""


def _unknown(key: str, known: Mapping[str, Any]) -> str:
    return unknown_key(key, known, noun="sft config key", sections_label="Known sections")


class SFTRunConfig(LayeredConfig):
    """Flat, read-only view: dotted key -> value."""

    error_type = SFTConfigError
    unknown = staticmethod(_unknown)


def validate(config: SFTRunConfig) -> None:
    if config["model.dtype"] not in DTYPES:
        raise SFTConfigError(f"model.dtype must be one of {', '.join(DTYPES)}")
    if not config["data.train"]:
        raise SFTConfigError("data.train must name a prepared traces split (.jsonl)")
    for key in ("train.per_device_train_batch_size", "train.gradient_accumulation_steps", "data.max_length"):
        if config[key] < 1:
            raise SFTConfigError(f"{key} must be >= 1")
    if config["train.learning_rate"] <= 0:
        raise SFTConfigError("train.learning_rate must be > 0")
    warmup = config["train.warmup_steps"]
    if warmup < 0:
        raise SFTConfigError("train.warmup_steps must be >= 0 (a float in [0, 1) is a ratio)")


def load_sft_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> SFTRunConfig:
    """Defaults, then the file, then `key=value` overrides; validated. Raises SFTConfigError."""
    values, sources = load_layered(
        DEFAULT_CONFIG.read_text(encoding="utf-8"), path, overrides, SFTConfigError, _unknown
    )
    config = SFTRunConfig(values, sources)
    validate(config)
    return config
