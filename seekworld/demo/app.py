"""The Gradio app behind `seekworld demo`.

    app = build_app(engine, GenParams(max_new_tokens=1024))
    app.launch(server_name="127.0.0.1")

A photo goes through the same path as `seekworld predict` (training prompt, image sized like the
training images, the engine's `stream`), and the final text through `interpret`: the answer's
region ID with its English and Chinese names. Gradio is imported inside `build_app` only.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seekworld.eval.engines import Engine, GenParams
from seekworld.eval.inference import image_row, interpret

__all__ = ["answer_markdown", "build_app", "locate"]

DONE_MARK = "Answer"  # the answer panel's heading once a response is complete


def answer_markdown(result: dict) -> str:
    """The answer panel: the place in English and Chinese with its ID, or why there is none."""
    lines = [f"### {DONE_MARK}"]
    place = result.get("place") or {}
    if place.get("place_id"):
        if place["place_id"] != place["country_id"]:
            region = f"{place['region_en']} · {place['region_zh']}"
            lines.append(f"**{region}**, {place['country_en']} · {place['country_zh']}")
        else:
            lines.append(f"**{place['country_en']} · {place['country_zh']}**")
        lines.append(f"`{place['place_id']}`")
    elif place.get("country_id"):
        lines.append(f"**{place['country_en']} · {place['country_zh']}** (no region)")
    if result.get("coordinates"):
        lat, lon = result["coordinates"]
        lines.append(f"Coordinates {lat:.4f}, {lon:.4f}")
    if result.get("answer") is not None:
        lines.append(f"Model's answer: `{result['answer'].strip()}`")
    if result.get("error"):
        lines.append(f"_{html.escape(result['error'])}_")  # "<answer>" would vanish as a tag
    return "\n\n".join(lines)


def locate(
    engine: Engine,
    params: GenParams,
    image: Any,
    max_pixels: int | None = None,
    prompt_template: str | Path | None = None,
) -> Iterator[tuple[str, str]]:
    """Yield (reasoning so far, answer panel) while the response streams, then the final pair."""
    if image is None:
        yield "", "Upload a photo."
        return
    row = image_row(image, max_pixels, prompt_template)
    text = ""
    for piece in engine.stream(row, params):
        text += piece
        yield text, "_Thinking…_"
    result = interpret(text)
    yield (result.get("reasoning") or text).strip(), answer_markdown(result)


def build_app(
    engine: Engine,
    params: GenParams,
    max_pixels: int | None = None,
    prompt_template: str | Path | None = None,
    title: str = "SeekWorld: where was this photo taken?",
):
    """A Gradio Blocks app around one engine. Launch it yourself (bind 127.0.0.1 unless you mean to
    expose it)."""
    import gradio as gr

    def run(image):
        yield from locate(engine, params, image, max_pixels, prompt_template)

    with gr.Blocks(title=title, analytics_enabled=False) as app:
        gr.Markdown(
            f"## {title}\nUpload a photo: the model reasons about what it shows, then names the "
            "country and first-level region."
        )
        with gr.Row():
            with gr.Column():
                image = gr.Image(type="pil", sources=["upload"], label="Photo", elem_id="photo")
                button = gr.Button("Locate", variant="primary", elem_id="locate")
            with gr.Column():
                answer = gr.Markdown("Upload a photo.", elem_id="answer")
                reasoning = gr.Textbox(label="Reasoning", lines=14, elem_id="reasoning", interactive=False)
        image.upload(run, inputs=image, outputs=[reasoning, answer])
        button.click(run, inputs=image, outputs=[reasoning, answer])
    return app
