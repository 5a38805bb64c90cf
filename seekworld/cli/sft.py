"""`seekworld sft`: cold-start SFT on prepared clue-tracking traces (TRL SFTTrainer; `sft` extra)."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sft",
        help="cold-start SFT of a VLM on clue-tracking traces (TRL)",
        description="Trains on a split written by `seekworld prepare --input-format traces`, with the loss "
        "on the model's turns only, tokenised exactly as the zoom agent's RL transcript. Writes the model "
        "and its processor to train.output_dir: a valid MODEL for the zoom RL script. Multi-GPU: run it "
        "under `accelerate launch -m seekworld sft ...`.",
    )
    p.add_argument("--config", default=None, metavar="FILE", help="TOML file with the keys to change")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one key, e.g. --set train.max_steps=100 (repeatable)",
    )
    p.add_argument("--dry-run", action="store_true", help="check the config and the data, train nothing")
    p.add_argument("--print-default-config", action="store_true", help="print the default config and exit")
    return p


def run(args: argparse.Namespace) -> int:
    from seekworld.sft.config import DEFAULT_CONFIG, load_sft_config
    from seekworld.sft.data import load_rows

    if args.print_default_config:
        print(DEFAULT_CONFIG.read_text(encoding="utf-8"), end="")
        return 0
    config = load_sft_config(args.config, args.set)
    if args.dry_run:
        from seekworld.sft.data import check_rows

        for key in ("data.train", "data.eval"):
            if config[key]:
                rows = load_rows(config[key])
                check_rows(rows, config[key])
                print(f"{key}: {len(rows)} rows ok ({config[key]})")
        print(f"model: {config['model.path']} -> {config['train.output_dir']}")
        return 0
    from seekworld.integrations.trl.sft import run_sft
    from seekworld.train.hf_messages import quiet_unactionable

    quiet_unactionable()
    summary = run_sft(config)
    print(json.dumps(summary))
    return 0
