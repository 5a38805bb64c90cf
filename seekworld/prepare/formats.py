"""Input readers: each turns one input into `RawSample`s, registered by name in `FORMATS`.

- `lmm-r1`: JSONL rows with `message` (a JSON string of chat messages whose user content holds
  `{"type": "image", "image": PATH}` parts and text), `answer` (`$...$`), optional `question`,
  `difficulty`, `id`, `source`. What SeekWorld's training consumed.
- `table`: a CSV/TSV/JSONL/JSON/Parquet table (or a folder holding `metadata.csv|jsonl|parquet`, the
  Hugging Face image-folder layout). Columns (names matched case-insensitively, see `COLUMNS`): the
  image (a path relative to the table or `--image-root`, absolute, or bytes), `label`, or `country`
  plus `region` (aliases joined by `/`), optional `lat`, `lon`, `difficulty`, `source`, `id`,
  `question`. Benchmark lists such as Im2GPS3k/YFCC4k (`IMG_ID`, `LAT`, `LON`) fit this layout.
- `hf`: `hf:NAME[:split]` (needs the hub), or a local `save_to_disk` folder or Parquet dataset folder.
  The image column is the one with the `datasets.Image` feature; it is read as encoded bytes and
  decoded by the `prepare` workers, so a corrupt image is rejected instead of stopping the run.

Readers do no image work and no label parsing; a row they cannot read at all still becomes a sample
with `problem` set, so it lands in rejected.jsonl.
"""

from __future__ import annotations

import csv
import json
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.io.files import iter_jsonl, json_error
from seekworld.registry import Registry

__all__ = [
    "COLUMNS",
    "FORMATS",
    "InputError",
    "RawSample",
    "Reader",
    "check_input",
    "detect_format",
    "read_input",
]


class InputError(SeekworldError, ValueError):
    """An input that cannot be read at all (missing, unknown format, hub unreachable)."""


@dataclass
class RawSample:
    id: str
    origin: str  # where it came from, for rejected.jsonl: "file.jsonl:12"
    images: list[str | bytes] = field(default_factory=list)  # absolute paths or encoded bytes
    image_names: list[str] = field(default_factory=list)  # how each image was referred to
    n_slots: int = 1  # image slots the row declares (lmm-r1 image parts; 1 per table row)
    label: str | dict | None = None  # `$...$`/JSON string, or {"country", "region", ...}
    lat: float | str | None = None  # text when the cell is not a number (rejected later, with why)
    lon: float | str | None = None
    difficulty: str | None = None
    datasource: str | None = None
    question: str | None = None
    problem: tuple[str, str] | None = None  # (reason, detail) when the row itself is unusable


@dataclass(frozen=True)
class Reader:
    name: str
    read: Callable[[str, dict[str, Any]], Iterator[RawSample]]
    description: str


FORMATS: Registry[Reader] = Registry("input format")

# Column name -> accepted spellings (compared lower-cased). First match wins.
COLUMNS: dict[str, tuple[str, ...]] = {
    "image": (
        "image",
        "images",
        "image_path",
        "img_path",
        "file_name",
        "filename",
        "img",
        "img_id",
        "image_file",
        "path",
        "file",
    ),
    "label": ("label", "answer", "ground_truth"),
    "country": ("country", "country_name"),
    "region": ("region", "administrative_area_level_1", "admin1", "province", "state"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "difficulty": ("difficulty", "level"),
    "source": ("source", "datasource"),
    "id": ("id", "uid", "sample_id"),
    "question": ("question",),
}


# -- helpers ----------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """Empty cells (None, "", NaN) become None."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _float(value: Any) -> float | str | None:
    value = _clean(value)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)  # kept as text: the label check rejects it with the reason


def _text(value: Any) -> str | None:
    value = _clean(value)
    return None if value is None else str(value).strip()


def _label_cell(value: Any) -> str | dict | None:
    """A label cell: a structured label stays an object, anything else becomes text."""
    return value if isinstance(value, dict) else _text(value)


def _resolve_path(ref: str, base: Path) -> str:
    if ref.startswith("file://"):
        ref = ref[len("file://") :]
    p = Path(os.path.expanduser(ref))
    return str((p if p.is_absolute() else base / p).resolve())


def _column_map(names: Iterable[str]) -> dict[str, str]:
    lower = {n.lower(): n for n in names}
    found = {}
    for field_name, spellings in COLUMNS.items():
        for s in spellings:
            if s in lower and lower[s] not in found.values():
                found[field_name] = lower[s]
                break
    return found


def _image_refs(value: Any, base: Path) -> tuple[list[str | bytes], list[str]]:
    """A cell's images: a path, bytes, a {"bytes", "path"} struct, or a list of those."""
    value = _clean(value)
    if value is None:
        return [], []
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
    items = value if isinstance(value, list | tuple) else [value]
    refs: list[str | bytes] = []
    names: list[str] = []
    for item in items:
        item = _clean(item)
        if item is None:
            continue
        if isinstance(item, dict):  # datasets' Image(decode=False) / Parquet image struct
            data, path = item.get("bytes"), _clean(item.get("path"))
            if data:
                refs.append(bytes(data))
                names.append(str(path or "<bytes>"))
            elif path:
                refs.append(_resolve_path(str(path), base))
                names.append(str(path))
        elif isinstance(item, bytes | bytearray | memoryview):
            refs.append(bytes(item))
            names.append("<bytes>")
        else:
            refs.append(_resolve_path(str(item), base))
            names.append(str(item))
    return refs, names


def _row_sample(
    row: dict[str, Any], cols: dict[str, str], base: Path, origin: str, default_id: str
) -> RawSample:
    def get(name: str) -> Any:
        return row.get(cols[name]) if name in cols else None

    images, names = _image_refs(get("image"), base)
    label: str | dict | None = _label_cell(get("label"))
    country = _text(get("country"))
    if label is None and country is not None:
        region = _text(get("region"))
        label = {"country": country, "region": region} if region else {"country": country}
    return RawSample(
        id=_text(get("id")) or default_id,
        origin=origin,
        images=images,
        image_names=names,
        n_slots=max(1, len(images)),
        label=label,
        lat=_float(get("lat")),
        lon=_float(get("lon")),
        difficulty=_text(get("difficulty")),
        datasource=_text(get("source")),
        question=_text(get("question")),
    )


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, row or None, error) for each non-blank line."""
    for lineno, row in iter_jsonl(path):
        if isinstance(row, ValueError):
            yield lineno, None, json_error(row)
        elif not isinstance(row, dict):
            yield lineno, None, "line is not a JSON object"
        else:
            yield lineno, row, None


# -- lmm-r1 -----------------------------------------------------------------------------------


def read_lmm_r1(path: str, opts: dict[str, Any]) -> Iterator[RawSample]:
    p = Path(path)
    base = Path(opts.get("image_root") or p.parent).resolve()
    for lineno, row, error in _jsonl_rows(p):
        origin = f"{p.name}:{lineno}"
        default_id = f"{p.stem}-{lineno:06d}"
        if row is None:
            yield RawSample(id=default_id, origin=origin, problem=("malformed_row", error or ""))
            continue
        sample = RawSample(
            id=_text(row.get("id")) or default_id,
            origin=origin,
            label=_label_cell(row.get("answer") if row.get("answer") is not None else row.get("label")),
            difficulty=_text(row.get("difficulty")),
            datasource=_text(row.get("source")) or _text(row.get("datasource")),
            question=_text(row.get("question")),
        )
        try:
            messages = row["message"]
            if isinstance(messages, str):
                messages = json.loads(messages)
            if isinstance(messages, dict):
                messages = [messages]
            if not isinstance(messages, list):
                raise ValueError("'message' must be a list of chat messages")
        except KeyError:
            sample.problem = ("malformed_row", "row has no 'message'")
            yield sample
            continue
        except (ValueError, TypeError) as exc:
            sample.problem = ("malformed_row", f"'message' is not a JSON list of messages: {exc}")
            yield sample
            continue
        slots, texts = 0, []
        for msg in messages:
            if not isinstance(msg, dict) or msg.get("role", "user") != "user":
                continue
            content = msg.get("content")
            if isinstance(content, str):
                texts.append(content)
                continue
            for part in content if isinstance(content, list) else []:
                if not isinstance(part, dict):
                    continue
                kind = part.get("type")
                if kind == "image" or (kind is None and "image" in part):
                    slots += 1
                    refs, names = _image_refs(part.get("image"), base)
                    sample.images += refs
                    sample.image_names += names
                elif kind == "text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        sample.n_slots = slots
        if sample.question is None and texts:
            sample.question = "\n".join(t.strip() for t in texts if t.strip()) or None
        yield sample


# -- table ------------------------------------------------------------------------------------

_TABLE_SUFFIXES = {".csv", ".tsv", ".jsonl", ".json", ".parquet"}
_METADATA_NAMES = ("metadata.csv", "metadata.jsonl", "metadata.parquet")


def _table_file(path: Path) -> Path:
    if path.is_dir():
        for name in _METADATA_NAMES:
            if (path / name).exists():
                return path / name
        raise InputError(f"{path} is a folder without {', '.join(_METADATA_NAMES)}")
    return path


def _table_rows(path: Path) -> Iterator[tuple[int, dict | None, str | None]]:
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            for lineno, row in enumerate(reader, 2):  # line 1 is the header
                if None in row:  # DictReader files surplus cells under None
                    yield lineno, None, "row has more cells than the header (an unquoted comma?)"
                else:
                    yield lineno, row, None
    elif suffix == ".jsonl":
        yield from _jsonl_rows(path)
    elif suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise InputError(f"{path}: a .json table must be a list of row objects")
        for i, row in enumerate(data, 1):
            yield (i, row, None) if isinstance(row, dict) else (i, None, "row is not a JSON object")
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.ParquetFile(path)
        n = 0
        for batch in table.iter_batches(batch_size=256):
            for row in batch.to_pylist():
                n += 1
                yield n, row, None
    else:
        raise InputError(f"{path}: unknown table type {suffix!r} (use {', '.join(sorted(_TABLE_SUFFIXES))})")


def read_table(path: str, opts: dict[str, Any]) -> Iterator[RawSample]:
    table = _table_file(Path(path))
    base = Path(opts.get("image_root") or table.parent).resolve()
    cols: dict[str, str] | None = None
    for lineno, row, error in _table_rows(table):
        origin = f"{table.name}:{lineno}"
        default_id = f"{table.stem}-{lineno:06d}"
        if row is None:
            yield RawSample(id=default_id, origin=origin, problem=("malformed_row", error or ""))
            continue
        if cols is None or table.suffix.lower() == ".jsonl":
            cols = _column_map(row)  # JSONL rows may differ in keys; other tables have one header
            if "image" not in cols:
                raise InputError(
                    f"{table}: no image column (looked for {', '.join(COLUMNS['image'])}; "
                    f"found {', '.join(row)})"
                )
        yield _row_sample(row, cols, base, origin, default_id)


# -- Hugging Face datasets --------------------------------------------------------------------


def _is_saved_dataset(path: Path) -> bool:
    return any((path / n).exists() for n in ("dataset_info.json", "state.json", "dataset_dict.json"))


def _offline_mode() -> bool:
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:
        return False


def _hub_reachable() -> str | None:
    """None when the hub's host resolves, else why not (a quick check before datasets' retries)."""
    from urllib.parse import urlparse

    if _offline_mode():
        return None  # datasets answers from the local cache, or fails fast itself
    try:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    except ImportError:
        endpoint = "https://huggingface.co"
    host = urlparse(endpoint).hostname or "huggingface.co"
    try:
        socket.getaddrinfo(host, 443)
    except OSError as exc:
        return f"cannot resolve {host}: {exc}"
    return None


def _load_hf(spec: str, opts: dict[str, Any]) -> tuple[Any, str, Path | None]:
    try:
        import datasets
    except ImportError:
        raise InputError("Hugging Face inputs need `datasets`: pip install 'seekworld[prepare]'") from None
    name, split = spec, opts.get("hf_split")
    if spec.startswith("hf:"):
        name = spec[3:]
        if ":" in name and not Path(name).exists():
            name, split = name.rsplit(":", 1)
    local = Path(name).expanduser()
    if local.exists():
        if _is_saved_dataset(local):
            data = datasets.load_from_disk(str(local))
        else:
            data = datasets.load_dataset(str(local))
        label, folder = local.name, local.resolve()
    else:
        folder = None
        why = _hub_reachable()
        hint = (
            "`hf:NAME` needs the Hugging Face hub. Download the dataset where the hub is reachable "
            "(datasets' save_to_disk, or its Parquet files) and pass that folder instead"
        )
        hint += (
            " (HF_HUB_OFFLINE is set and the local cache does not have it)."
            if _offline_mode()
            else "; if it is already in the local cache, set HF_HUB_OFFLINE=1."
        )
        if why:
            raise InputError(f"cannot load {name!r}: the hub is unreachable ({why}). {hint}")
        try:
            data = datasets.load_dataset(name, split=split) if split else datasets.load_dataset(name)
        except (ConnectionError, OSError) as exc:
            raise InputError(f"cannot load {name!r} from the hub: {exc}. {hint}") from None
        except ValueError as exc:  # an unknown split, a bad name
            raise InputError(f"cannot load {name!r}: {exc}") from None
        label = name.replace("/", "_")
    if isinstance(data, datasets.DatasetDict):
        if split:
            if split not in data:
                raise InputError(f"{name}: no split {split!r} (has {', '.join(data)})")
            data = data[split]
        elif len(data) == 1:
            data = next(iter(data.values()))
        else:
            raise InputError(f"{name} has splits {', '.join(data)}: choose one with hf:{name}:SPLIT")
    return data, label + (f"-{split}" if split else ""), folder


def read_hf(path: str, opts: dict[str, Any]) -> Iterator[RawSample]:
    import datasets

    data, label, folder = _load_hf(path, opts)
    image_cols = [n for n, f in data.features.items() if isinstance(f, datasets.Image)]
    for col in image_cols:
        data = data.cast_column(col, datasets.Image(decode=False))  # bytes; our workers decode
    names = list(data.column_names)
    cols = _column_map(names)
    if image_cols:
        cols["image"] = image_cols[0]
    if "image" not in cols:
        raise InputError(f"{path}: no image column (no datasets.Image feature; columns: {', '.join(names)})")
    base = Path(opts.get("image_root") or folder or ".").resolve()  # for image columns holding paths
    for i, row in enumerate(data):
        yield _row_sample(row, cols, base, f"{label}:{i}", f"{label}-{i:06d}")


# -- registry and detection -------------------------------------------------------------------

FORMATS.register("lmm-r1", Reader("lmm-r1", read_lmm_r1, "lmm-r1 JSONL (message/answer)"))
FORMATS.register("table", Reader("table", read_table, "CSV/TSV/JSONL/JSON/Parquet table + images"))
FORMATS.register("hf", Reader("hf", read_hf, "hf:NAME[:split], or a save_to_disk/Parquet folder"))


def detect_format(path: str) -> str:
    """The format of an input, from its name and first row. Raises InputError."""
    if path.startswith("hf:"):
        return "hf"
    p = Path(path)
    if not p.exists():
        raise InputError(f"input {path} does not exist")
    if p.is_dir():
        if any((p / n).exists() for n in _METADATA_NAMES):
            return "table"
        if _is_saved_dataset(p) or any(p.rglob("*.parquet")):
            return "hf"
        raise InputError(
            f"{path}: a folder needs metadata.csv/jsonl/parquet (table: a file_name and a label "
            "column, or country and region) or a datasets save_to_disk/Parquet layout (hf); images "
            "alone carry no labels"
        )
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        for _, row, _ in _jsonl_rows(p):
            if row is not None:
                return "lmm-r1" if "message" in row else "table"
        raise InputError(f"{path} has no JSON rows")
    if suffix in _TABLE_SUFFIXES:
        return "table"
    raise InputError(f"{path}: cannot tell the format from {suffix!r}; pass --input-format")


def check_input(path: str, fmt: str = "auto") -> None:
    """What can be told about a local input before anything is read or written: it exists, its
    format can be told (`fmt` "auto"), and a table folder has its table. Raises InputError."""
    if path.startswith("hf:"):
        return
    if fmt == "auto":
        detect_format(path)
    elif not Path(path).exists():
        raise InputError(f"input {path} does not exist")
    elif fmt == "table":
        _table_file(Path(path))


def read_input(path: str, fmt: str = "auto", **opts: Any) -> Iterator[RawSample]:
    """Samples of one input. `fmt` is a FORMATS name or "auto"."""
    if fmt == "auto":
        fmt = detect_format(path)
    elif not path.startswith("hf:") and not Path(path).exists():
        raise InputError(f"input {path} does not exist")
    return FORMATS.get(fmt).read(path, opts)
