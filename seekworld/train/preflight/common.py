"""Checks both training backends run before training starts (and alone with `--dry-run`): the data,
its images, the model folder, the outputs, logging and the judge endpoint. Each returns
`CheckResult(name, ok, detail, warning)`; a run starts only when every result is ok. A warning is ok
but worth reading (e.g. no GPU on a dry-run machine).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from seekworld.train.config import TrainConfig
from seekworld.train.resume import describe_resume

__all__ = [
    "CheckResult",
    "check_data",
    "check_eval_data",
    "check_judge",
    "check_logging",
    "check_model",
    "check_outputs",
    "first_rows",
    "format_report",
    "gold_answer",
    "listed",
    "read_rows",
]

MAX_LISTED = 5  # problems listed per check; the rest are counted
REWARD_ROWS = 4  # rows sent to the reward endpoint


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # ok, but read the detail

    @property
    def status(self) -> str:
        return "FAIL" if not self.ok else ("warn" if self.warning else "ok")


def format_report(results: Sequence[CheckResult]) -> str:
    width = max((len(r.name) for r in results), default=0)
    lines = []
    for r in results:
        head = f"[{r.status:<4}] {r.name:<{width}}  "
        detail = r.detail.splitlines() or [""]
        lines.append(head + detail[0])
        lines.extend(" " * len(head) + d for d in detail[1:])
    failed = sum(not r.ok for r in results)
    warned = sum(r.ok and r.warning for r in results)
    lines.append(f"preflight: {len(results) - failed} passed ({warned} with warnings), {failed} failed")
    return "\n".join(lines)


def listed(problems: list[str], total: int | None = None) -> str:
    total = len(problems) if total is None else total
    shown = problems[:MAX_LISTED]
    more = f"\n... and {total - len(shown)} more" if total > len(shown) else ""
    return "\n".join(shown) + more


# ---------------------------------------------------------------- data


def read_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, decoded JSON or the ValueError) for each non-empty line of a JSONL file."""
    from seekworld.io.files import iter_jsonl

    return iter_jsonl(path)


def _image_parts(prompt: Any) -> int | None:
    """How many images the prompt asks for, as upstream's PromptDataset reads it; None if malformed."""
    if isinstance(prompt, str):  # a bare string becomes one user message
        return prompt.count("<image>")
    if not isinstance(prompt, list):
        return None
    count = 0
    for msg in prompt:
        if not isinstance(msg, dict) or "content" not in msg or "role" not in msg:
            return None
        content = msg["content"]
        if isinstance(content, str):
            count += content.count("<image>")  # upstream splits string contents on the literal tag
        elif isinstance(content, list):
            count += sum(1 for part in content if isinstance(part, dict) and part.get("type") == "image")
        else:
            return None
    return count


def _remote_image(ref: str) -> bool:
    return ref.startswith(("http://", "https://", "data:"))


def _decode(path: str) -> str | None:
    """None if the image decodes, else why not."""
    from seekworld.io.images import open_rgb

    try:
        im = open_rgb(path)  # every pixel decoded, as training will decode it
        if im.width < 1 or im.height < 1:
            return "empty image"
    except Exception as exc:  # PIL raises many types for broken files
        return f"{type(exc).__name__}: {exc}"
    return None


def _row_problems(row: dict, where: str, config: TrainConfig) -> tuple[list[str], list[str]]:
    """(problems, local image paths) of one data row, as upstream's PromptDataset will read it."""
    from seekworld.geo.label import LabelError, parse_label

    input_key, label_key, image_key = (
        config["data.input_key"],
        config["data.label_key"],
        config["data.image_key"],
    )
    missing = [k for k in (input_key, label_key, image_key) if k not in row]
    if missing:
        return [f"{where}: missing {', '.join(missing)} (data.input_key/label_key/image_key)"], []
    tags = _image_parts(row[input_key])
    refs = row[image_key]
    refs = [refs] if isinstance(refs, str) else refs
    if tags is None:
        return [f"{where}: {input_key} must be a string or a list of {{role, content}} messages"], []
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        return [f"{where}: {image_key} must be a list of image paths"], []
    problems, local = [], []
    max_images = config["data.max_images_per_prompt"]
    if tags != len(refs):
        problems.append(f"{where}: {tags} <image> tag(s) but {len(refs)} image(s)")
    if not refs:
        problems.append(f"{where}: no image (VLM training needs one per prompt)")
    if len(refs) > max_images:
        problems.append(f"{where}: {len(refs)} images > data.max_images_per_prompt={max_images}")
    try:
        parse_label(row[label_key])
    except LabelError as exc:
        problems.append(f"{where}: label {row[label_key]!r}: {exc}")
    for ref in refs:
        if _remote_image(ref):
            continue
        if not os.path.isabs(ref):
            problems.append(f"{where}: image path {ref!r} is relative; rollout workers need absolute paths")
        else:
            local.append(ref)
    return problems, local


def check_data(
    config: TrainConfig, sample: int | None = None, seed: int = 0, key: str = "data.prompt_data"
) -> list[CheckResult]:
    """Rows have the flagged fields, `<image>` tags match images, labels parse, images decode.
    `key`: the config key naming the files (data.eval_data for the held-out data)."""
    results: list[CheckResult] = []
    paths = [p.strip() for p in config[key].split(",") if p.strip()]
    images: dict[str, list[str]] = {}  # path -> where it is used
    rows = n_problems = 0
    problems: list[str] = []  # the first MAX_LISTED; the rest are counted

    def problem(*texts: str) -> None:
        nonlocal n_problems
        n_problems += len(texts)
        problems.extend(texts[: max(0, MAX_LISTED - len(problems))])

    for name in paths:
        path = Path(name)
        if not path.is_file():
            hint = f" (run `seekworld prepare --output DIR ...`, then {key}=DIR/<split>.jsonl)"
            results.append(CheckResult("data", False, f"{name}: no such file{hint}"))
            continue
        for lineno, row in read_rows(path):
            where = f"{name}:{lineno}"
            if isinstance(row, ValueError):
                problem(f"{where}: not JSON ({row})")
                continue
            if not isinstance(row, dict):
                problem(f"{where}: not a JSON object")
                continue
            rows += 1
            where += f" (id {row['id']})" if "id" in row else ""
            found, local = _row_problems(row, where, config)
            problem(*found)
            for ref in local:
                images.setdefault(ref, []).append(where)
    if not paths:
        results.append(CheckResult("data", False, f"{key} is empty"))
    if any(not r.ok for r in results):
        return results
    if rows == 0:
        return [CheckResult("data", False, f"{config[key]}: no rows")]
    if n_problems:
        detail = f"{n_problems} problem(s) in {rows} rows:\n" + listed(problems, n_problems)
        return [CheckResult("data", False, detail), _check_images(images, sample, seed)]
    detail = (
        f"{rows} rows in {', '.join(paths)}: fields {config['data.input_key']}/{config['data.label_key']}/"
        f"{config['data.image_key']} present, <image> tags match images, labels parse"
    )
    small = key == "data.prompt_data" and rows < config["rollout.batch_size"]
    if small:
        detail += f"\nfewer rows ({rows}) than rollout.batch_size ({config['rollout.batch_size']})"
    return [CheckResult("data", True, detail, warning=small), _check_images(images, sample, seed)]


def check_eval_data(config: TrainConfig, sample: int | None = None, seed: int = 0) -> list[CheckResult]:
    """The held-out data (`data.eval_data`), checked as the training data is; [] without it."""
    if not config["data.eval_data"]:
        return []
    results = check_data(config, sample, seed, key="data.eval_data")
    return [replace(r, name=f"eval {r.name}") for r in results]


def _check_images(images: dict[str, list[str]], sample: int | None, seed: int) -> CheckResult:
    try:
        import PIL  # noqa: F401
    except ModuleNotFoundError:
        return CheckResult("images", False, "Pillow is not installed (pip install 'seekworld[train]')")
    paths = sorted(images)
    checked = paths if sample is None or sample >= len(paths) else random.Random(seed).sample(paths, sample)
    bad = []
    for path in checked:
        if not os.path.isfile(path):
            bad.append(f"{path}: missing (used at {images[path][0]})")
            continue
        why = _decode(path)
        if why:
            bad.append(f"{path}: does not decode: {why} (used at {images[path][0]})")
    scope = "all" if len(checked) == len(paths) else f"a sample of {len(checked)} (--sample)"
    if bad:
        return CheckResult(
            "images", False, f"{len(bad)} of {scope} {len(paths)} images fail:\n" + listed(bad)
        )
    return CheckResult("images", True, f"{len(checked)} of {len(paths)} images exist and decode ({scope})")


def gold_answer(label: Any) -> str:
    from seekworld.geo.label import parse_label

    gold = parse_label(label)
    place = f"${gold.country},{gold.regions[0]}$" if gold.regions else f"${gold.country}$"
    return (
        f"<think>The signs, the road and the vegetation point to this place.</think><answer>{place}</answer>"
    )


def first_rows(config: TrainConfig, n: int = REWARD_ROWS) -> list[dict]:
    """The first `n` rows of the data with the fields the flags name (for the reward probes)."""
    out: list[dict] = []
    keys = (config["data.input_key"], config["data.label_key"])
    for name in (p.strip() for p in config["data.prompt_data"].split(",") if p.strip()):
        path = Path(name)
        if not path.is_file():
            continue
        for _, row in read_rows(path):
            if isinstance(row, dict) and all(k in row for k in keys):
                try:
                    gold_answer(row[keys[1]])
                except ValueError:
                    continue
                out.append(row)
                if len(out) >= n:
                    return out
    return out


# ---------------------------------------------------------------- model, outputs, logging, judge


def check_model(config: TrainConfig) -> CheckResult:
    path = Path(config["model.path"])
    if not path.exists():
        if config["model.path"].startswith(("/", "./", "../")):
            return CheckResult("model", False, f"{path}: no such folder")
        return CheckResult(
            "model", True, f"{config['model.path']}: hub id, downloaded by upstream at start (not checked)"
        )
    cfg = path / "config.json"
    try:
        data = json.loads(cfg.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return CheckResult("model", False, f"{cfg}: cannot read ({exc})")
    if "vision_config" not in data:
        return CheckResult("model", False, f"{path} is not a VLM (its config.json has no vision_config)")
    return CheckResult("model", True, f"{path}: {data.get('model_type', '?')} VLM")


def check_outputs(config: TrainConfig) -> CheckResult:
    save = Path(config["checkpoint.save_path"])
    probe = save
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        return CheckResult("outputs", False, f"{save}: {probe} is not writable")
    ok, detail = describe_resume(save, config["backend"], config["checkpoint.load"])
    return CheckResult("outputs", ok, detail)


def check_logging(config: TrainConfig) -> CheckResult:
    parts = []
    if config["logging.wandb"]:
        if not os.environ.get("WANDB_API_KEY"):
            return CheckResult("logging", False, "logging.wandb=true needs WANDB_API_KEY in the environment")
        parts.append(f"W&B project {config['logging.wandb_project']}")
    if config["logging.tensorboard_dir"]:
        parts.append(f"TensorBoard in {config['logging.tensorboard_dir']}")
    return CheckResult(
        "logging", True, ", ".join(parts) or "console only (logging.wandb / logging.tensorboard_dir)"
    )


def check_judge(config: TrainConfig) -> CheckResult | None:
    from seekworld.train.launch import http_json, judge_base_url

    base = judge_base_url(config)
    if base is None:
        return None
    try:
        answer = http_json(f"{base}/models", timeout=10)
    except (OSError, ValueError) as exc:
        return CheckResult("judge", False, f"{base}/models: {exc}")
    served = [m.get("id") for m in (answer or {}).get("data", []) if isinstance(m, dict)]
    if config["judge.model"] not in served:
        return CheckResult("judge", False, f"{base} serves {served}, not judge.model={config['judge.model']}")
    return CheckResult("judge", True, f"{base} serves {config['judge.model']}")
