"""JSONL reading and writing, and atomic file replacement: one copy of each for the package."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "dump_jsonl", "iter_jsonl", "json_error", "jsonl_line", "write_jsonl"]


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half of it.

    The temporary name is unique (PID and a random suffix): two processes writing the same file
    never clash, and a crash leaves no half-written file under the final name."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def jsonl_line(obj: Any) -> str:
    """One JSONL line (with its newline); non-ASCII text kept as is."""
    return json.dumps(obj, ensure_ascii=False) + "\n"


def dump_jsonl(objs: Iterable[Any]) -> str:
    """JSONL text for `objs` (empty string for none)."""
    return "".join(jsonl_line(o) for o in objs)


def write_jsonl(path: str | Path, objs: Iterable[Any]) -> None:
    """Write `objs` as a JSONL file, atomically."""
    atomic_write(path, dump_jsonl(objs))


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """(line number, decoded JSON — or the ValueError saying why not) for each non-blank line.

    The error is yielded rather than raised so each caller keeps its own policy (reject the line
    and go on, or stop with file:line)."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except ValueError as exc:
                yield lineno, exc


def json_error(exc: ValueError) -> str:
    """Why a line is not JSON, in the words every reader uses."""
    if isinstance(exc, json.JSONDecodeError):
        return f"line is not JSON: {exc.msg} at char {exc.pos}"
    return f"line is not JSON: {exc}"
