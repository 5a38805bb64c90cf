"""`seekworld demo`: a Gradio page to try a model on your photos (extra `demo`)."""

from __future__ import annotations

import argparse


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
    import gradio  # noqa: F401  (missing: main names the `demo` extra)

    from seekworld.cli.predict import engine_from_args
    from seekworld.demo.app import build_app

    engine, params = engine_from_args(args)
    app = build_app(engine, params, args.max_pixels, args.prompt_template)
    app.queue().launch(server_name=args.host, server_port=args.port, share=False, ssr_mode=False)
    return 0
