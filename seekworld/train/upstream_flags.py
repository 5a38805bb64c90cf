"""What the installed OpenRLHF's `train_ppo_ray` accepts, read from its source file.

    flags = read_upstream_flags()
    flags.unknown(["--actor.adam.lr", "4e-7", "--old_flag"])  # -> ["--old_flag"]

`train_ppo_ray` imports Ray and vLLM at module top and builds its parser under
`if __name__ == "__main__":`, so it can be neither imported on a machine without them nor asked
for its parser. Instead the module's source is parsed with `ast` and every option string of every
`add_argument(...)` call is collected, including the f-strings built in loops
(`for prefix in ("actor", "critic"): parser.add_argument(f"--{prefix}.adam.lr")`). Nothing of
openrlhf is imported: the file is found through the `openrlhf` package's spec.

The check is exact: argparse would also accept an unambiguous prefix of a flag, which hides a
rename (`--ckpt.save_hf` still parses if upstream renames it `--ckpt.save_hf_enable`).

`check_with_upstream_parser` goes one step further: it runs the parser-building statements of that
`__main__` block (plus upstream's own argument validation, without `train(args)`) on a command,
so wrong types, bad choices and upstream's asserts show up too. The helper that block imports
(`openrlhf.utils.config.hierarchize`) is loaded from its file alone, so no torch is needed.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import importlib.metadata
import importlib.util
import io
import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError

__all__ = [
    "UPSTREAM_MODULE",
    "ParserCheck",
    "UpstreamFlags",
    "UpstreamSourceError",
    "check_with_upstream_parser",
    "find_upstream_source",
    "option_tokens",
    "read_upstream_flags",
]

UPSTREAM_MODULE = "openrlhf.cli.train_ppo_ray"


class UpstreamSourceError(SeekworldError, RuntimeError):
    """The upstream source cannot be found or read."""


def find_upstream_source(module: str = UPSTREAM_MODULE) -> Path:
    """Path of the module's source, located through its top package's spec (nothing is imported)."""
    top, *rest = module.split(".")
    # find_spec of a top-level name does not run the package; of a submodule, it would.
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise UpstreamSourceError(
            f"{top} is not installed: pip install 'seekworld[train]' (GPU) or "
            f"pip install --no-deps openrlhf==0.11.2 (to check commands on CPU)"
        )
    for location in spec.submodule_search_locations:
        path = Path(location, *rest[:-1], rest[-1] + ".py") if rest else Path(location, "__init__.py")
        if path.is_file():
            return path
    raise UpstreamSourceError(f"{module} has no source file in {list(spec.submodule_search_locations)}")


def _strings(node: ast.expr, env: dict[str, list[str]]) -> list[str] | None:
    """Every string value `node` can take given loop variables `env`, or None if not static."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.JoinedStr):
        parts: list[list[str]] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                if value.format_spec is not None or value.conversion not in (-1, ord("s")):
                    return None
                got = _strings(value.value, env)
            else:
                got = _strings(value, env)
            if got is None:
                return None
            parts.append(got)
        return ["".join(p) for p in itertools.product(*parts)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left, env), _strings(node.right, env)
        if left is None or right is None:
            return None
        return [a + b for a, b in itertools.product(left, right)]
    return None


class _Collector(ast.NodeVisitor):
    def __init__(self) -> None:
        self.env: dict[str, list[str]] = {}
        self.options: set[str] = set()
        self.unresolved: list[int] = []  # line numbers of add_argument calls not read statically

    def visit_For(self, node: ast.For) -> None:
        # `for prefix in ("actor", "critic"):` binds prefix to those strings inside the loop.
        values = None
        if isinstance(node.target, ast.Name) and isinstance(node.iter, (ast.Tuple, ast.List)):
            values = [_strings(e, self.env) for e in node.iter.elts]
        if values is not None and all(v is not None and len(v) == 1 for v in values):
            name = node.target.id  # type: ignore[union-attr]
            saved = self.env.get(name)
            self.env[name] = [v[0] for v in values]  # type: ignore[index]
            for child in node.body:
                self.visit(child)
            if saved is None:
                self.env.pop(name)
            else:
                self.env[name] = saved
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            for arg in node.args:
                got = _strings(arg, self.env)
                if got is None:
                    self.unresolved.append(node.lineno)
                    continue
                self.options.update(s for s in got if s.startswith("-"))
        self.generic_visit(node)


@dataclass(frozen=True)
class UpstreamFlags:
    path: Path
    version: str | None
    options: frozenset[str]
    unresolved_lines: tuple[int, ...] = ()  # add_argument calls whose option strings are dynamic

    def unknown(self, argv: Sequence[str]) -> list[str]:
        """The option tokens of `argv` that the upstream parser does not define (exactly)."""
        return [flag for flag in option_tokens(argv) if flag not in self.options]


def option_tokens(argv: Iterable[str]) -> list[str]:
    """The `--flag` tokens of a command line (`--flag=value` counts as `--flag`)."""
    return [a.split("=", 1)[0] for a in argv if a.startswith("--") and len(a) > 2]


def _upstream_version() -> str | None:
    try:
        return importlib.metadata.version("openrlhf")
    except importlib.metadata.PackageNotFoundError:
        return None


def read_upstream_flags(path: str | os.PathLike[str] | None = None) -> UpstreamFlags:
    """Collect the option strings of every add_argument call in upstream's train_ppo_ray source."""
    source_path = Path(path) if path is not None else find_upstream_source()
    try:
        tree = ast.parse(source_path.read_text(encoding="utf-8"), filename=str(source_path))
    except (OSError, SyntaxError) as exc:
        raise UpstreamSourceError(f"cannot read {source_path}: {exc}") from None
    collector = _Collector()
    collector.visit(tree)
    if not collector.options:
        raise UpstreamSourceError(
            f"{source_path} defines no add_argument options: has upstream changed layout?"
        )
    return UpstreamFlags(
        source_path, _upstream_version(), frozenset(collector.options), tuple(collector.unresolved)
    )


@dataclass(frozen=True)
class ParserCheck:
    ok: bool | None  # None: upstream's parser could not be run here (detail says why)
    detail: str
    output: str = ""  # what upstream's validation printed (its warnings)
    args: Any = None  # upstream's own (hierarchized, validated) args namespace when ok


def _main_block(tree: ast.Module) -> list[ast.stmt]:
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__"
        ):
            return node.body
    raise UpstreamSourceError("no `if __name__ == '__main__':` block")


def _is_parse_args(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Assign)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr == "parse_args"
    )


def _calls_train(stmt: ast.stmt) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "train"
        for n in ast.walk(stmt)
    )


def _load_standalone(module: str) -> object | None:
    """An upstream helper module loaded by path, without its package's __init__ (which imports torch
    and transformers); None if it does not load on its own."""
    try:
        path = find_upstream_source(module)
        spec = importlib.util.spec_from_file_location("_seekworld_upstream_" + module.replace(".", "_"), path)
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        return loaded
    except Exception:  # e.g. it imports its package: the block's own import statement then runs
        return None


def _inline_imports(body: list[ast.stmt], namespace: dict[str, object]) -> list[ast.stmt]:
    """Replace `from openrlhf.x import name` statements by names from modules loaded standalone."""
    out: list[ast.stmt] = []
    for stmt in body:
        if (
            isinstance(stmt, ast.ImportFrom)
            and stmt.module
            and stmt.module.startswith("openrlhf.")
            and stmt.level == 0
        ):
            loaded = _load_standalone(stmt.module)
            if loaded is not None and all(hasattr(loaded, a.name) for a in stmt.names):
                for alias in stmt.names:
                    namespace[alias.asname or alias.name] = getattr(loaded, alias.name)
                continue
        out.append(stmt)
    return out


def check_with_upstream_parser(
    argv: Sequence[str], path: str | os.PathLike[str] | None = None
) -> ParserCheck:
    """Parse `argv` (flags only, no `python -m ...`) with upstream's own parser and validation.

    Runs the statements of train_ppo_ray's `__main__` block with `parser.parse_args()` given `argv`
    and without the final `train(args)`: nothing starts, nothing is imported but what that block
    imports itself (openrlhf.utils.config).
    """
    source_path = Path(path) if path is not None else find_upstream_source()
    try:
        tree = ast.parse(source_path.read_text(encoding="utf-8"), filename=str(source_path))
        body = _main_block(tree)
    except (OSError, SyntaxError, UpstreamSourceError) as exc:
        return ParserCheck(None, f"could not read upstream's parser: {exc}")
    split = next((i for i, stmt in enumerate(body) if _is_parse_args(stmt)), None)
    if split is None:
        return ParserCheck(None, "upstream's __main__ block has no `args = parser.parse_args()`")
    # The names the block uses from the module's top-level imports.
    namespace: dict[str, object] = {"argparse": argparse, "datetime": datetime.datetime, "os": os}
    namespace["__name__"] = "seekworld_upstream_parser"
    build = ast.Module(body=body[:split], type_ignores=[])
    after_body = [s for s in body[split + 1 :] if not _calls_train(s)]
    # `from openrlhf.utils.config import hierarchize` would import torch and transformers through
    # openrlhf.utils/__init__: load that small module by path instead when it stands alone.
    after = ast.Module(body=_inline_imports(after_body, namespace), type_ignores=[])
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            exec(compile(build, str(source_path), "exec"), namespace)
            parser = namespace["parser"]
            assert isinstance(parser, argparse.ArgumentParser)
            parser.prog = "train_ppo_ray"
            try:
                namespace["args"] = parser.parse_args(list(argv))
            except SystemExit:
                lines = err.getvalue().strip().splitlines()
                return ParserCheck(
                    False, f"upstream's parser rejects the command: {lines[-1] if lines else '?'}"
                )
            try:
                exec(compile(after, str(source_path), "exec"), namespace)
            except AssertionError as exc:
                return ParserCheck(False, f"upstream's validation fails: {exc}", out.getvalue())
    except ImportError as exc:
        return ParserCheck(None, f"upstream's validation needs {exc.name or exc}: not run")
    except Exception as exc:  # upstream code we do not control: report, don't crash the preflight
        return ParserCheck(None, f"could not run upstream's parser: {type(exc).__name__}: {exc}")
    return ParserCheck(
        True, "upstream's parser and validation accept the command", out.getvalue(), namespace["args"]
    )
