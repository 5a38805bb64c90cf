"""`seekworld train`: build a run from a config (upstream OpenRLHF or TRL), check it, run it."""

from __future__ import annotations

import argparse
import json
import shlex
import sys


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train",
        help="direct RL from a config: upstream OpenRLHF (a Ray cluster) or TRL's GRPOTrainer (one "
        "machine, CPU or GPU); checks first (--dry-run: only the checks)",
        description="Builds the run from the default config (SeekWorld's direct-RL run), a --config "
        "file and --set overrides, on the backend the config names (`backend`, or --backend): "
        "openrlhf runs `python -m openrlhf.cli.train_ppo_ray ...` and starts the reward server (and "
        "judge) the config asks for; trl runs TRL's GRPOTrainer in this process. Data, reward, "
        "upstream flags, devices and packages are checked first; --dry-run stops after the checks "
        "(exit 0 only if all pass). Started services are stopped at exit, by PID.",
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
        "--plot",
        default=None,
        metavar="RUN_DIR",
        help="draw RUN_DIR/metrics.jsonl (a training output folder) into RUN_DIR/metrics.png and exit; "
        "a TRL run also draws it when it ends",
    )
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


def _shown(value: object) -> str:
    """A config value as a shell script reads it: true/false, lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, list) else str(value)


def run(args: argparse.Namespace) -> int:
    from seekworld.train.config import default_config_text, load_config
    from seekworld.train.launch import reward_env

    if args.print_default_config:
        sys.stdout.write(default_config_text())
        return 0
    if args.plot:
        from seekworld.train.curves import plot_run

        print(plot_run(args.plot))
        return 0
    if args.write_tiny_model:
        from seekworld.train.tiny_qwen import build_tiny_qwen

        print(build_tiny_qwen(args.write_tiny_model).path)
        return 0
    backend = [f"backend={args.backend}"] if args.backend else []
    config = load_config(args.config, [*args.overrides, *backend])
    if args.get or args.print_env:
        values = [_shown(config[key]) for key in args.get]  # an unknown key fails before any output
        for value in values:
            print(value)
        if args.print_env:
            for name, value in reward_env(config).items():
                print(f"export {name}={shlex.quote(value)}")
        return 0

    # The one place a training backend is chosen: upstream OpenRLHF (Ray, vLLM, DeepSpeed), or TRL's
    # GRPOTrainer in this process (one machine).
    from seekworld.train.hf_messages import quiet_unactionable
    from seekworld.train.run import RunOptions, run_openrlhf

    quiet_unactionable()

    options = RunOptions(dry_run=args.dry_run, sample=args.sample, log_dir=args.log_dir)
    if config["backend"] == "trl":
        from seekworld.integrations.trl.run import run_trl

        return run_trl(config, dry_run=options.dry_run, sample=options.sample)
    return run_openrlhf(config, options)
