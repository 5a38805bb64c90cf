"""The resumable evaluation loop behind `seekworld eval`.

    report = run_eval(EvalConfig(data=("test.jsonl",), output="runs/qwen7b", engine=EngineOptions(...)))

DIR holds `run.json` (the settings that decide the outputs), `predictions.jsonl` (one line per
(row, sample), appended and flushed as each finishes), `failures.jsonl` (requests that failed after
retries), and the report files. A rerun with the same DIR generates only the (id, sample) pairs not
yet in `predictions.jsonl`: an interrupted run continues, failed requests are retried, a larger
`--samples` adds samples; `rescore` scores the stored responses again (after the verifier or the
gazetteer changed) without generating them again. Settings that change outputs (model, engine,
temperature, top_p, max_new_tokens, seed) must match the ones in `run.json`, or the run stops and
says so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from seekworld.errors import SeekworldError
from seekworld.eval.engines import Engine, EngineOptions, GenParams, Request, create_engine
from seekworld.eval.rows import RowError, load_rows, to_messages
from seekworld.eval.scoring import SCORE_FIELDS, check_labels, score_response

__all__ = ["EvalConfig", "EvalError", "read_predictions", "run_eval"]

PREDICTIONS = "predictions.jsonl"
FAILURES = "failures.jsonl"
RUN = "run.json"
# Settings that decide what a sample is: a resume must not mix them.
_PINNED = ("model", "engine", "temperature", "top_p", "max_new_tokens", "seed")


class EvalError(SeekworldError, RuntimeError):
    """The run cannot go on; the message says what to change."""


@dataclass(frozen=True)
class EvalConfig:
    data: tuple[str, ...]
    output: str
    engine: EngineOptions
    params: GenParams = field(default_factory=GenParams)
    samples: int = 1
    limit: int | None = None  # first N rows of each data file
    name: str | None = None  # the model's name in tables (default: the model argument)
    resamples: int = 1000  # bootstrap resamples
    progress: bool = True
    rescore: bool = False  # score the stored responses again (after a verifier or gazetteer update)

    @property
    def display_name(self) -> str:
        return self.name or self.engine.model


def read_predictions(path: str | Path) -> list[dict]:
    """Lines of a predictions file. A last line cut short by a crash is dropped (and cut off the
    file, so appending continues cleanly); any other bad line is an error."""
    p = Path(path)
    if not p.exists():
        return []
    data = p.read_bytes()
    lines = data.split(b"\n")
    out = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # unterminated last line: an interrupted write
                with open(p, "r+b") as f:
                    f.truncate(len(data) - len(line))
                break
            raise EvalError(f"{p}:{i + 1} is not JSON; fix or delete the line") from None
    return out


def _settings(cfg: EvalConfig) -> dict:
    return {
        "model": cfg.engine.model,
        "engine": cfg.engine.engine,
        "name": cfg.display_name,
        "temperature": cfg.params.temperature,
        "top_p": cfg.params.top_p,
        "max_new_tokens": cfg.params.max_new_tokens,
        "seed": cfg.params.seed,
        "samples": cfg.samples,
        "data": list(cfg.data),
        "limit": cfg.limit,
        "base_url": cfg.engine.base_url,
        "engine_args": dict(cfg.engine.engine_args),
    }


def _check_resume(out: Path, settings: dict) -> None:
    run_file = out / RUN
    if run_file.exists():
        old = json.loads(run_file.read_text(encoding="utf-8"))
        changed = [k for k in _PINNED if k in old and old[k] != settings[k]]
        if changed:
            diffs = ", ".join(f"{k}: {old[k]!r} -> {settings[k]!r}" for k in changed)
            raise EvalError(
                f"{out} holds a run with other settings ({diffs}); use the same settings to resume, "
                "or another --output"
            )
    run_file.write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _check_inputs(rows: list[dict]) -> None:
    """Fail before any generation when a prompt cannot be built or an image file is missing."""
    for row in rows:
        try:
            to_messages(row, "hf")
        except RowError as exc:
            raise RowError(f"{row['key']}: {exc}") from None
    missing = [str(i) for r in rows for i in r.get("images") or [] if not Path(i).is_file()]
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise EvalError(f"{len(missing)} image files are missing: {', '.join(missing[:3])}{more}")


def run_eval(cfg: EvalConfig, engine: Engine | None = None) -> dict:
    """Generate what is missing, score it, and write the report. Returns the report dict.

    `engine` replaces the one `cfg.engine` names (tests pass stand-ins); it is created only when
    there is something to generate."""
    from seekworld.eval import report as report_mod

    if cfg.samples < 1:
        raise EvalError("--samples must be at least 1")
    rows = load_rows(cfg.data, cfg.limit)
    if not rows:
        raise EvalError(f"no rows in {', '.join(cfg.data)}")
    golds = check_labels(rows)
    _check_inputs(rows)
    if importlib.util.find_spec("reverse_geocode") is None:
        # Needed for any answer with coordinates; fail now rather than after generating.
        raise EvalError("scoring needs reverse_geocode: pip install 'reverse_geocode==1.6.6' (extra 'eval')")
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    settings = _settings(cfg)
    _check_resume(out, settings)

    pred_path = out / PREDICTIONS
    if cfg.rescore:
        _rescore(pred_path, golds)
    existing = read_predictions(pred_path)
    done = {(p["key"], p["sample"]) for p in existing}
    wanted = {(r["key"], k) for r in rows for k in range(cfg.samples)}
    todo = [
        Request(i, k) for i, r in enumerate(rows) for k in range(cfg.samples) if (r["key"], k) not in done
    ]
    prior = [p for p in existing if (p["key"], p["sample"]) in wanted]

    failures = 0
    if todo:
        own_engine = engine is None
        engine = engine or create_engine(cfg.engine)
        try:
            failures = _generate(cfg, engine, rows, golds, todo, prior, pred_path, out / FAILURES)
        finally:
            if own_engine:
                engine.close()

    preds = [p for p in read_predictions(pred_path) if (p["key"], p["sample"]) in wanted]
    report = report_mod.build_report(preds, rows, settings, samples=cfg.samples, resamples=cfg.resamples)
    report["failed_this_run"] = failures
    report_mod.write_report(report, out)
    return report


def _rescore(pred_path: Path, golds: dict) -> None:
    """Score every stored response of the current rows again, in place (atomic replace)."""
    tmp = pred_path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for p in read_predictions(pred_path):
            if p["key"] in golds:
                p = {k: v for k, v in p.items() if k not in SCORE_FIELDS}
                p.update(score_response(p["response"], golds[p["key"]]))
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    os.replace(tmp, pred_path)


def _generate(
    cfg: EvalConfig,
    engine: Engine,
    rows: list[dict],
    golds: dict,
    todo: list[Request],
    prior: list[dict],
    pred_path: Path,
    fail_path: Path,
) -> int:
    from tqdm import tqdm

    n_done, correct, failures = len(prior), sum(p["accuracy"] for p in prior), 0
    bar = tqdm(
        total=len(rows) * cfg.samples,
        initial=n_done,
        desc=cfg.display_name,
        unit="sample",
        disable=not cfg.progress,
        file=sys.stderr,
    )
    with open(pred_path, "a", encoding="utf-8") as preds, bar:
        for output in engine.generate(rows, todo, cfg.params):
            row = rows[output.index]
            if output.error is not None:
                failures += 1
                with open(fail_path, "a", encoding="utf-8") as f:
                    record = {"key": row["key"], "sample": output.sample, "error": output.error}
                    f.write(json.dumps({**record, "attempts": output.attempts, "time": time.time()}) + "\n")
                if failures <= 3:
                    bar.write(f"request failed ({row['key']}, sample {output.sample}): {output.error}")
                bar.set_postfix(acc=f"{correct / max(n_done, 1):.3f}", failed=failures)
                continue
            record = {
                "key": row["key"],
                "id": row["id"],
                "sample": output.sample,
                "model": cfg.display_name,
                "datasource": row.get("datasource"),
                "difficulty": row.get("difficulty"),
                "label": row["label"],
                "images": [str(i) for i in row.get("images") or []],
                "response": output.text,
                "finish_reason": output.finish_reason,
                "latency_s": round(output.latency_s, 4),
                **score_response(output.text, golds[row["key"]]),
            }
            preds.write(json.dumps(record, ensure_ascii=False) + "\n")
            preds.flush()  # a crash loses at most the sample being written
            n_done += 1
            correct += record["accuracy"]
            bar.update(1)
            bar.set_postfix(acc=f"{correct / n_done:.3f}", failed=failures)
    return failures
