"""`seekworld train`: build the upstream OpenRLHF command from a config, check it, run it."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train",
        help="direct RL on upstream OpenRLHF: build, check (--dry-run) and run the command",
        description="Builds `python -m openrlhf.cli.train_ppo_ray ...` from the default config "
        "(SeekWorld's direct-RL run), a --config file and --set overrides; starts the reward "
        "server (and judge) the config asks for; checks data, reward, upstream flags, GPUs and "
        "packages; then runs training, or with --dry-run stops after the checks (exit 0 only if all "
        "pass). Started services are stopped at exit, by PID.",
    )
    p.add_argument("--config", default=None, metavar="FILE", help="TOML (or YAML with PyYAML) config file")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set reward.variant=rule+length (repeatable)",
    )
    p.add_argument(
        "--backend",
        choices=("openrlhf", "trl"),
        default=None,
        help="openrlhf (Ray cluster; the default) or trl (TRL GRPOTrainer on one machine); "
        "same as --set backend=...",
    )
    p.add_argument(
        "--write-tiny-model",
        default=None,
        metavar="DIR",
        help="write a tiny random Qwen2.5-VL (model + processor, built offline) to DIR and exit",
    )
    p.add_argument("--dry-run", action="store_true", help="print the command and run the preflight only")
    p.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="decode a random sample of N images (default: all)",
    )
    p.add_argument(
        "--log-dir",
        default=None,
        metavar="DIR",
        help="service logs, PID files and command.sh (default: <save_path>/logs/<time>; a temp dir "
        "for --dry-run)",
    )
    p.add_argument("--print-default-config", action="store_true", help="print the default config and exit")
    p.add_argument(
        "--get",
        action="append",
        default=[],
        metavar="KEY",
        help="print the resolved value of KEY (one line each) and exit; for scripts",
    )
    p.add_argument(
        "--print-env",
        action="store_true",
        help="print `export SEEKWORLD_...=...` lines configuring the in-process reward file like the "
        "server, and exit (a launcher evals them before starting Ray)",
    )
    return p


class _Terminated(Exception):
    """SIGTERM/SIGHUP: unwind so started services are stopped."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signum)


def _log_dir(args: argparse.Namespace, save_path: str) -> Path:
    if args.log_dir:
        return Path(args.log_dir)
    if args.dry_run:
        return Path(tempfile.mkdtemp(prefix="seekworld-train-dry-run-"))
    return Path(save_path) / "logs" / time.strftime("%Y%m%d_%H%M%S")


def _shown(value: object) -> str:
    """A config value as a shell script reads it: true/false, lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, list) else str(value)


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


def run(args: argparse.Namespace) -> int:
    import importlib.util

    from seekworld.train.command import build_command, format_command
    from seekworld.train.config import ConfigError, absolute_paths, default_config_text, load_config
    from seekworld.train.launch import LaunchError, Services, reward_env
    from seekworld.train.preflight import CheckResult, check_environment, format_report, run_preflight

    if args.print_default_config:
        sys.stdout.write(default_config_text())
        return 0
    if args.write_tiny_model:
        from seekworld.train.tiny_qwen import build_tiny_qwen

        print(build_tiny_qwen(args.write_tiny_model).path)
        return 0
    backend = [f"backend={args.backend}"] if args.backend else []
    try:
        config = load_config(args.config, [*args.overrides, *backend])
    except ConfigError as exc:
        print(f"seekworld train: {exc}", file=sys.stderr)
        return 2
    if args.get or args.print_env:
        for key in args.get:
            try:
                value = config[key]
            except ConfigError as exc:
                print(f"seekworld train: {exc}", file=sys.stderr)
                return 2
            print(_shown(value))
        if args.print_env:
            for name, value in reward_env(config).items():
                print(f"export {name}={shlex.quote(value)}")
        return 0
    if args.sample is not None and args.sample < 1:
        print("seekworld train: --sample must be >= 1", file=sys.stderr)
        return 2
    config = absolute_paths(config)  # upstream opens them from Ray workers with another cwd
    if config["backend"] == "trl":
        from seekworld.train.trl_backend import run_trl

        return run_trl(config, dry_run=args.dry_run, sample=args.sample)

    log_dir = _log_dir(args, config["checkpoint.save_path"])
    print(f"config: {' + '.join(config.sources)}", flush=True)
    environment = None
    if not args.dry_run:
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
                dry_run=args.dry_run,
                sample=args.sample,
                reward_env=reward_env(config),
                environment=environment,
            )
            if launch_failure:
                results.insert(0, launch_failure)
            print(format_report(results), flush=True)
            passed = all(r.ok for r in results)
            if args.dry_run:
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
