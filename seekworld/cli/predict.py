"""`seekworld predict IMAGE`: a model's reasoning and its answer, resolved, for one photo."""

from __future__ import annotations

import argparse
import json
import sys


def add_engine_arguments(p: argparse.ArgumentParser, default_engine: str = "transformers") -> None:
    """Model and engine flags shared by `predict` and `demo`."""
    from seekworld.eval.inference import DEFAULT_MODEL

    p.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"model path / hub id / API name (default {DEFAULT_MODEL})"
    )
    p.add_argument(
        "--engine",
        choices=["transformers", "vllm", "openai"],
        default=default_engine,
        help=f"generation engine (default {default_engine})",
    )
    p.add_argument("--base-url", help="openai: endpoint, e.g. http://localhost:8000/v1")
    p.add_argument("--api-key-env", help="openai: environment variable holding the API key")
    p.add_argument("--max-new-tokens", type=int, default=2048)
    p.add_argument("--temperature", type=float, default=0.0, help="default 0 (greedy)")
    p.add_argument("--device", help="transformers: cuda or cpu (default: cuda when available)")
    p.add_argument("--dtype", help="transformers: bfloat16, float16, float32")
    p.add_argument("--max-pixels", type=int, default=None, help="image budget in pixels (default: prepare's)")
    p.add_argument(
        "--prompt-template", help="the prompt template file given to `prepare` (default: its prompt)"
    )
    p.add_argument("--engine-arg", action="append", default=[], metavar="NAME=VALUE")


def engine_from_args(args: argparse.Namespace):
    """(engine, GenParams) for the shared flags."""
    from seekworld.eval.engines import EngineOptions, GenParams, create_engine, parse_engine_args

    options = EngineOptions(
        engine=args.engine,
        model=args.model,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        concurrency=1,
        device=args.device,
        dtype=args.dtype,
        engine_args=parse_engine_args(args.engine_arg),
    )
    return create_engine(options), GenParams(temperature=args.temperature, max_new_tokens=args.max_new_tokens)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "predict",
        help="where was this photo taken? (reasoning and resolved answer)",
        description="Ask a model where IMAGE was taken, with the training prompt, and print its reasoning "
        "and its answer resolved to a region ID with English and Chinese names.",
    )
    p.add_argument("image", help="a photo (JPEG, PNG, ...)")
    add_engine_arguments(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    return p


def run(args: argparse.Namespace) -> int:
    from seekworld.eval.engines import Request
    from seekworld.eval.inference import format_result, image_row, interpret

    row = image_row(args.image, args.max_pixels, args.prompt_template)
    engine, params = engine_from_args(args)
    try:
        (output,) = list(engine.generate([row], [Request(0, 0)], params))
    finally:
        engine.close()
    if output.error is not None:
        print(f"seekworld predict: request failed: {output.error}", file=sys.stderr)
        return 1
    result = interpret(output.text)
    result["latency_s"] = round(output.latency_s, 3)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_result(result))
    return 0
