"""Shared pieces of the zoom, traces and SFT tests (`from helpers.zoom import ...`).

- `ZOOM`: small crop sizes so the tiny model's sequences stay short on CPU.
- `make_photo`, `write_traces`, `prepare_rows`: a photo, a traces file over it, prepared SFT rows.
- `FakeEngine`: a TEST STAND-IN FOR vLLM. It answers upstream's
  `generate(prompt_token_ids, sampling_params, multi_modal_data=None)` with canned turns tokenised
  by the tiny tokenizer (real token ids), and records what each call received.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PIL import Image, ImageDraw

from seekworld.zoom.protocol import STOP, ZoomConfig, answer_turn, zoom_turn

ZOOM = ZoomConfig(crop_min_side=56, crop_max_pixels=24 * 28 * 28, max_crops=4)

TURNS = [
    zoom_turn("A blue sign on the left; zoom in.", (0.1, 0.1, 0.5, 0.5)),
    zoom_turn("Closer on the text.", (0.15, 0.2, 0.4, 0.35)),
    answer_turn("It says Santiago de Compostela.", "$Spain,Galicia$"),
]


def make_photo(path: str | Path, size: tuple[int, int] = (224, 168), seed: int = 0) -> Path:
    """A picture with distinct regions (so crops differ from each other)."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw = ImageDraw.Draw(img)
    w, h = size
    for _ in range(12):
        x, y = rng.randrange(w), rng.randrange(h)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + rng.randrange(8, 60), y + rng.randrange(8, 40)), fill=color)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    img.save(p)
    return p


def trace_obj(image: str, **overrides: Any) -> dict[str, Any]:
    obj = {
        "id": "t1",
        "image": image,
        "label": {"country": "Spain", "region": "Galicia", "lat": 42.88, "lon": -8.54},
        "steps": [
            {"text": "A blue sign on the left; zoom in.", "zoom": [0.1, 0.1, 0.5, 0.5]},
            {"text": "Closer on the text.", "zoom": [0.15, 0.2, 0.4, 0.35]},
            {"text": "It says Santiago de Compostela."},
        ],
        "answer": "$Spain,Galicia$",
    }
    obj.update(overrides)
    return obj


def write_traces(path: str | Path, objs: list[dict[str, Any]]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs), encoding="utf-8")
    return p


def prepare_rows(tmp: Path, objs: list[dict[str, Any]] | None = None, zoom: ZoomConfig = ZOOM) -> list[dict]:
    """Prepared SFT rows (seekworld.traces.prepare) for traces over one test photo."""
    from seekworld.prepare.pipeline import PrepareConfig
    from seekworld.traces.prepare import prepare_traces

    photo = make_photo(tmp / "photos" / "es.png")
    traces = write_traces(tmp / "traces.jsonl", objs or [trace_obj(str(photo))])
    prepare_traces(PrepareConfig(inputs=[("sft", str(traces))], output=tmp / "out", progress=False), zoom)
    lines = (tmp / "out" / "sft.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class FakeEngine:
    """TEST STAND-IN FOR vLLM (upstream's rollout engine): canned turns, real token ids."""

    def __init__(self, tokenizer: Any, turns: list[str], eos: str = "<|im_end|>") -> None:
        self.tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        self.turns = list(turns)
        self.eos = eos
        self.calls: list[dict[str, Any]] = []

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        images = (multi_modal_data or {}).get("image") or []
        self.calls.append(
            {
                "n_prompt_tokens": len(prompt_token_ids),
                "n_images": len(images),
                "stop": list(getattr(sampling_params, "stop", None) or []),
                "include_stop": getattr(sampling_params, "include_stop_str_in_output", None),
                "max_tokens": sampling_params.max_tokens,
            }
        )
        text = self.turns[len(self.calls) - 1]
        if not text.endswith(STOP):
            text += self.eos  # a final turn ends with the end-of-turn token, as vLLM returns it
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        out = SimpleNamespace(token_ids=list(ids), text=text, finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[out])


def sampling_params(**overrides: Any) -> SimpleNamespace:
    """What upstream's vLLM SamplingParams looks like to the executor (the fields it touches)."""
    base = {"max_tokens": None, "logprobs": None, "stop": None, "include_stop_str_in_output": False}
    base.update(overrides)
    return SimpleNamespace(**base)
