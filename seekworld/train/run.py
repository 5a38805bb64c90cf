"""One OpenRLHF training run: start services, build and check the command, then train.

`cli/train.py` maps flags onto `RunOptions` and calls `run_openrlhf`; everything that happens
after the config is loaded lives here. Services this run starts are stopped at exit, by PID,
also on Ctrl-C, SIGTERM and SIGHUP.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from seekworld.errors import UsageError
from seekworld.train.command import build_command, format_command
from seekworld.train.config import TrainConfig, absolute_paths
from seekworld.train.launch import LaunchError, Services, reward_env
from seekworld.train.preflight import CheckResult, check_environment, format_report, run_preflight

__all__ = ["RunOptions", "run_openrlhf"]


@dataclass(frozen=True)
class RunOptions:
    dry_run: bool = False  # print the command and run the preflight only
    sample: int | None = None  # decode a random sample of N images (None: all)
    log_dir: str | None = None  # default: <save_path>/logs/<time>; a temp dir for a dry run

    def __post_init__(self) -> None:
        if self.sample is not None and self.sample < 1:
            raise UsageError("--sample must be >= 1")


class _Terminated(Exception):
    """SIGTERM/SIGHUP: unwind so started services are stopped."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signum)


def _log_dir(options: RunOptions, save_path: str) -> Path:
    if options.log_dir:
        return Path(options.log_dir)
    if options.dry_run:
        return Path(tempfile.mkdtemp(prefix="seekworld-train-dry-run-"))
    return Path(save_path) / "logs" / time.strftime("%Y%m%d_%H%M%S")


def _run_training(argv: list[str], env: dict[str, str]) -> int:
    # Same process group as us: Ctrl-C in a terminal reaches it directly; SIGTERM is forwarded.
    proc = subprocess.Popen(argv, env=env)
    try:
        return proc.wait()
    except (KeyboardInterrupt, _Terminated):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def run_openrlhf(config: TrainConfig, options: RunOptions) -> int:
    """Check, then (unless a dry run) train. Returns the exit status: 0 when every check passed
    (dry run) or training finished, 1 when a check failed, 130/128+N when interrupted."""
    config = absolute_paths(config)  # upstream opens them from Ray workers with another cwd

    log_dir = _log_dir(options, config["checkpoint.save_path"])
    print(f"config: {' + '.join(config.sources)}", flush=True)
    environment = None
    if not options.dry_run:
        # GPUs and packages first: without them nothing (reward server, judge) is started.
        environment = check_environment(config, dry_run=False)
        if not all(r.ok for r in environment):
            print(format_report(environment), flush=True)
            print("seekworld train: not starting: fix the failed checks above", file=sys.stderr)
            return 1
    print(f"logs and PID files: {log_dir}", flush=True)
    previous = {s: signal.signal(s, _raise_terminated) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with Services(config, log_dir) as services:
            launch_failure = None
            try:
                services.start()
            except LaunchError as exc:
                launch_failure = CheckResult("services", False, str(exc))
            for name, pid in services.pids().items():
                print(f"started {name}: pid {pid} (log {log_dir / (name + '.log')})", flush=True)
            env = {**os.environ, **reward_env(config)}
            argv = build_command(
                config,
                reward_url=services.reward_url or "http://127.0.0.1:0/get_reward",
                flash_attn=importlib.util.find_spec("flash_attn") is not None,
                wandb_key=os.environ.get("WANDB_API_KEY"),
            )
            shown = format_command(argv)
            (log_dir / "command.sh").write_text(f"#!/usr/bin/env bash\n{shown}\n", encoding="utf-8")
            print(f"\ncommand:\n{shown}\n", flush=True)

            results = run_preflight(
                config,
                argv,
                None if launch_failure else services.reward_urls,
                dry_run=options.dry_run,
                sample=options.sample,
                reward_env=reward_env(config),
                environment=environment,
            )
            if launch_failure:
                results.insert(0, launch_failure)
            print(format_report(results), flush=True)
            passed = all(r.ok for r in results)
            if options.dry_run:
                print("dry run: " + ("every check passed" if passed else "fix the failed checks above"))
                return 0 if passed else 1
            if not passed:
                print("seekworld train: not starting: fix the failed checks above", file=sys.stderr)
                return 1
            print("starting training", flush=True)
            return _run_training(argv, env)
    except KeyboardInterrupt:
        print("seekworld train: interrupted; started services stopped", file=sys.stderr)
        return 130
    except _Terminated as exc:
        print("seekworld train: terminated; started services stopped", file=sys.stderr)
        return 128 + int(exc.args[0])
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
