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

from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.io.images import png_bytes
from seekworld.prepare.images import ImageConfig, ImageRejected, ImageResult, process_image
from seekworld.prepare.output import (
    PrepareConfig,
    PrepareError,
    check_config,
    output_label,
    rejection,
    sample_entry,
    start_output,
    write_split,
)
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
    crops = [process_image(png_bytes(tile), crop_cfg) for tile in tiles]
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


def _collect(
    cfg: PrepareConfig,
    split: str,
    paths: list[str],
    img_cfg: ImageConfig,
    crop_cfg: ImageConfig,
    zoom: ZoomConfig,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Render every trace of a split: (rows, manifest samples, rejected, image counts), in input order."""
    from seekworld.prepare.balance import normalize_difficulty

    rows, samples, rejected = [], [], []
    counts = {"written": 0, "reused": 0, "resized": 0}
    for path in paths:
        if not Path(path).exists():
            raise PrepareError(f"input {path} does not exist")
        for item in read_traces(path, cfg.image_root):
            if isinstance(item, tuple):
                rejected.append(rejection(*item[:2], "malformed_row", item[2]))
                continue
            trace = item
            try:
                row, gold, images = render_trace(trace, cfg.template, img_cfg, crop_cfg, zoom)
            except (LabelError, ImageRejected, TraceError, TranscriptError) as exc:
                if isinstance(exc, ImageRejected):
                    reason, detail = exc.reason, exc.detail
                else:
                    reason = "unparseable_label" if isinstance(exc, LabelError) else "malformed_row"
                    detail = str(exc)
                rejected.append(rejection(trace.id, trace.origin, reason, detail, [trace.image], trace.label))
                continue
            datasource = trace.source or cfg.datasource or split
            row.update(
                {"datasource": datasource, "difficulty": normalize_difficulty(trace.difficulty), "copy": 0}
            )
            rows.append(row)
            for r in images:
                counts["reused" if r.reused else "written"] += 1
                counts["resized"] += int(r.resized)
            # Crops are parts of the photo, not new pictures: only the photo's pixel hash counts.
            pixel_hashes = [images[0].pixel_hash]
            samples.append(sample_entry(trace.id, gold, trace.difficulty, datasource, pixel_hashes, images))
    return rows, samples, rejected, counts


def _prepare_split(
    cfg: PrepareConfig,
    split: str,
    paths: list[str],
    img_cfg: ImageConfig,
    crop_cfg: ImageConfig,
    zoom: ZoomConfig,
) -> dict[str, Any]:
    # Traces are not balanced (SFT rows are written once each, in input order): collect → write.
    rows, samples, rejected, counts = _collect(cfg, split, paths, img_cfg, crop_cfg, zoom)
    difficulty_after = Counter(r["difficulty"] or "unknown" for r in rows)
    manifest = {
        "split": split,
        "inputs": paths,
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
    return write_split(Path(cfg.output), split, rows, manifest)


def prepare_traces(cfg: PrepareConfig, zoom: ZoomConfig | None = None) -> dict[str, Any]:
    """`seekworld prepare --input-format traces`. `zoom` defaults to SEEKWORLD_ZOOM_* settings
    (the zoom agent reads the same variables, so SFT data and RL observations agree)."""
    from seekworld.prepare.report import write_report

    zoom = zoom or ZoomConfig.from_env()
    # Traces always write JSON labels (they carry the image path the agent crops).
    check_config(PrepareConfig(**{**cfg.__dict__, "label_format": "json"}))
    out = start_output(cfg)
    img_cfg = ImageConfig(out_dir=str(out / "images"), max_pixels=cfg.max_pixels, min_side=cfg.min_side)
    # Crops are already sized by the zoom settings: store them as they are (min_side 1, own budget).
    crop_cfg = ImageConfig(out_dir=str(out / "images"), max_pixels=zoom.crop_max_pixels, min_side=1)
    splits: dict[str, list[str]] = {}
    for split, path in cfg.inputs:
        splits.setdefault(split, []).append(path)
    template = cfg.template
    if template == PromptTemplate():
        # The default prompt does not mention the tool; a zoom episode's prompt must.
        template = PromptTemplate(system=system_prompt(zoom))
    cfg_abs = PrepareConfig(**{**cfg.__dict__, "output": out, "template": template})
    for split, paths in splits.items():
        _prepare_split(cfg_abs, split, paths, img_cfg, crop_cfg, zoom)
    return write_report(out)
