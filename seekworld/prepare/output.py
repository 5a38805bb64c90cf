"""What every `prepare` input format shares: settings, errors, labels, rejections, and the writers
of `<split>.jsonl` and the split manifest the report is rebuilt from.

`seekworld.prepare.pipeline` (prompt rows for RL) and `seekworld.traces.prepare` (multi-turn SFT
rows) both build on this module, so neither imports the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.geo.continents import continent_of
from seekworld.geo.label import GoldLabel, format_label, unresolved_reason
from seekworld.io.files import atomic_write, dump_jsonl
from seekworld.io.images import DEFAULT_MAX_PIXELS, QWEN_MIN_PIXELS
from seekworld.prepare.balance import normalize_difficulty
from seekworld.prepare.prompts import PromptTemplate
from seekworld.prepare.report import MANIFEST_DIR

__all__ = [
    "DEFAULT_BALANCE_SPLITS",
    "LABEL_FORMATS",
    "USE_DEFAULT",
    "PrepareConfig",
    "PrepareError",
    "check_config",
    "output_label",
    "rejection",
    "sample_entry",
    "start_output",
    "write_split",
]

LABEL_FORMATS = ("auto", "string", "json")
# The default balance applies to splits whose name starts with this; an explicit --balance applies
# to every split. Repeating test samples would skew an evaluation.
DEFAULT_BALANCE_SPLITS = "train"
USE_DEFAULT = "default"


class PrepareError(SeekworldError, RuntimeError):
    """A run that cannot start or go on (bad input, bad settings). The message says what to fix."""


@dataclass(frozen=True)
class PrepareConfig:
    inputs: list[tuple[str, str]]  # (split, input path or hf:NAME)
    output: str | Path
    input_format: str = "auto"
    balance: dict[str, int] | str | None = USE_DEFAULT  # weights, None (off), or "default"
    max_pixels: int = DEFAULT_MAX_PIXELS
    min_side: int = 64
    workers: int = 1
    seed: int = 0
    template: PromptTemplate = field(default_factory=PromptTemplate)
    label_format: str = "auto"
    image_root: str | None = None
    datasource: str | None = None
    hf_split: str | None = None
    progress: bool = True


def check_config(cfg: PrepareConfig) -> None:
    """The checks every input format shares. Raises PrepareError."""
    if not cfg.inputs:
        raise PrepareError("no --input given")
    if cfg.label_format not in LABEL_FORMATS:
        raise PrepareError(f"--label-format must be one of {', '.join(LABEL_FORMATS)}")
    if cfg.max_pixels < QWEN_MIN_PIXELS:
        # The one floor: the processor scales anything smaller up to 56×56 (4 tokens), so a lower
        # budget cannot hold (fit_to_budget refuses it; every image would be rejected).
        raise PrepareError(f"--max-pixels must be at least {QWEN_MIN_PIXELS} (4 visual tokens)")
    if cfg.workers < 1:
        raise PrepareError("--workers must be at least 1")
    if cfg.min_side < 1:
        raise PrepareError("--min-side must be at least 1")
    for split, _ in cfg.inputs:
        if not split or "/" in split or split.startswith(".") or split in {"rejected", "report"}:
            raise PrepareError(f"bad split name {split!r}")
    check_output_and_inputs(cfg)


def check_output_and_inputs(cfg: PrepareConfig) -> None:
    """Before any folder is made: the output is a folder (or absent) and every local input exists
    in a form its format can read (a bare image folder is refused here, not after DIR is made)."""
    from seekworld.prepare.formats import InputError, check_input

    out = Path(cfg.output)
    if out.exists() and not out.is_dir():
        raise PrepareError(f"--output {out} exists and is not a folder")
    for _, path in cfg.inputs:
        try:
            check_input(path, cfg.input_format)
        except InputError as exc:
            raise PrepareError(str(exc)) from None


def start_output(cfg: PrepareConfig) -> Path:
    """Create DIR, DIR/images and the manifest folder; DIR as an absolute path."""
    out = Path(cfg.output).resolve()
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_DIR).mkdir(exist_ok=True)
    return out


def output_label(gold: GoldLabel, lat: float | None, lon: float | None, image: str, label_format: str) -> str:
    """The `label` field: `$country,region/aliases$`, or a JSON object string.

    JSON when `label_format` is "json", or "auto" and the sample has coordinates (the distance
    reward and the zoom agent need them, and the image path, which only JSON can carry).
    """
    if label_format == "string" or (label_format == "auto" and lat is None):
        return format_label(gold.country, gold.regions)
    obj: dict[str, Any] = {
        "country": gold.country,
        "region": gold.regions[0] if gold.regions else None,
        "aliases": list(gold.regions[1:]),
    }
    if lat is not None:
        obj["lat"], obj["lon"] = lat, lon
    obj["image"] = image
    for k, v in gold.extra:  # anything else the input label carried travels on
        obj.setdefault(k, v)
    return json.dumps(obj, ensure_ascii=False)


def rejection(
    sample_id: str,
    origin: str,
    reason: str,
    detail: str,
    images: Iterable[str] | None = None,
    label: Any = None,
) -> dict[str, Any]:
    """One rejected.jsonl entry (without its split). `images`/`label` are left out when None."""
    entry: dict[str, Any] = {"id": sample_id, "origin": origin, "reason": reason, "detail": detail}
    if images is not None:
        entry["images"] = list(images)
        entry["label"] = label if isinstance(label, str | None) else json.dumps(label, ensure_ascii=False)
    return entry


def sample_entry(
    sample_id: str,
    gold: GoldLabel,
    difficulty: Any,
    datasource: str,
    pixel_hashes: list[str],
    images: list[Any],
    phashes: list[str] | None = None,
) -> dict[str, Any]:
    """A manifest's record of one accepted sample (what the report counts). `phashes` (perceptual
    hashes, for near-duplicate leakage) are recorded when given."""
    from seekworld.geo.gazetteer import load_gazetteer

    cid = gold.country_id
    entry = {
        "id": sample_id,
        "label": format_label(gold.country, gold.regions),
        "country_id": cid,
        "country_name": load_gazetteer().country_name(cid) if cid else f"{gold.country} (unresolved)",
        "place_id": gold.place_id,
        "continent": continent_of(cid),
        "difficulty": normalize_difficulty(difficulty),
        "datasource": datasource,
        "unresolved": unresolved_reason(gold),
        "pixel_hashes": pixel_hashes,
        "tokens_in": [r.tokens_in for r in images],
        "tokens": [r.tokens for r in images],
    }
    if phashes is not None:
        entry["phashes"] = phashes
    return entry


def write_split(
    out: Path, split: str, rows: list[dict[str, Any]], manifest: dict[str, Any]
) -> dict[str, Any]:
    """Write DIR/<split>.jsonl, then its manifest (the manifest's `rows` is set here)."""
    atomic_write(out / f"{split}.jsonl", dump_jsonl(rows))
    manifest = {**manifest, "rows": len(rows)}
    atomic_write(out / MANIFEST_DIR / f"{split}.json", json.dumps(manifest, ensure_ascii=False))
    return manifest
