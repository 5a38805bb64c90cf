"""`seekworld reward-func-path`: print the in-process reward file for `--reward.remote_url`."""

from __future__ import annotations

import argparse
import importlib.util


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return sub.add_parser(
        "reward-func-path",
        help="print the path of the in-process reward file (for --reward.remote_url)",
        description="Upstream OpenRLHF loads reward_func(queries, prompts, labels) from this file when "
        "--reward.remote_url ends in .py. Configure it with SEEKWORLD_* environment variables.",
    )


def path() -> str:
    # find_spec locates the file without running it (running it builds the reward service).
    spec = importlib.util.find_spec("seekworld.integrations.openrlhf.reward_func")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("seekworld.integrations.openrlhf.reward_func is not installed")
    return spec.origin


def run(args: argparse.Namespace) -> int:
    print(path())
    return 0
