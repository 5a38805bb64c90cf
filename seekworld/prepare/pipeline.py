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

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seekworld.errors import UnknownNameError
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.io.progress import progress
from seekworld.prepare.balance import DEFAULT_BALANCE, balance, normalize_difficulty
from seekworld.prepare.formats import InputError, RawSample, read_input
from seekworld.prepare.images import ImageConfig, ImageResult, run_task
from seekworld.prepare.leakage import perceptual_hash
from seekworld.prepare.output import (
    DEFAULT_BALANCE_SPLITS,
    LABEL_FORMATS,
    USE_DEFAULT,
    PrepareConfig,
    PrepareError,
    check_config,
    output_label,
    rejection,
    sample_entry,
    start_output,
    write_split,
)
from seekworld.prepare.prompts import count_image_tags
from seekworld.prepare.report import write_report

__all__ = [
    "DEFAULT_BALANCE_SPLITS",
    "LABEL_FORMATS",
    "USE_DEFAULT",
    "PrepareConfig",
    "PrepareError",
    "output_label",
    "prepare",
]


@dataclass
class _Accepted:
    sample: RawSample
    gold: GoldLabel
    messages: list[dict[str, str]]
    images: list[ImageResult]


def _reject(sample: RawSample, reason: str, detail: str) -> dict[str, Any]:
    return rejection(sample.id, sample.origin, reason, detail, sample.image_names, sample.label)


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


def _collect(
    cfg: PrepareConfig, split: str, paths: list[str], runner: _Runner, img_cfg: ImageConfig
) -> tuple[list[_Accepted], list[dict[str, Any]], dict[str, int]]:
    """Read, check and process every sample of a split: (accepted, rejected, image counts).

    Both lists are in input order whatever the worker count: a sample rejected before its images
    are processed waits for the earlier samples still in flight."""
    accepted: list[_Accepted] = []
    rejected: list[tuple[int, dict[str, Any]]] = []
    pending: deque[tuple[int, RawSample, GoldLabel, list[dict[str, str]], list[Any]]] = deque()
    counts = {"written": 0, "reused": 0, "resized": 0}
    bar = progress(None, f"prepare {split}", enabled=cfg.progress)

    def finish_one() -> None:
        seq, sample, gold, messages, handles = pending.popleft()
        results = [runner.result(h) for h in handles]
        sample.images = []  # drop embedded bytes now: only the results are needed from here
        bad = next((r for r in results if isinstance(r, tuple)), None)
        bar.update(1)
        if bad is not None:
            rejected.append((seq, _reject(sample, *bad)))
            return
        for r in results:
            counts["reused" if r.reused else "written"] += 1
            counts["resized"] += int(r.resized)
        accepted.append(_Accepted(sample, gold, messages, results))

    try:  # closed before any error is printed: the message gets its own line
        for seq, sample in enumerate(_samples(cfg, paths)):
            problem = _problem(cfg, sample)
            if isinstance(problem, dict):
                rejected.append((seq, problem))
                continue
            gold, messages = problem
            handles = [runner.submit(src, img_cfg) for src in sample.images]
            pending.append((seq, sample, gold, messages, handles))
            while len(pending) > runner.window:
                finish_one()
        while pending:
            finish_one()
    finally:
        bar.close()
    return accepted, [r for _, r in sorted(rejected, key=lambda x: x[0])], counts


def _problem(
    cfg: PrepareConfig, sample: RawSample
) -> dict[str, Any] | tuple[GoldLabel, list[dict[str, str]]]:
    """The sample's rejection entry, or its (gold label, prompt messages) when it can go on."""
    if sample.problem is not None:
        return _reject(sample, *sample.problem)
    try:
        gold = _gold_label(sample)
    except LabelError as exc:
        return _reject(sample, "unparseable_label", str(exc))
    if not sample.images:
        return _reject(sample, "missing_file", "row names no image")
    messages = cfg.template.messages(sample.n_slots, sample.question)
    tags = count_image_tags(messages)
    if tags != len(sample.images):
        detail = f"prompt has {tags} <image> tag(s) but the row has {len(sample.images)} image(s)"
        return _reject(sample, "image_tag_mismatch", detail)
    return gold, messages


def _balanced(
    cfg: PrepareConfig, split: str, accepted: list[_Accepted]
) -> tuple[list[tuple[_Accepted, int]], dict[str, int] | None]:
    """(sample, copy number) in output order, and the weights used (None: no balancing)."""
    weights = cfg.balance
    if weights == USE_DEFAULT:
        weights = DEFAULT_BALANCE if split.startswith(DEFAULT_BALANCE_SPLITS) else None
    if not weights:
        return [(a, 0) for a in accepted], None
    return balance(accepted, lambda a: a.sample.difficulty, weights, cfg.seed), weights


def _write(
    cfg: PrepareConfig,
    split: str,
    paths: list[str],
    ordered: list[tuple[_Accepted, int]],
    weights: dict[str, int] | None,
    accepted: list[_Accepted],
    rejected: list[dict[str, Any]],
    counts: dict[str, int],
) -> dict[str, Any]:
    """Write `<split>.jsonl` and the split's manifest."""
    rows = []
    difficulty_after: dict[str, int] = {}
    for item, copy in ordered:
        s = item.sample
        difficulty = normalize_difficulty(s.difficulty)
        difficulty_after[difficulty or "unknown"] = difficulty_after.get(difficulty or "unknown", 0) + 1
        lat, lon = _coords(s, item.gold)
        rows.append(
            {
                "id": s.id,
                "prompt": item.messages,
                "images": [r.path for r in item.images],
                "label": output_label(item.gold, lat, lon, item.images[0].path, cfg.label_format),
                "datasource": s.datasource or cfg.datasource or split,
                "difficulty": difficulty,
                "copy": copy,
            }
        )
    samples = [
        sample_entry(
            a.sample.id,
            a.gold,
            a.sample.difficulty,
            a.sample.datasource or cfg.datasource or split,
            [r.pixel_hash for r in a.images],
            a.images,
            phashes=[perceptual_hash(r.path) for r in a.images],  # near-duplicates (leakage)
        )
        for a in accepted
    ]
    manifest = {
        "split": split,
        "inputs": paths,
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
    return write_split(Path(cfg.output), split, rows, manifest)


def _prepare_split(
    cfg: PrepareConfig, split: str, paths: list[str], runner: _Runner, img_cfg: ImageConfig
) -> dict[str, Any]:
    accepted, rejected, counts = _collect(cfg, split, paths, runner, img_cfg)
    ordered, weights = _balanced(cfg, split, accepted)
    return _write(cfg, split, paths, ordered, weights, accepted, rejected, counts)


def prepare(cfg: PrepareConfig) -> dict[str, Any]:
    """Run `seekworld prepare` for prompt rows. Returns the report (as written to report.json).

    Traces (`--input-format traces`) are a different product, multi-turn SFT rows: the CLI sends
    them to `seekworld.traces.prepare.prepare_traces`."""
    if cfg.input_format == "traces":
        raise PrepareError("traces are prepared by seekworld.traces.prepare.prepare_traces")
    check_config(cfg)
    out = start_output(cfg)
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
    return write_report(out)
