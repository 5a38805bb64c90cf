"""Entry point of the `seekworld` command.

Each subcommand lives in `seekworld/cli/<name>.py` and exposes
`add_parser(subparsers) -> argparse.ArgumentParser` and `run(args) -> int`.
Modules import their heavy dependencies inside `run`, so `seekworld --help` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from seekworld._version import __version__
from seekworld.errors import SeekworldError

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
        prog="seekworld",
        description="Geolocation reasoning RL toolkit: upstream OpenRLHF on a cluster, TRL on one machine.",
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
    except SeekworldError as exc:
        return _fail(args, str(exc))
    except OSError as exc:
        # A path the user named (missing input, unwritable output): one line, not a traceback.
        # An OSError without a file name is not the user's to fix and keeps its traceback.
        if exc.filename is None:
            raise
        return _fail(args, f"{exc.filename}: {exc.strerror or exc}")
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] == "seekworld":
            raise
        extra = EXTRAS.get(args.command, "test")
        return _fail(
            args,
            f"needs the Python package {exc.name!r}, which is not installed; "
            f"install the extra: pip install 'seekworld[{extra}]'",
        )


def _fail(args: argparse.Namespace, message: str) -> int:
    """Every user-fixable error ends here: `seekworld CMD: message` on stderr, exit 2."""
    command = " ".join(filter(None, (args.command, getattr(args, "traces_command", None))))
    print(f"seekworld {command}: {message}", file=sys.stderr, flush=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
