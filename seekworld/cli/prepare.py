"""`seekworld prepare`: SeekWorld-style data -> upstream OpenRLHF prompt JSONL, checked (CPU only)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

_SPLIT_PREFIX = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]*)=(.+)$")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "prepare",
        help="turn SeekWorld data into OpenRLHF prompt data (images checked, resized, balanced)",
        description="Reads lmm-r1 JSONL, a table + images, or a Hugging Face dataset; writes "
        "DIR/<split>.jsonl (prompt/images/label rows for upstream OpenRLHF with --data.input_key "
        "prompt --data.label_key label --data.image_key images --data.apply_chat_template), "
        "DIR/images/, rejected.jsonl and report.json/report.md/countries.png. "
        "Rerunning the same command resumes.",
    )
    p.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="[SPLIT=]PATH",
        help="input file/folder, or hf:NAME[:split]; repeat for several. SPLIT= puts it in that split "
        "(default: --split)",
    )
    p.add_argument(
        "--input-format",
        default="auto",
        help="auto (default), lmm-r1, table, hf, or traces (clue-tracking traces -> multi-turn SFT rows; "
        "applies to all inputs)",
    )
    p.add_argument("--output", required=True, metavar="DIR", help="output folder (created; reused on rerun)")
    p.add_argument("--split", default="train", help="split name for inputs without SPLIT= (default: train)")
    p.add_argument(
        "--balance",
        default=None,
        metavar="SPEC",
        help="difficulty weights, e.g. easy=2,medium=2,hard=1 (unknown=N for rows without one), or none. "
        "Default: easy=2,medium=2,hard=1 for splits named train*, none for other splits; "
        "an explicit SPEC applies to every split",
    )
    p.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        help="pixel budget per image; larger images are downscaled to at most N/784 Qwen2.5-VL visual "
        "tokens (default: 1024*28*28 = 802816, i.e. 1,024 tokens)",
    )
    p.add_argument(
        "--min-side", type=int, default=64, help="reject images with a side under N px (default 64)"
    )
    p.add_argument("--workers", type=int, default=1, help="image worker processes (default 1)")
    p.add_argument("--seed", type=int, default=0, help="shuffle seed for balancing (default 0)")
    p.add_argument(
        "--prompt-template",
        default=None,
        metavar="FILE",
        help="JSON {'system': ..., 'question': ...} or a text file (the question); "
        "'{question}' inserts the row's own question",
    )
    p.add_argument(
        "--label-format",
        default="auto",
        choices=["auto", "string", "json"],
        help="label field: $country,region$ string, or a JSON object string with lat/lon and the image "
        "path (auto: JSON when the row has coordinates)",
    )
    p.add_argument(
        "--image-root", default=None, help="folder relative image paths start from (default: the input's)"
    )
    p.add_argument("--datasource", default=None, help="datasource for rows without a source (default: split)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def parse_inputs(values: list[str], default_split: str) -> list[tuple[str, str]]:
    """`[SPLIT=]PATH` strings -> (split, path); a path that exists as given is never split on '='."""
    out = []
    for value in values:
        m = _SPLIT_PREFIX.match(value)
        if m and not value.startswith("hf:") and not Path(value).exists():
            out.append((m.group(1), m.group(2)))
        else:
            out.append((default_split, value))
    return out


def run(args: argparse.Namespace) -> int:
    from seekworld.prepare.balance import parse_balance
    from seekworld.prepare.formats import FORMATS
    from seekworld.prepare.images import DEFAULT_MAX_PIXELS
    from seekworld.prepare.pipeline import USE_DEFAULT, PrepareConfig, prepare
    from seekworld.prepare.prompts import PromptTemplate

    if args.input_format not in ("auto", "traces"):
        FORMATS.get(args.input_format)  # an unknown name raises with "did you mean"
    weights = USE_DEFAULT if args.balance is None else parse_balance(args.balance)
    template = PromptTemplate.load(args.prompt_template) if args.prompt_template else PromptTemplate()
    cfg = PrepareConfig(
        inputs=parse_inputs(args.input, args.split),
        output=args.output,
        input_format=args.input_format,
        balance=weights,
        max_pixels=args.max_pixels if args.max_pixels is not None else DEFAULT_MAX_PIXELS,
        min_side=args.min_side,
        workers=args.workers,
        seed=args.seed,
        template=template,
        label_format=args.label_format,
        image_root=args.image_root,
        datasource=args.datasource,
        progress=not args.no_progress,
    )
    try:
        report = prepare(cfg)
    except KeyboardInterrupt:
        print("seekworld prepare: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    out = Path(args.output)
    for split, s in report["splits"].items():
        target = out / f"{split}.jsonl"
        print(f"{split}: {s['rows']} rows ({s['samples']} samples, {s['rejected']} rejected) -> {target}")
        if s["rows"] == 0:
            print(f"warning: split {split} has no rows (see rejected.jsonl)")
    if report["leakage"]:
        print(f"warning: {len(report['leakage'])} image(s) appear in more than one split (see report.md)")
    if report["unresolved_labels"]:
        n = len(report["unresolved_labels"])
        print(f"note: {n} label(s) not resolved in the gazetteer (kept; see report.md)")
    print(f"report: {out / 'report.md'}")
    return 0
