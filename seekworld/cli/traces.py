"""`seekworld traces`: clue-tracking traces for the zoom agent.

seekworld traces prepare --input traces.jsonl --output DIR        # -> DIR/sft.jsonl (SFT rows)
seekworld traces collect --engine openai --model M --input DIR/train.jsonl --output traces.jsonl
seekworld traces prompt-template --output zoom_prompt.json        # for `seekworld prepare`
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _zoom_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("zoom settings (default: SEEKWORLD_ZOOM_* variables, else the protocol's)")
    g.add_argument("--max-crops", type=int, default=None, help="crops per episode (default 4)")
    g.add_argument("--max-turns", type=int, default=None, help="turns per episode (default 2*max-crops+2)")
    g.add_argument("--crop-max-pixels", type=int, default=None, help="pixel budget of a crop")
    g.add_argument("--crop-min-side", type=int, default=None, help="small crops are upscaled to this side")
    g.add_argument("--min-box-px", type=int, default=None, help="smallest box side in original pixels")


def _zoom_config(args: argparse.Namespace):
    from dataclasses import replace

    from seekworld.zoom.protocol import ZoomConfig

    config = ZoomConfig.from_env()
    changes = {
        name: getattr(args, name)
        for name in ("max_crops", "max_turns", "crop_max_pixels", "crop_min_side", "min_box_px")
        if getattr(args, name, None) is not None
    }
    return replace(config, **changes)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "traces",
        help="clue-tracking traces: prepare for SFT, collect from a VLM, zoom prompt",
        description="Traces are JSONL {image, label, steps: [{text, zoom}], answer} "
        "(see seekworld.traces.schema).",
    )
    verbs = p.add_subparsers(dest="traces_command", metavar="VERB")
    verbs.required = True

    prep = verbs.add_parser(
        "prepare",
        help="traces -> multi-turn SFT rows (same as `seekworld prepare --input-format traces`)",
        description="Writes DIR/<split>.jsonl rows (prompt, images: photo + crops, label, turns, messages) "
        "in exactly the transcript shape the zoom agent produces at RL time, plus the prepare report.",
    )
    prep.add_argument("--input", action="append", required=True, metavar="[SPLIT=]PATH", help="traces JSONL")
    prep.add_argument("--output", required=True, metavar="DIR")
    prep.add_argument("--split", default="sft", help="split for inputs without SPLIT= (default: sft)")
    prep.add_argument("--max-pixels", type=int, default=None, help="pixel budget of the photo (as prepare)")
    prep.add_argument("--min-side", type=int, default=64)
    prep.add_argument("--image-root", default=None, help="folder relative image paths start from")
    prep.add_argument("--prompt-template", default=None, metavar="FILE", help="as `seekworld prepare`")
    prep.add_argument("--datasource", default=None)
    _zoom_args(prep)

    col = verbs.add_parser(
        "collect",
        help="let a strong VLM solve prepared samples through the zoom protocol; keep correct traces",
        description="Rejection sampling: up to --tries episodes per sample; an episode is kept when its "
        "answer scores 1, its format is right and it zoomed at least --min-zooms times. Appends to "
        "--output as traces pass; a rerun skips ids already there. Input rows need JSON labels with the "
        "image path (`seekworld prepare --label-format json`).",
    )
    col.add_argument("--engine", default="openai", help="engine (default: openai, any compatible endpoint)")
    col.add_argument("--input", action="append", required=True, help="prepared JSONL split(s)")
    col.add_argument("--output", required=True, help="traces JSONL (appended)")
    col.add_argument("--model", required=True, help="model name the endpoint serves")
    col.add_argument("--base-url", default=None, help="e.g. http://127.0.0.1:8000/v1 (default: OpenAI)")
    col.add_argument(
        "--api-key-env", help="variable holding the API key (default: OPENAI_API_KEY if set, else none)"
    )
    col.add_argument("--tries", type=int, default=4, help="episodes per sample (default 4)")
    col.add_argument("--workers", type=int, default=8, help="samples in flight (default 8)")
    col.add_argument("--temperature", type=float, default=0.7)
    col.add_argument("--max-tokens", type=int, default=2048, help="tokens per turn")
    col.add_argument("--min-zooms", type=int, default=1, help="crops a kept trace must make (default 1)")
    col.add_argument("--limit", type=int, default=None, help="samples to try")
    _zoom_args(col)

    tpl = verbs.add_parser(
        "prompt-template",
        help="write the zoom prompt template for `seekworld prepare --prompt-template`",
        description="RL data for the zoom agent needs a system prompt that explains the tool.",
    )
    tpl.add_argument("--output", default="-", help="file (default: stdout)")
    tpl.add_argument(
        "--tool-call",
        action="store_true",
        help="explain the `zoom` tool call (train --backend trl with zoom.enabled) instead of the <zoom> tag",
    )
    _zoom_args(tpl)
    return p


def run(args: argparse.Namespace) -> int:
    zoom = _zoom_config(args)
    if args.traces_command == "prompt-template":
        from seekworld.prepare.prompts import DEFAULT_QUESTION
        from seekworld.zoom.protocol import system_prompt

        system = system_prompt(zoom, tool_call=args.tool_call)
        text = json.dumps({"system": system, "question": DEFAULT_QUESTION}, indent=2) + "\n"
        if args.output == "-":
            sys.stdout.write(text)
        else:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        return 0
    if args.traces_command == "prepare":
        return _prepare(args, zoom)
    return _collect(args, zoom)


def _prepare(args: argparse.Namespace, zoom) -> int:
    from seekworld.cli.prepare import parse_inputs
    from seekworld.prepare.images import DEFAULT_MAX_PIXELS
    from seekworld.prepare.pipeline import PrepareConfig
    from seekworld.prepare.prompts import PromptTemplate
    from seekworld.traces.prepare import prepare_traces

    template = PromptTemplate.load(args.prompt_template) if args.prompt_template else PromptTemplate()
    cfg = PrepareConfig(
        inputs=parse_inputs(args.input, args.split),
        output=args.output,
        input_format="traces",
        balance=None,
        max_pixels=args.max_pixels if args.max_pixels is not None else DEFAULT_MAX_PIXELS,
        min_side=args.min_side,
        template=template,
        label_format="json",
        image_root=args.image_root,
        datasource=args.datasource,
        progress=False,
    )
    report = prepare_traces(cfg, zoom)
    for split, s in report["splits"].items():
        target = os.path.join(args.output, f"{split}.jsonl")
        print(f"{split}: {s['rows']} rows ({s['rejected']} rejected) -> {target}")
    return 0


def _collect(args: argparse.Namespace, zoom) -> int:
    from seekworld.errors import UsageError
    from seekworld.io.openai_client import resolve_api_key
    from seekworld.traces.collect import TRACE_ENGINES, CollectConfig, collect, read_rows

    try:  # the one key rule, as eval's: a named variable must be set
        api_key = resolve_api_key(env=args.api_key_env)
    except ValueError as exc:
        raise UsageError(f"{exc} (--api-key-env)") from None

    TRACE_ENGINES.get(args.engine)  # an unknown name raises with "did you mean"
    config = CollectConfig(
        model=args.model,
        base_url=args.base_url,
        api_key=api_key,
        engine=args.engine,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        tries=args.tries,
        workers=args.workers,
        min_zooms=args.min_zooms,
        limit=args.limit,
        zoom=zoom,
    )
    rows = read_rows(args.input)  # checks every file before the bar starts

    from seekworld.io.progress import progress

    with progress(None, "collect traces") as bar:

        def show(stats) -> None:
            bar.update(stats["samples"] - bar.n)
            bar.set_postfix(kept=stats["kept"])

        stats = collect(rows, args.output, config, progress=show)
    print(json.dumps(dict(sorted(stats.items()))))
    return 0
