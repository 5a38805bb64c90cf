"""The `prepare` run: read inputs, check labels and prompts, process images in parallel, balance,
write `<split>.jsonl`, then rebuild the report from every split in DIR.

Output layout (DIR):

    <split>.jsonl          one row per sample (after balancing), for upstream OpenRLHF's PromptDataset
    images/ab/<key>.jpg    prepared images, named by sha256(settings + source bytes)
    images/ab/<key>.json   sidecar written after the image: its presence means "done"
    rejected.jsonl         every sample left out, with `split`, `id`, `origin`, `reason`, `detail`
    report.json, report.md, countries.png
    .prepare/<split>.json  per-split manifest the report is rebuilt from

Resume: images are content-addressed and written atomically, so a rerun reuses every finished one;
each `.jsonl`/report file is written to a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError, UnknownNameError
from seekworld.geo.label import GoldLabel, LabelError, format_label, parse_label
from seekworld.prepare.balance import DEFAULT_BALANCE, balance, normalize_difficulty
from seekworld.prepare.continents import continent_of
from seekworld.prepare.formats import InputError, RawSample, read_input
from seekworld.prepare.images import DEFAULT_MAX_PIXELS, QWEN_MIN_PIXELS, ImageConfig, ImageResult, run_task
from seekworld.prepare.prompts import PromptTemplate, count_image_tags
from seekworld.prepare.report import MANIFEST_DIR, write_report

__all__ = ["DEFAULT_BALANCE_SPLITS", "LABEL_FORMATS", "PrepareConfig", "PrepareError", "prepare"]

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


@dataclass
class _Accepted:
    sample: RawSample
    gold: GoldLabel
    messages: list[dict[str, str]]
    images: list[ImageResult]


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _reject(sample: RawSample, reason: str, detail: str) -> dict[str, Any]:
    return {
        "id": sample.id,
        "origin": sample.origin,
        "reason": reason,
        "detail": detail,
        "images": [n for n in sample.image_names],
        "label": sample.label if isinstance(sample.label, str | None) else json.dumps(sample.label),
    }


# -- labels -----------------------------------------------------------------------------------


def _reverse_geocode(lat: float, lon: float) -> dict[str, str]:
    """Country and first-level region for coordinates, via the optional `reverse_geocode` package."""
    try:
        import reverse_geocode
    except ImportError:
        raise LabelError(
            "row has coordinates but no country/label; install `reverse_geocode` "
            "(pip install 'seekworld[eval]') to derive the label from lat/lon"
        ) from None
    found = reverse_geocode.search([(lat, lon)])[0]
    if not found.get("country"):
        raise LabelError(f"no country found near ({lat}, {lon})")
    return {"country": found["country"], "region": found.get("state") or ""}


def _gold_label(sample: RawSample) -> GoldLabel:
    """Parse the sample's label (and its coordinates). Raises LabelError."""
    label = sample.label
    if label is None:
        if sample.lat is None or sample.lon is None:
            raise LabelError("row has no label, no country and no lat/lon")
        label = _reverse_geocode(sample.lat, sample.lon)
    gold = parse_label(label)
    if sample.lat is not None or sample.lon is not None:
        # The row's own lat/lon columns, checked by the label parser's rules (both, numbers, range).
        coords = parse_label({"country": gold.country, "lat": sample.lat, "lon": sample.lon})
        sample.lat, sample.lon = coords.lat, coords.lon
    return gold


def _coords(sample: RawSample, gold: GoldLabel) -> tuple[float | None, float | None]:
    if isinstance(sample.lat, float) and isinstance(sample.lon, float):
        return sample.lat, sample.lon
    return gold.lat, gold.lon


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


def _unresolved(gold: GoldLabel) -> str | None:
    from seekworld.geo.gazetteer import load_gazetteer

    gaz = load_gazetteer()
    if gold.country_id is None:
        return gaz.explain_country(gold.country)
    if gold.regions and gold.place_id is None:
        return gaz.explain_region(gold.country_id, gold.regions[0])
    return None


# -- image work -------------------------------------------------------------------------------


class _Runner:
    """Runs image tasks inline (1 worker) or in a spawn-safe process pool, in submission order."""

    def __init__(self, workers: int) -> None:
        self.pool = None
        if workers > 1:
            import multiprocessing

            self.pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn")
            )
        # Bounded look-ahead: enough queued work to keep every worker busy, never the whole input
        # (inputs with embedded bytes would otherwise sit in memory all at once).
        self.window = max(1, workers) * 8

    def submit(self, source: str | bytes, cfg: ImageConfig) -> Future | Any:
        if self.pool is None:
            return run_task(source, cfg)
        return self.pool.submit(run_task, source, cfg)

    @staticmethod
    def result(handle: Future | Any) -> Any:
        return handle.result() if isinstance(handle, Future) else handle

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _samples(cfg: PrepareConfig, paths: list[str]) -> Iterator[RawSample]:
    for path in paths:
        try:
            yield from read_input(path, cfg.input_format, image_root=cfg.image_root, hf_split=cfg.hf_split)
        except InputError as exc:
            raise PrepareError(str(exc)) from None
        except UnknownNameError as exc:  # unknown --input-format (the registry's "did you mean")
            raise PrepareError(str(exc)) from None


def _progress(total: int | None, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" samples", disable=not enabled, file=sys.stderr)


def _prepare_split(
    cfg: PrepareConfig, split: str, paths: list[str], runner: _Runner, img_cfg: ImageConfig
) -> dict[str, Any]:
    accepted: list[_Accepted] = []
    rejected: list[dict[str, Any]] = []
    pending: deque[tuple[RawSample, GoldLabel, list[dict[str, str]], list[Any]]] = deque()
    counts = {"written": 0, "reused": 0, "resized": 0}
    bar = _progress(None, f"prepare {split}", cfg.progress)

    def finish_one() -> None:
        sample, gold, messages, handles = pending.popleft()
        results = [runner.result(h) for h in handles]
        sample.images = []  # drop embedded bytes now: only the results are needed from here
        bad = next((r for r in results if isinstance(r, tuple)), None)
        bar.update(1)
        if bad is not None:
            rejected.append(_reject(sample, *bad))
            return
        for r in results:
            counts["reused" if r.reused else "written"] += 1
            counts["resized"] += int(r.resized)
        accepted.append(_Accepted(sample, gold, messages, results))

    try:  # closed before any error is printed: the message gets its own line
        for sample in _samples(cfg, paths):
            if sample.problem is not None:
                rejected.append(_reject(sample, *sample.problem))
                continue
            try:
                gold = _gold_label(sample)
            except LabelError as exc:
                rejected.append(_reject(sample, "unparseable_label", str(exc)))
                continue
            if not sample.images:
                rejected.append(_reject(sample, "missing_file", "row names no image"))
                continue
            messages = cfg.template.messages(sample.n_slots, sample.question)
            tags = count_image_tags(messages)
            if tags != len(sample.images):
                rejected.append(
                    _reject(
                        sample,
                        "image_tag_mismatch",
                        f"prompt has {tags} <image> tag(s) but the row has {len(sample.images)} image(s)",
                    )
                )
                continue
            pending.append((sample, gold, messages, [runner.submit(src, img_cfg) for src in sample.images]))
            while len(pending) > runner.window:
                finish_one()
        while pending:
            finish_one()
    finally:
        bar.close()

    weights = cfg.balance
    if weights == USE_DEFAULT:
        weights = DEFAULT_BALANCE if split.startswith(DEFAULT_BALANCE_SPLITS) else None
    if weights:
        ordered = balance(accepted, lambda a: a.sample.difficulty, weights, cfg.seed)
    else:
        ordered = [(a, 0) for a in accepted]

    lines = []
    difficulty_after: dict[str, int] = {}
    for item, copy in ordered:
        s = item.sample
        difficulty = normalize_difficulty(s.difficulty)
        difficulty_after[difficulty or "unknown"] = difficulty_after.get(difficulty or "unknown", 0) + 1
        lat, lon = _coords(s, item.gold)
        row = {
            "id": s.id,
            "prompt": item.messages,
            "images": [r.path for r in item.images],
            "label": output_label(item.gold, lat, lon, item.images[0].path, cfg.label_format),
            "datasource": s.datasource or cfg.datasource or split,
            "difficulty": difficulty,
            "copy": copy,
        }
        lines.append(json.dumps(row, ensure_ascii=False))
    out_dir = Path(cfg.output)
    _atomic_write(out_dir / f"{split}.jsonl", ("\n".join(lines) + "\n" if lines else "").encode())

    from seekworld.geo.gazetteer import load_gazetteer
    from seekworld.prepare.leakage import perceptual_hash

    gaz = load_gazetteer()
    samples = []
    for a in accepted:
        cid = a.gold.country_id
        samples.append(
            {
                "id": a.sample.id,
                "label": format_label(a.gold.country, a.gold.regions),
                "country_id": cid,
                "country_name": gaz.country_name(cid) if cid else f"{a.gold.country} (unresolved)",
                "place_id": a.gold.place_id,
                "continent": continent_of(cid),
                "difficulty": normalize_difficulty(a.sample.difficulty),
                "datasource": a.sample.datasource or cfg.datasource or split,
                "unresolved": _unresolved(a.gold),
                "pixel_hashes": [r.pixel_hash for r in a.images],
                "phashes": [perceptual_hash(r.path) for r in a.images],  # near-duplicates (leakage)
                "tokens_in": [r.tokens_in for r in a.images],
                "tokens": [r.tokens for r in a.images],
            }
        )
    manifest = {
        "split": split,
        "inputs": paths,
        "rows": len(lines),
        "balance": weights or None,
        "difficulty_after": dict(sorted(difficulty_after.items())),
        "images": counts,
        "settings": {
            "max_pixels": cfg.max_pixels,
            "min_side": cfg.min_side,
            "seed": cfg.seed,
            "label_format": cfg.label_format,
            "system_prompt": cfg.template.system,
            "question": cfg.template.question,
        },
        "samples": samples,
        "rejected": rejected,
    }
    _atomic_write(out_dir / MANIFEST_DIR / f"{split}.json", json.dumps(manifest, ensure_ascii=False).encode())
    return manifest


def _check(cfg: PrepareConfig) -> None:
    if not cfg.inputs:
        raise PrepareError("no --input given")
    if cfg.label_format not in LABEL_FORMATS:
        raise PrepareError(f"--label-format must be one of {', '.join(LABEL_FORMATS)}")
    if cfg.max_pixels < QWEN_MIN_PIXELS:
        # The processor scales anything smaller up to 56×56 (4 tokens): a lower budget cannot hold.
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
    """Before any folder is made: the output is a folder (or absent) and every local input exists."""
    out = Path(cfg.output)
    if out.exists() and not out.is_dir():
        raise PrepareError(f"--output {out} exists and is not a folder")
    for _, path in cfg.inputs:
        if not path.startswith("hf:") and not Path(path).exists():
            raise PrepareError(f"input {path} does not exist")


def prepare(cfg: PrepareConfig) -> dict[str, Any]:
    """Run `seekworld prepare`. Returns the report (as written to report.json)."""
    if cfg.input_format == "traces":
        # Clue-tracking traces become multi-turn SFT samples, not prompt rows: their own pipeline.
        from seekworld.traces.prepare import prepare_traces

        return prepare_traces(cfg)
    _check(cfg)
    out = Path(cfg.output).resolve()
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / MANIFEST_DIR).mkdir(exist_ok=True)
    img_cfg = ImageConfig(out_dir=str(out / "images"), max_pixels=cfg.max_pixels, min_side=cfg.min_side)
    splits: dict[str, list[str]] = {}
    for split, path in cfg.inputs:
        # Absolute in the manifest and report: a later run from another folder names the same file.
        local = not path.startswith("hf:") and Path(path).exists()
        splits.setdefault(split, []).append(str(Path(path).resolve()) if local else path)
    cfg_abs = PrepareConfig(**{**cfg.__dict__, "output": out})
    runner = _Runner(cfg.workers)
    try:
        for split, paths in splits.items():
            _prepare_split(cfg_abs, split, paths, runner, img_cfg)
    except BrokenProcessPool:
        raise PrepareError(
            "a worker process died (out of memory?); finished images are kept: rerun to resume, "
            "with fewer --workers if memory is short"
        ) from None
    finally:
        runner.close()
    return write_report(out, _atomic_write)
