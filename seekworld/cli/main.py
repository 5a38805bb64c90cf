"""Entry point of the `seekworld` command.

Each subcommand lives in `seekworld/cli/<name>.py` and exposes
`add_parser(subparsers) -> argparse.ArgumentParser` and `run(args) -> int`.
Modules import their heavy dependencies inside `run`, so `seekworld --help` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from seekworld import __version__

# Subcommand name -> module under seekworld.cli (module names avoid Python keywords and clashes).
SUBCOMMANDS: dict[str, str] = {
    "score": "score",
    "eval": "evaluate",
    "predict": "predict",
    "demo": "demo",
    "serve": "serve",
    "reward-func-path": "reward_func_path",
    "train": "train",
    "prepare": "prepare",
    "sft": "sft",
    "traces": "traces",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seekworld", description="Geolocation reasoning RL toolkit on upstream OpenRLHF."
    )
    parser.add_argument("--version", action="version", version=f"seekworld {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in SUBCOMMANDS.values():
        mod = importlib.import_module(f"seekworld.cli.{module}")
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


# The extra that brings each subcommand's third-party dependencies (see pyproject.toml).
EXTRAS: dict[str, str] = {
    "serve": "serve",
    "prepare": "prepare",
    "train": "train",
    "eval": "eval",
    "predict": "eval",
    "demo": "demo",
    "sft": "sft",
    "traces": "sft",
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] == "seekworld":
            raise
        extra = EXTRAS.get(args.command, "test")
        print(
            f"seekworld {args.command}: needs the Python package {exc.name!r}, which is not installed; "
            f"install the extra: pip install 'seekworld[{extra}]'",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
