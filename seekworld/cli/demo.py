"""`seekworld demo`: a Gradio page to try a model on your photos (extra `demo`)."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from seekworld.cli.predict import add_engine_arguments

    p = sub.add_parser(
        "demo",
        help="web page: upload a photo, watch the reasoning, see the answer (needs gradio)",
        description="Serve a Gradio page for one model. Takes the same model and engine flags as "
        "`seekworld predict`. Binds 127.0.0.1 unless --host says otherwise.",
    )
    add_engine_arguments(p)
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine)")
    p.add_argument("--port", type=int, default=7860)
    return p


def run(args: argparse.Namespace) -> int:
    from seekworld.cli.predict import engine_from_args
    from seekworld.eval.engines import EngineUnavailable

    try:
        import gradio  # noqa: F401
    except ImportError:
        print("seekworld demo: needs gradio: pip install 'seekworld[demo]'", file=sys.stderr)
        return 2
    from seekworld.demo.app import build_app

    try:
        engine, params = engine_from_args(args)
    except (ValueError, EngineUnavailable) as exc:
        print(f"seekworld demo: {exc}", file=sys.stderr)
        return 2
    app = build_app(engine, params, args.max_pixels, args.prompt_template)
    app.queue().launch(server_name=args.host, server_port=args.port, share=False, ssr_mode=False)
    return 0
