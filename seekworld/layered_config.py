"""Layered configuration: a shipped default TOML, an optional user file, then `--set key=value` overrides.

    values, sources = load_layered(default_text, "my.toml", ["train.max_steps=2"], error=MyConfigError)

Keys are dotted (`section.key`); the default text defines every key and its type, so a typo or a
wrong type is an error (of the caller's exception class) that names the key, not a silently ignored
setting. `LayeredConfig` is the flat, read-only view a command wraps around the result; each
command keeps its own defaults, validation, exception class and message wording.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from seekworld.errors import UnknownNameError

try:  # Python 3.11+; tomli is the same parser for 3.10
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = [
    "LayeredConfig",
    "coerce",
    "flatten",
    "load_layered",
    "parse_value",
    "read_config_file",
    "unknown_key",
]


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys: {"a": {"b": 1}} -> {"a.b": 1}."""
    flat: dict[str, Any] = {}
    for name, value in tree.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def parse_value(text: str) -> Any:
    """A `--set` value: a TOML value when it reads as one (4e-7, true, [1, 2], "x"), else the text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def unknown_key(
    key: str,
    known: Mapping[str, Any],
    *,
    noun: str = "config key",
    sections_label: str = "Sections",
    see: str = "",
) -> str:
    """The message for a key that is not in `known`, with the closest keys and the sections."""
    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    sections = sorted({k.split(".")[0] for k in known})
    return f"unknown {noun} {key!r}.{hint} {sections_label}: {', '.join(sections)}{see}"


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        type(value), type(value).__name__
    )


def coerce(
    key: str, value: Any, default: Any, raw: str | None = None, *, error: type[Exception] = ValueError
) -> Any:
    """`value` as the type of the default, or `error`. `raw` is the --set text, if any."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
        if raw is not None:  # `--set model.path=123` means the string "123"
            return raw
    elif isinstance(default, list):
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str):  # --set judge.extra_args=--a,--b
            return [p for p in (s.strip() for s in value.split(",")) if p]
    shown = raw if raw is not None else repr(value)
    raise error(f"{key} must be {_type_name(default)}, got {shown}")


def read_config_file(path: Path, error: type[Exception]) -> dict[str, Any]:
    """A user config file (TOML; YAML for .yaml/.yml when PyYAML is installed), flattened."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read config {path}: {exc.strerror or exc}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ModuleNotFoundError:
            raise error(f"{path}: YAML configs need PyYAML (pip install pyyaml); or use TOML") from None
        try:
            tree = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise error(f"{path}: not valid YAML: {exc}") from None
    else:
        try:
            tree = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise error(f"{path}: not valid TOML: {exc}") from None
    if not isinstance(tree, Mapping):
        raise error(f"{path}: the top level must be a table of sections")
    return flatten(tree)


def load_layered(
    defaults_text: str,
    path: str | os.PathLike[str] | None,
    overrides: Sequence[str],
    error: type[Exception],
    unknown: Callable[[str, Mapping[str, Any]], str] = unknown_key,
) -> tuple[MappingProxyType[str, Any], tuple[str, ...]]:
    """Defaults, then the file at `path`, then `key=value` overrides: (values, sources).

    Every key must be in the defaults (else `error` with the message of `unknown`) and every value
    of the default's type (else `error`). Validation is the caller's.
    """
    defaults = flatten(tomllib.loads(defaults_text))
    values = dict(defaults)
    sources = ["default"]
    if path is not None:
        p = Path(path)
        for key, value in read_config_file(p, error).items():
            if key not in defaults:
                raise error(f"{p}: {unknown(key, defaults)}")
            values[key] = coerce(key, value, defaults[key], error=error)
        sources.append(str(p))
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise error(f"--set {item!r} must look like section.key=value")
        if key not in defaults:
            raise error(unknown(key, defaults))
        values[key] = coerce(key, parse_value(raw.strip()), defaults[key], raw.strip(), error=error)
        sources.append(f"--set {key}")
    return MappingProxyType(values), tuple(sources)


@dataclass(frozen=True)
class LayeredConfig:
    """Flat, read-only view of a configuration: dotted key -> value (TOML types).

    A subclass sets `error_type` and may override `unknown` for its own wording.
    """

    values: Mapping[str, Any]
    sources: tuple[str, ...] = ("default",)

    error_type: ClassVar[type[Exception]] = UnknownNameError

    @staticmethod
    def unknown(key: str, known: Mapping[str, Any]) -> str:
        return unknown_key(key, known)

    def __getitem__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise self.error_type(self.unknown(key, self.values)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def section(self, name: str) -> dict[str, Any]:
        """The keys of one section, without the prefix: section("reward")["variant"]."""
        prefix = name + "."
        return {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}
