"""The Gradio app behind `seekworld demo`.

    app = build_app(engine, GenParams(max_new_tokens=1024))
    app.launch(server_name="127.0.0.1")

A photo goes through the same path as `seekworld predict` (training prompt, image sized like the
training images, the engine's `stream`), and the final text through `interpret`: the answer's
region ID with its English and Chinese names (for coordinates, the region they fall in). One photo
is one request: **Locate** starts it, uploading does not. While the text streams, the reasoning box
shows it without the `<think>` markup; when the model cannot be reached, the answer panel says why
and the log gets one line. Gradio is imported inside `build_app` only.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seekworld.eval.engines import Engine, GenParams
from seekworld.eval.inference import image_row, interpret

__all__ = ["answer_markdown", "build_app", "locate", "streaming_reasoning"]

DONE_MARK = "Answer"  # the answer panel's heading once a response is complete
FAILED_MARK = "No answer"  # the answer panel's heading when the request failed
log = logging.getLogger("seekworld.demo")
_TAGS = ("<think>", "</think>")


def _place_text(place: dict) -> str:
    if place.get("place_id") and place["place_id"] != place.get("country_id"):
        region = f"{place['region_en']} · {place['region_zh']}"
        return f"**{region}**, {place['country_en']} · {place['country_zh']}"
    return f"**{place['country_en']} · {place['country_zh']}**"


def streaming_reasoning(text: str) -> str:
    """The reasoning box while a response streams: the text without `<think>`/`</think>` (and
    without a tag cut in half at the end, which the next piece completes), up to `<answer>`."""
    cut = text.find("<answer>")
    if cut >= 0:
        text = text[:cut]
    for tag in _TAGS:
        text = text.replace(tag, "")
    # "…<thi" may become "<think>" with the next piece: hold back any tail that starts a tag.
    for tag in (*_TAGS, "<answer>"):
        for k in range(len(tag) - 1, 0, -1):
            if text.endswith(tag[:k]):
                return text[:-k]
    return text


def answer_markdown(result: dict) -> str:
    """The answer panel: the place in English and Chinese with its ID, or why there is none."""
    lines = [f"### {DONE_MARK}"]
    place = result.get("place") or {}
    if place.get("place_id"):
        lines.append(_place_text(place))
        lines.append(f"`{place['place_id']}`")
    elif place.get("country_id"):
        lines.append(f"**{place['country_en']} · {place['country_zh']}** (no region)")
    if result.get("coordinates"):
        lat, lon = result["coordinates"]
        where = result.get("coordinates_place") or {}
        # Named as `seekworld predict` names them: the region the point falls in.
        if where.get("country_id"):
            code = where.get("place_id") or where["country_id"]
            named = f" — in {_place_text(where)} `{code}`"
        else:
            named = " — in no country the gazetteer knows"
        lines.append(f"Coordinates {lat:.4f}, {lon:.4f}{named}")
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
    try:
        for piece in engine.stream(row, params):
            text += piece
            yield streaming_reasoning(text), "_Thinking…_"
    except Exception as exc:  # any engine failure ends here: said once, not raised
        reason = f"{type(exc).__name__}: {exc}".strip()
        log.error("demo: the model request failed: %s", reason.splitlines()[0] if reason else "")
        panel = f"### {FAILED_MARK}\n\nThe model could not answer: _{html.escape(reason)}_"
        yield streaming_reasoning(text), panel
        return
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
            f"## {title}\nUpload a photo and click **Locate**: the model reasons about what it shows, "
            "then names the country and first-level region."
        )
        with gr.Row():
            with gr.Column():
                image = gr.Image(type="pil", sources=["upload"], label="Photo", elem_id="photo")
                button = gr.Button("Locate", variant="primary", elem_id="locate")
            with gr.Column():
                answer = gr.Markdown("Upload a photo.", elem_id="answer")
                reasoning = gr.Textbox(label="Reasoning", lines=14, elem_id="reasoning", interactive=False)
        # One photo, one request: only the button starts the model (an upload trigger as well
        # would send the photo twice).
        button.click(run, inputs=image, outputs=[reasoning, answer])
    return app
