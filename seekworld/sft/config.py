"""`seekworld sft` configuration: the shipped default TOML, an optional user file, `--set` overrides.

    config = load_sft_config("my.toml", ["train.max_steps=2", "model.path=/ckpt/tiny"])
    config["train.learning_rate"]  # -> 1e-05

Keys are dotted (`section.key`); the default file defines every key and its type, so a typo or a
wrong type is an error that names the key.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

try:  # Python 3.11+; tomli is the same parser for 3.10
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = ["DEFAULT_CONFIG", "SFTConfigError", "SFTRunConfig", "load_sft_config"]

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "default.toml"
DTYPES = ("auto", "bfloat16", "float16", "float32")


class SFTConfigError(ValueError):
    """A configuration that cannot be used; the message names the key."""


@dataclass(frozen=True)
class SFTRunConfig:
    """Flat, read-only view: dotted key -> value."""

    values: Mapping[str, Any]
    sources: tuple[str, ...] = ("default",)

    def __getitem__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise SFTConfigError(_unknown(key, self.values)) from None

    def section(self, name: str) -> dict[str, Any]:
        prefix = name + "."
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in tree.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _unknown(key: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return f"unknown sft config key {key!r}.{hint} Known sections: " + ", ".join(
        sorted({k.split(".")[0] for k in known})
    )


def _coerce(key: str, value: Any, default: Any, raw: str | None = None) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif isinstance(default, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
        if raw is not None:
            return raw
    kind = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}[type(default)]
    raise SFTConfigError(f"{key} must be {kind}, got {raw if raw is not None else repr(value)}")


def _parse(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


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
    defaults = _flatten(tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8")))
    values = dict(defaults)
    sources = ["default"]
    if path is not None:
        p = Path(path)
        try:
            tree = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SFTConfigError(f"cannot read config {p}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SFTConfigError(f"{p}: not valid TOML: {exc}") from None
        for key, value in _flatten(tree).items():
            if key not in defaults:
                raise SFTConfigError(f"{p}: {_unknown(key, defaults)}")
            values[key] = _coerce(key, value, defaults[key])
        sources.append(str(p))
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SFTConfigError(f"--set {item!r} must look like section.key=value")
        if key not in defaults:
            raise SFTConfigError(_unknown(key, defaults))
        values[key] = _coerce(key, _parse(raw.strip()), defaults[key], raw.strip())
        sources.append(f"--set {key}")
    config = SFTRunConfig(MappingProxyType(values), tuple(sources))
    validate(config)
    return config
