"""`seekworld serve`: the reward server for upstream OpenRLHF (`--reward.remote_url`), under gunicorn."""

from __future__ import annotations

import argparse
import os


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _default_workers() -> int:
    # Scoring is CPU-bound Python: one worker per core, a few at most (each holds a judge pool).
    return max(1, min(os.cpu_count() or 1, 8))


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "serve",
        help="reward server speaking upstream OpenRLHF's /get_reward protocol",
        description="Serve POST /get_reward, GET /health and GET /metrics under gunicorn. Point "
        "training at it with --reward.remote_url http://HOST:PORT/get_reward (add ?token=T when "
        "--token is set). Secrets are read from flags or environment, never from files.",
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument(
        "--reward", default="rule", help="reward variant: rule, rule+length, rule+judge, distance, ..."
    )
    p.add_argument("--weights", default=None, help="override weights, e.g. format=0.5,accuracy=2,judge=1")
    p.add_argument("--workers", type=int, default=_default_workers(), help="gunicorn worker processes")
    p.add_argument("--threads", type=int, default=32, help="threads per worker (requests in flight each)")
    p.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    p.add_argument(
        "--token",
        default=os.environ.get("SEEKWORLD_TOKEN"),
        help="require this token (Bearer header or ?token=); default $SEEKWORLD_TOKEN",
    )
    p.add_argument(
        "--allow-no-token",
        action="store_true",
        help="serve a non-loopback --host without a token (refused otherwise)",
    )
    p.add_argument(
        "--request-deadline",
        type=float,
        default=60.0,
        help="seconds from a request's arrival to its answer, queueing and judging included (default 60)",
    )
    p.add_argument(
        "--body-timeout",
        type=float,
        default=30.0,
        help="seconds a client may take to send a request's headers and body (default 30)",
    )
    p.add_argument("--log-dir", default=None, help="write the audit log (one JSON line per sample) here")
    p.add_argument("--log-max-mb", type=float, default=100.0, help="roll audit files over at this size")
    p.add_argument("--max-body-mb", type=float, default=64.0, help="reject larger request bodies (413)")
    p.add_argument("--chat-template", default="qwen", help="qwen (default), llama3, gemma, chatml, none")
    p.add_argument("--assistant-marker", default=None, help=r"custom assistant marker (\n = newline)")
    p.add_argument("--end-tokens", default=None, help="custom end-of-turn tokens, comma-separated")
    j = p.add_argument_group("judge (rule+judge)")
    j.add_argument(
        "--judge-url", default=os.environ.get("SEEKWORLD_JUDGE_URL"), help="OpenAI-compatible base URL"
    )
    j.add_argument("--judge-model", default=os.environ.get("SEEKWORLD_JUDGE_MODEL"))
    j.add_argument(
        "--judge-api-key",
        default=os.environ.get("SEEKWORLD_JUDGE_API_KEY") or os.environ.get("OPENAI_API_KEY"),
        help="default $SEEKWORLD_JUDGE_API_KEY, then $OPENAI_API_KEY",
    )
    j.add_argument(
        "--judge-sees-image",
        action="store_true",
        help="send the label's image (VLM judge); only images under --judge-image-root are read",
    )
    j.add_argument(
        "--judge-image-root",
        action="append",
        default=None,
        metavar="DIR",
        help="directory the judge's images may come from (repeatable; default $SEEKWORLD_JUDGE_IMAGE_ROOT, "
        "os.pathsep-separated); none: the judge grades text only",
    )
    j.add_argument(
        "--judge-structured",
        action="store_true",
        help='constrain the reply to {"verdict": n} with a JSON schema (vLLM, OpenAI structured outputs)',
    )
    j.add_argument(
        "--judge-breaker-failures",
        type=int,
        default=5,
        help="consecutive judge outages (timeout, connection, 429, 5xx) that skip the judge (0: never)",
    )
    j.add_argument(
        "--judge-breaker-cooldown", type=float, default=30.0, help="seconds the judge is skipped, then probed"
    )
    j.add_argument("--judge-mode", choices=("binary", "score"), default="binary")
    j.add_argument("--judge-timeout", type=float, default=20.0, help="seconds per judge call")
    j.add_argument("--judge-retries", type=int, default=2)
    j.add_argument("--judge-concurrency", type=int, default=32, help="judge calls in flight per worker")
    j.add_argument("--judge-max-tokens", type=int, default=8)
    j.add_argument("--judge-budget", type=float, default=90.0, help="seconds for a whole request's judging")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument(
        "--access-log", action="store_true", help="log every request (off: URLs may hold the token)"
    )
    return p


def run(args: argparse.Namespace) -> int:
    from seekworld.errors import UsageError
    from seekworld.serve.runner import ServerOptions, serve
    from seekworld.serve.service import ServiceConfig

    config = ServiceConfig.build(
        variant=args.reward,
        weights=args.weights,
        chat_template=args.chat_template,
        assistant_marker=args.assistant_marker,
        end_tokens=args.end_tokens,
        judge_url=args.judge_url,
        judge_model=args.judge_model,
        judge_api_key=args.judge_api_key,
        judge_sees_image=args.judge_sees_image,
        judge_mode=args.judge_mode,
        judge_timeout_s=args.judge_timeout,
        judge_retries=args.judge_retries,
        judge_concurrency=args.judge_concurrency,
        judge_max_tokens=args.judge_max_tokens,
        judge_budget_s=args.judge_budget,
        judge_image_roots=args.judge_image_root
        or (os.environ.get("SEEKWORLD_JUDGE_IMAGE_ROOT") or "").split(os.pathsep),
        judge_structured=args.judge_structured,
        judge_breaker_failures=args.judge_breaker_failures,
        judge_breaker_cooldown_s=args.judge_breaker_cooldown,
        log_dir=args.log_dir,
        log_max_bytes=int(args.log_max_mb * 1024 * 1024),
        request_deadline_s=args.request_deadline,
    )
    if config.judge is not None and config.judge.budget_s >= 170:
        raise UsageError("--judge-budget must stay under upstream's 180 s timeout")
    if not args.token and not is_loopback(args.host) and not args.allow_no_token:
        raise UsageError(
            f"--host {args.host} is reachable from other machines: set --token "
            "(or $SEEKWORLD_TOKEN), or pass --allow-no-token to serve it open"
        )
    options = ServerOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        worker_class=args.worker_class,
        token=args.token or None,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        log_level=args.log_level,
        access_log=args.access_log,
        body_timeout_s=args.body_timeout,
    )
    return serve(config, options)
