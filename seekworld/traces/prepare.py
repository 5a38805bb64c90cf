"""Traces -> multi-turn SFT rows, in exactly the transcript shape the zoom agent produces at RL time.

    report = prepare_traces(PrepareConfig(inputs=[("sft", "traces.jsonl")], output="data/sft"))

Reuses `seekworld prepare`: the prompt image goes through `process_image` (EXIF, pixel budget,
content-addressed); the prompt is the `PromptTemplate`'s (the default template is replaced by one
whose system message explains the tool, `seekworld.zoom.protocol.system_prompt`); the label is
`output_label(..., "json")` (it carries the prepared image's path, which is what the agent crops
at RL time); the split manifest has the pipeline's shape, so report.json/report.md/rejected.jsonl
are rebuilt as usual.
Crops are cut from the prepared image with `seekworld.zoom.crop` and stored content-addressed as
PNG (lossless: the pixels SFT trains on are the pixels the agent would send).

Each row of DIR/<split>.jsonl:

    {"id", "prompt": [...as for RL...], "images": [prompt image, crop 1, ...], "label": "{...json...}",
     "turns": [model turn 1, ...], "messages": [...TRL conversational format...],
     "zoom": {"max_crops", "max_turns"}, "datasource", "difficulty", "copy": 0}

Not applied to traces: balancing (SFT rows are written once each, in input order) and `workers`
(images are few: one photo and a few crops per trace).
"""

from __future__ import annotations

import io
import json
import os
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from seekworld.geo.label import GoldLabel, LabelError, format_label, parse_label
from seekworld.prepare.images import ImageConfig, ImageRejected, ImageResult, process_image
from seekworld.prepare.pipeline import PrepareConfig, PrepareError, check_output_and_inputs, output_label
from seekworld.prepare.prompts import PromptTemplate, count_image_tags
from seekworld.traces.schema import Trace, TraceError, read_traces, trace_turns
from seekworld.zoom.crop import check_box, crop, load_image
from seekworld.zoom.protocol import (
    Box,
    Refusal,
    TranscriptError,
    ZoomConfig,
    chat_parts,
    system_prompt,
    transcript_messages,
    transcript_segments,
)

__all__ = ["INPUT_FORMAT", "prepare_traces", "render_trace"]

INPUT_FORMAT = "traces"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _png(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def render_trace(
    trace: Trace, template: Any, img_cfg: ImageConfig, crop_cfg: ImageConfig, zoom: ZoomConfig
) -> tuple[dict[str, Any], GoldLabel, list[ImageResult]]:
    """One trace -> (row, gold label, image results). Raises LabelError, TraceError,
    TranscriptError or ImageRejected."""
    gold = parse_label(trace.label)
    turns = trace_turns(trace)
    prompt_image = process_image(trace.image, img_cfg)
    original = load_image(prompt_image.path)
    tiles: list[Any] = []

    def check(box: Box) -> Refusal | None:
        refusal = check_box(box, original.size, zoom)
        if refusal is None:
            tiles.append(crop(original, box, zoom))
        return refusal

    transcript_segments(turns, zoom, check=check)  # raises unless the agent would replay it
    crops = [process_image(_png(tile), crop_cfg) for tile in tiles]
    messages = template.messages(1, trace.question)
    if count_image_tags(messages) != 1:
        raise TraceError("the prompt template must hold exactly one <image> for a trace")
    row = {
        "id": trace.id,
        "prompt": messages,
        "images": [prompt_image.path, *(c.path for c in crops)],
        "label": output_label(gold, gold.lat, gold.lon, prompt_image.path, "json"),
        "turns": turns,
        "messages": transcript_messages(chat_parts(messages), turns, zoom),
        # The settings the observation texts depend on: SFT re-renders the transcript with them.
        "zoom": {"max_crops": zoom.max_crops, "max_turns": zoom.max_turns},
    }
    return row, gold, [prompt_image, *crops]


def _sample_entry(trace: Trace, gold: GoldLabel, images: list[ImageResult], datasource: str) -> dict:
    from seekworld.geo.gazetteer import load_gazetteer
    from seekworld.prepare.balance import normalize_difficulty
    from seekworld.prepare.continents import continent_of

    gaz = load_gazetteer()
    cid = gold.country_id
    unresolved = None
    if cid is None:
        unresolved = gaz.explain_country(gold.country)
    elif gold.regions and gold.place_id is None:
        unresolved = gaz.explain_region(cid, gold.regions[0])
    return {
        "id": trace.id,
        "label": format_label(gold.country, gold.regions),
        "country_id": cid,
        "country_name": gaz.country_name(cid) if cid else f"{gold.country} (unresolved)",
        "place_id": gold.place_id,
        "continent": continent_of(cid),
        "difficulty": normalize_difficulty(trace.difficulty),
        "datasource": datasource,
        "unresolved": unresolved,
        "pixel_hashes": [images[0].pixel_hash],  # crops are parts of the photo, not new pictures
        "tokens_in": [r.tokens_in for r in images],
        "tokens": [r.tokens for r in images],
    }


def _prepare_split(
    cfg: PrepareConfig,
    split: str,
    paths: list[str],
    img_cfg: ImageConfig,
    crop_cfg: ImageConfig,
    zoom: ZoomConfig,
) -> dict[str, Any]:
    from seekworld.prepare.balance import normalize_difficulty
    from seekworld.prepare.report import MANIFEST_DIR

    lines, samples, rejected = [], [], []
    counts = {"written": 0, "reused": 0, "resized": 0}
    difficulty_after: dict[str, int] = {}
    for path in paths:
        if not Path(path).exists():
            raise PrepareError(f"input {path} does not exist")
        for item in read_traces(path, cfg.image_root):
            if isinstance(item, tuple):
                tid, origin, detail = item
                rejected.append({"id": tid, "origin": origin, "reason": "malformed_row", "detail": detail})
                continue
            trace = item

            def reject(reason: str, detail: str, t: Trace = trace) -> None:
                label = t.label if isinstance(t.label, str) else json.dumps(t.label, ensure_ascii=False)
                rejected.append(
                    {
                        "id": t.id,
                        "origin": t.origin,
                        "reason": reason,
                        "detail": detail,
                        "images": [t.image],
                        "label": label,
                    }
                )

            try:
                row, gold, images = render_trace(trace, cfg.template, img_cfg, crop_cfg, zoom)
            except LabelError as exc:
                reject("unparseable_label", str(exc))
                continue
            except ImageRejected as exc:
                reject(exc.reason, exc.detail)
                continue
            except (TraceError, TranscriptError) as exc:
                reject("malformed_row", str(exc))
                continue
            datasource = trace.source or cfg.datasource or split
            difficulty = normalize_difficulty(trace.difficulty)
            row.update({"datasource": datasource, "difficulty": difficulty, "copy": 0})
            lines.append(json.dumps(row, ensure_ascii=False))
            for r in images:
                counts["reused" if r.reused else "written"] += 1
                counts["resized"] += int(r.resized)
            difficulty_after[difficulty or "unknown"] = difficulty_after.get(difficulty or "unknown", 0) + 1
            samples.append(_sample_entry(trace, gold, images, datasource))

    out = Path(cfg.output)
    _atomic_write(out / f"{split}.jsonl", ("\n".join(lines) + "\n" if lines else "").encode())
    manifest = {
        "split": split,
        "inputs": paths,
        "rows": len(lines),
        "balance": None,
        "difficulty_after": dict(sorted(difficulty_after.items())),
        "images": counts,
        "settings": {
            "input_format": INPUT_FORMAT,
            "max_pixels": cfg.max_pixels,
            "min_side": cfg.min_side,
            "seed": cfg.seed,
            "label_format": "json",
            "system_prompt": cfg.template.system,
            "question": cfg.template.question,
            "zoom": asdict(zoom),
        },
        "samples": samples,
        "rejected": rejected,
    }
    _atomic_write(out / MANIFEST_DIR / f"{split}.json", json.dumps(manifest, ensure_ascii=False).encode())
    return manifest


def prepare_traces(cfg: PrepareConfig, zoom: ZoomConfig | None = None) -> dict[str, Any]:
    """`seekworld prepare --input-format traces`. `zoom` defaults to SEEKWORLD_ZOOM_* settings
    (the zoom agent reads the same variables, so SFT data and RL observations agree)."""
    from seekworld.prepare.report import MANIFEST_DIR, write_report

    zoom = zoom or ZoomConfig.from_env()
    if not cfg.inputs:
        raise PrepareError("no --input given")
    if cfg.max_pixels < 28 * 28:
        raise PrepareError(f"--max-pixels must be at least {28 * 28} (one visual token)")
    check_output_and_inputs(cfg)
    out = Path(cfg.output).resolve()
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_DIR).mkdir(exist_ok=True)
    img_cfg = ImageConfig(out_dir=str(out / "images"), max_pixels=cfg.max_pixels, min_side=cfg.min_side)
    # Crops are already sized by the zoom settings: store them as they are (min_side 1, own budget).
    crop_cfg = ImageConfig(out_dir=str(out / "images"), max_pixels=zoom.crop_max_pixels, min_side=1)
    splits: dict[str, list[str]] = {}
    for split, path in cfg.inputs:
        if not split or "/" in split or split.startswith(".") or split in {"rejected", "report"}:
            raise PrepareError(f"bad split name {split!r}")
        splits.setdefault(split, []).append(path)
    template = cfg.template
    if template == PromptTemplate():
        # The default prompt does not mention the tool; a zoom episode's prompt must.
        template = PromptTemplate(system=system_prompt(zoom))
    cfg_abs = PrepareConfig(**{**cfg.__dict__, "output": out, "template": template})
    for split, paths in splits.items():
        _prepare_split(cfg_abs, split, paths, img_cfg, crop_cfg, zoom)
    return write_report(out, _atomic_write)
