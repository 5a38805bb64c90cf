"""`seekworld eval`: evaluate a model on prepared rows; compare two runs; table several runs."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from seekworld.errors import UsageError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "eval",
        help="evaluate a model on prepared rows (resumable), or compare runs",
        description="Generate answers for `seekworld prepare` rows with an engine, score them with the "
        "reward's own code, and write predictions.jsonl, report.json, report.md and plots into --output. "
        "A rerun with the same --output only generates what is missing. "
        "`--compare DIR_A DIR_B` compares two runs on their shared prompts; `--table DIR...` prints one "
        "SeekWorld-style table of several runs.",
    )
    mode = p.add_argument_group("modes (default: evaluate)")
    mode.add_argument("--compare", nargs=2, metavar=("DIR_A", "DIR_B"), help="paired comparison of two runs")
    mode.add_argument("--table", nargs="+", metavar="DIR", help="one table, a row per run")

    run = p.add_argument_group("evaluate")
    run.add_argument("--data", help="prepared JSONL file(s), comma-separated")
    run.add_argument("--engine", choices=["vllm", "transformers", "openai"], help="generation engine")
    run.add_argument("--model", help="model name (openai) or path / hub id (vllm, transformers)")
    run.add_argument("--name", help="the model's name in tables (default: --model)")
    run.add_argument("--output", help="run folder (default: eval_runs/<name>); with --compare: JSON file")
    run.add_argument(
        "--samples", type=int, default=1, help="samples per prompt K; K>1 adds pass@K (default 1)"
    )
    run.add_argument(
        "--temperature", type=float, default=None, help="default 0 (greedy) for one sample, 1.0 for several"
    )
    run.add_argument("--top-p", type=float, default=1.0)
    run.add_argument("--max-new-tokens", type=int, default=2048)
    run.add_argument(
        "--seed", type=int, default=0, help="per-sample seeds derive from it (vllm, transformers)"
    )
    run.add_argument("--limit", type=int, default=None, help="only the first N rows of each data file")
    run.add_argument(
        "--concurrency", type=int, default=8, help="openai: requests in flight; transformers: batch size"
    )
    run.add_argument("--base-url", help="openai: endpoint, e.g. http://localhost:8000/v1")
    run.add_argument("--api-key-env", help="openai: environment variable holding the API key")
    run.add_argument("--timeout", type=float, default=300.0, help="openai: seconds per request (default 300)")
    run.add_argument(
        "--retries", type=int, default=4, help="openai: retries after timeouts/429/5xx (default 4)"
    )
    run.add_argument("--device", help="transformers: cuda or cpu (default: cuda when available)")
    run.add_argument("--dtype", help="transformers: bfloat16, float16, float32 (default: bf16 on GPU)")
    run.add_argument(
        "--engine-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="passed to vllm.LLM / from_pretrained / the request body (repeatable; JSON values)",
    )
    run.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    run.add_argument(
        "--rescore",
        action="store_true",
        help="score the responses already in --output again (after a verifier or gazetteer update)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bars (generating, loading)")
    return p


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text.rstrip("/").split("/")[-1]) or "model"


def _compare(args: argparse.Namespace) -> int:
    from seekworld.eval.compare import compare_runs, render_comparison

    result = compare_runs(*args.compare, resamples=args.resamples)
    print(render_comparison(result))
    if args.output:
        Path(args.output).write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return 0


def _table(args: argparse.Namespace) -> int:
    from seekworld.eval.report import render_table, run_labels

    reports = []
    for d in args.table:
        path = Path(d) / "report.json"
        if not path.exists():
            raise UsageError(f"{path} does not exist (run `seekworld eval --output {d}` first)")
        reports.append(json.loads(path.read_text(encoding="utf-8")))
    print(render_table(reports, labels=run_labels(reports, list(args.table))))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from seekworld.eval.engines import EngineOptions, GenParams, parse_engine_args
    from seekworld.eval.report import render_table
    from seekworld.eval.runner import EvalConfig, run_eval

    missing = [f"--{n}" for n in ("data", "engine", "model") if not getattr(args, n)]
    if missing:
        raise UsageError(f"evaluating needs {', '.join(missing)} (or use --compare / --table)")
    if args.samples < 1 or args.max_new_tokens < 1 or args.concurrency < 1:
        raise UsageError("--samples, --max-new-tokens and --concurrency must be at least 1")
    data = tuple(d.strip() for d in args.data.split(",") if d.strip())
    for d in data:
        if not Path(d).is_file():
            raise UsageError(f"data file {d} does not exist")
    temperature = args.temperature if args.temperature is not None else (0.0 if args.samples == 1 else 1.0)
    if args.samples > 1 and temperature == 0:
        print("seekworld eval: warning: greedy decoding gives K identical samples", file=sys.stderr)
    engine_args = parse_engine_args(args.engine_arg)
    name = args.name or args.model
    cfg = EvalConfig(
        data=data,
        output=args.output or str(Path("eval_runs") / _slug(name)),
        engine=EngineOptions(
            engine=args.engine,
            model=args.model,
            base_url=args.base_url,
            api_key_env=args.api_key_env,
            concurrency=args.concurrency,
            timeout_s=args.timeout,
            retries=args.retries,
            device=args.device,
            dtype=args.dtype,
            engine_args=engine_args,
            progress=not args.no_progress,
        ),
        params=GenParams(
            temperature=temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens, seed=args.seed
        ),
        samples=args.samples,
        limit=args.limit,
        name=name,
        resamples=args.resamples,
        progress=not args.no_progress,
        rescore=args.rescore,
    )
    report = run_eval(cfg)
    print(render_table([report]))
    print(f"report: {Path(cfg.output) / 'report.md'}")
    if report["missing"]:
        print(
            f"seekworld eval: {report['missing']} samples are missing (failed requests, see "
            f"{Path(cfg.output) / 'failures.jsonl'}); rerun the same command to retry them",
            file=sys.stderr,
        )
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        if args.compare:
            return _compare(args)
        if args.table:
            return _table(args)
        return _evaluate(args)
    except KeyboardInterrupt:
        print("\nseekworld eval: interrupted; rerun the same command to continue", file=sys.stderr)
        return 130
