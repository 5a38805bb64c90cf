"""A settings table: a frozen dataclass whose fields are the rows, each declared once.

    class MySettings(SettingsTable):
        port: int = setting(5000, "port", low=1, high=65535, group="server")

A row's field holds its type and default; its `Spec` (the field's metadata) holds the help text, the
environment variable, the `seekworld train` config key, the range or choices, and the group. The front
ends are generated from the rows: argparse flags (the field name with dashes; flag > environment
variable > default), environment variables (`from_env` / `to_env`), command lines (`to_argv`), and
train config keys and their TOML defaults (`from_train`, `toml_section`). Building a table checks
every value against its row, so a value out of range fails where it was given, naming the flag,
variable or key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, get_type_hints

from seekworld.errors import SeekworldError

if TYPE_CHECKING:  # imported when flags are added: the CLI parser imports this module
    import argparse

__all__ = ["Row", "SettingError", "SettingsTable", "Spec", "setting"]

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class SettingError(SeekworldError, ValueError):
    """A setting outside its type or range; the message names the flag (or variable, or key)."""


@dataclass(frozen=True)
class Spec:
    """What the table says about one setting besides its name, type and default."""

    help: str
    env: str | None = None  # environment variable (the reward file is configured by these)
    env_fallback: tuple[str, ...] = ()  # read when `env` is unset (OPENAI_API_KEY)
    train: str | None = None  # `seekworld train` config key; None: not settable there
    train_default: Any = None  # the config's default, when not the table's (None: the table's)
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: value must be > low (else >= low)
    high_open: bool = False
    choices: tuple[str, ...] = ()
    group: str = "service"  # which front ends take it (the table's groups say what each means)
    secret: bool = False  # never put in argv (`ps` shows it), never in train config files
    multiple: bool = False  # a repeatable flag; the values are joined with os.pathsep


def setting(default: Any, help: str, *, default_factory: Any = None, **spec: Any) -> Any:
    """One row of a table: a dataclass field whose metadata is its `Spec`."""
    meta = {"spec": Spec(help, **spec)}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Row:
    name: str
    kind: type  # str, int, float or bool
    optional: bool  # None allowed
    default: Any
    spec: Spec

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        return f"{self.flag} ({self.spec.env})" if self.spec.env else self.flag

    def check(self, value: Any, where: str | None = None) -> None:
        """Raise SettingError unless `value` has the row's type and lies in its range/choices."""
        spec, where = self.spec, where or self.label
        if value is None:
            if not self.optional:
                raise SettingError(f"{where} must be set")
            return
        ok_type = isinstance(value, self.kind) and not (self.kind is not bool and isinstance(value, bool))
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok_type = True
        if not ok_type:
            raise SettingError(f"{where} must be {_type_name(self.kind)}, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise SettingError(f"{where} must be one of {', '.join(spec.choices)}, got {value!r}")
        if spec.low is not None and (value <= spec.low if spec.low_open else value < spec.low):
            raise SettingError(f"{where} must be {'>' if spec.low_open else '>='} {spec.low:g}, got {value}")
        if spec.high is not None and (value >= spec.high if spec.high_open else value > spec.high):
            raise SettingError(
                f"{where} must be {'<' if spec.high_open else '<='} {spec.high:g}, got {value}"
            )

    def parse(self, text: str, where: str) -> Any:
        """The value of `text` (an environment variable, a flag). Raises SettingError."""
        if self.kind is bool:
            low = text.strip().lower()
            if low in _TRUE or low in _FALSE:
                return low in _TRUE
            raise SettingError(f"{where}={text!r} must be 1/0 (true/false)")
        if self.kind is str:
            return text
        try:
            return self.kind(text)
        except ValueError:
            raise SettingError(f"{where}={text!r} is not {_type_name(self.kind)}") from None

    def from_env(self, env: Mapping[str, str]) -> Any:
        """The value its variable(s) give, None when unset."""
        for name in (self.spec.env, *self.spec.env_fallback) if self.spec.env else ():
            if env.get(name, "") != "":
                return self.parse(env[name], name)
        return None


def _type_name(kind: type) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "text"}.get(kind, kind.__name__)


@cache
def rows_of(table: type) -> tuple[Row, ...]:
    """One Row per field of a table, in declaration order."""
    hints = get_type_hints(table)
    out = []
    for f in fields(table):
        hint = hints[f.name]
        args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
        kind = args[0] if args else hint
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        out.append(Row(f.name, kind, bool(args), default, f.metadata["spec"]))
    return tuple(out)


@dataclass(frozen=True)
class SettingsTable:
    """Base of a settings table: the front ends, generated from the subclass's rows."""

    # Group -> title of its flags in --help (None: ungrouped); a row's `Spec.group` is one of them.
    groups: ClassVar[dict[str, str | None]] = {}

    def __post_init__(self) -> None:
        for row in self.rows():
            row.check(getattr(self, row.name))

    @classmethod
    def rows(cls) -> tuple[Row, ...]:
        return rows_of(cls)

    @classmethod
    def row(cls, name: str) -> Row:
        return next(r for r in cls.rows() if r.name == name)

    @classmethod
    def from_sources(
        cls, flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Any:
        """Each setting from its flag (not None), else its environment variable, else its default."""
        flags = flags or {}
        env = {} if env is None else env
        values: dict[str, Any] = {}
        for row in cls.rows():
            if flags.get(row.name) is not None:
                value = flags[row.name]
                values[row.name] = os.pathsep.join(value) if row.spec.multiple else value
                continue
            value = row.from_env(env)
            if value is not None:
                values[row.name] = value
        return cls(**values)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Any:
        """Settings from their environment variables; defaults for the rest."""
        return cls.from_sources(None, os.environ if env is None else env)

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Any:
        """Settings from parsed `add_arguments` flags, falling back to the environment."""
        return cls.from_sources(vars(args), os.environ if env is None else env)

    @classmethod
    def from_train(cls, config: Mapping[str, Any], **given: Any) -> Any:
        """Settings from `seekworld train` config keys ("" = unset), plus `given` fields."""
        values: dict[str, Any] = {}
        for row in cls.rows():
            if row.spec.train is not None:
                value = config[row.spec.train]
                if value != "" or not row.optional:
                    row.check(value, row.spec.train)  # the error names the config key
                    values[row.name] = value
        values.update(given)
        return cls(**values)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, groups: tuple[str, ...] | None = None) -> None:
        """One flag per setting of `groups` (default: all); every default is None (resolved by
        `from_args`)."""
        import argparse

        chosen = tuple(cls.groups) if groups is None else groups
        targets = {
            g: parser.add_argument_group(t) if t else parser for g, t in cls.groups.items() if g in chosen
        }
        for row in cls.rows():
            if row.spec.group not in targets:
                continue
            default = row.default if row.default is not None else "none"
            where = f"; ${row.spec.env}" if row.spec.env else ""
            help_text = f"{row.spec.help} (default: {'***' if row.spec.secret else default}{where})"
            kwargs: dict[str, Any] = {"dest": row.name, "default": None, "help": help_text}
            if row.kind is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kwargs["type"] = _arg_type(row)
                if row.spec.multiple:
                    kwargs["action"] = "append"
                if row.spec.choices:
                    kwargs["choices"] = row.spec.choices
            targets[row.spec.group].add_argument(row.flag, **kwargs)

    def to_argv(self, groups: tuple[str, ...]) -> list[str]:
        """Flags for every non-secret setting of `groups` that is set."""
        argv: list[str] = []
        for row in self.rows():
            value = getattr(self, row.name)
            if row.spec.group not in groups or row.spec.secret or value is None:
                continue
            if row.kind is bool:
                argv.append(row.flag if value else "--no-" + row.flag[2:])
            elif row.spec.multiple:
                argv += [x for part in str(value).split(os.pathsep) if part for x in (row.flag, part)]
            else:
                argv += [row.flag, str(value)]
        return argv

    def to_env(self, groups: tuple[str, ...]) -> dict[str, str]:
        """Environment variables for every non-secret setting of `groups` that is set."""
        env: dict[str, str] = {}
        for row in self.rows():
            value = getattr(self, row.name)
            if row.spec.group not in groups or row.spec.secret or row.spec.env is None or value is None:
                continue
            env[row.spec.env] = ("1" if value else "0") if row.kind is bool else str(value)
        return env

    @classmethod
    def env_vars(cls) -> dict[str, str]:
        """Variable -> help, for every setting that has one."""
        return {r.spec.env: r.spec.help for r in cls.rows() if r.spec.env is not None}

    @classmethod
    def train_keys(cls) -> tuple[str, ...]:
        return tuple(r.spec.train for r in cls.rows() if r.spec.train is not None)

    @classmethod
    def toml_section(cls, section: str) -> str:
        """The `[section]` config lines (`key = default  # help`) of the settings `seekworld train` sets."""
        lines = []
        for row in cls.rows():
            key = row.spec.train
            if key is None or not key.startswith(section + "."):
                continue
            default = row.default if row.spec.train_default is None else row.spec.train_default
            lines.append(f"{key.split('.', 1)[1]} = {_toml(default)}  # {row.spec.help}")
        return "\n".join(lines)


def _arg_type(row: Row) -> Any:
    def convert(text: str) -> Any:
        import argparse

        try:
            return row.parse(text, row.flag)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = _type_name(row.kind)
    return convert


def _toml(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
