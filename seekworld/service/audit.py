"""Audit log: one JSON line per scored sample, safe with several gunicorn workers.

Each process writes its own files, `audit-<start time>-<pid>-<seq>.jsonl`, so workers never share
a file and a restarted worker (even with a recycled pid) starts a new one. A batch's lines go out
in one `os.write` per file on an O_APPEND descriptor before the HTTP answer is sent: once a sample is
answered its line is in the kernel, and a crash or restart of the server loses nothing already
answered. Files roll over to the next sequence number at `max_bytes`, mid-batch if need be (no file grows
past it unless one line alone is larger); nothing is deleted.

A failed write (a full disk) leaves no partial line: the file is cut back to its last whole line
(or, if that fails too, the next write starts a new file). The first failure of a burst is logged
once at WARNING, and the first write that succeeds again says how many writes and samples were
lost; callers count each failure. Lines are strict JSON: a number that is not finite (`NaN`,
`Infinity`, which Python's json would write bare) is written as `null`.
Standard library only (the in-process reward files use it too).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["AuditLog", "json_line"]

log = logging.getLogger(__name__)

_MAX_DEPTH = 64  # deeper values (a label nested this deep) are written as a placeholder


def json_line(record: Mapping[str, Any]) -> bytes:
    """One record as a line of strict JSON (non-finite numbers as null; other types as text)."""
    try:
        text = json.dumps(record, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:  # a NaN or an infinity somewhere (rare): rebuild the record without them
        text = json.dumps(_finite(record, 0), ensure_ascii=False, default=str, allow_nan=False)
    return (text + "\n").encode("utf-8", "replace")


def _finite(value: Any, depth: int) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth >= _MAX_DEPTH:
        return "<nested too deeply>"
    if isinstance(value, Mapping):
        return {str(k): _finite(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, depth + 1) for v in value]
    return value


class AuditLog:
    def __init__(self, directory: str, max_bytes: int, fsync: bool = False) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be > 0")
        self.directory = directory
        self.max_bytes = max_bytes
        self.fsync = fsync  # also survive a power cut, at a cost per batch
        os.makedirs(directory, exist_ok=True)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = -1
        self._size = 0
        self._seq = 0
        self._stamp = ""
        self._torn = False  # a failed write could not be cut back: the next write starts a new file
        self._failed_writes = 0  # since the last write that succeeded
        self._lost = 0  # records those writes held
        self.path: str | None = None

    def _open(self) -> int:
        pid = os.getpid()
        if self._fd is not None and self._pid == pid and self._size < self.max_bytes and not self._torn:
            return self._fd
        if self._fd is not None and self._pid == pid:
            os.close(self._fd)
            self._fd, self._torn = None, False
            self._seq += 1
        else:  # first use, or inherited through fork: never write into the parent's file
            self._pid, self._seq = pid, 0
            self._stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self.path = os.path.join(self.directory, f"audit-{self._stamp}-{pid}-{self._seq:04d}.jsonl")
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._size = os.fstat(self._fd).st_size
        return self._fd

    def write(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records as JSON lines. Raises OSError; callers count it.

        A batch goes out in as few writes as the size limit allows: lines are grouped so no file
        grows past `max_bytes` (a single line larger than the limit gets a file of its own)."""
        lines = [json_line(r) for r in records]
        if not lines:
            return
        with self._lock:
            try:
                self._write_lines(lines)
            except OSError as exc:
                self._failed(exc, len(lines))
                raise
            if self._failed_writes:
                log.warning(
                    "audit log writes again, to %s, after %d failed writes (%d samples not logged)",
                    self.path,
                    self._failed_writes,
                    self._lost,
                )
                self._failed_writes = self._lost = 0

    def _failed(self, exc: OSError, records: int) -> None:
        if not self._failed_writes:
            log.warning(
                "audit log write failed (%s): %d samples not logged; later failures are counted, "
                "and logged once writes succeed again",
                exc,
                records,
            )
        self._failed_writes += 1
        self._lost += records

    def _write_lines(self, lines: list[bytes]) -> None:
        start = 0
        while start < len(lines):
            fd = self._open()
            room = self.max_bytes - self._size
            end, size = start, 0
            while end < len(lines) and (size + len(lines[end]) <= room or (end == start and self._size == 0)):
                size += len(lines[end])
                end += 1
            if end == start:  # this file is full: roll over and try again
                self._size = self.max_bytes
                continue
            self._write_whole(fd, b"".join(lines[start:end]))
            start = end

    def _write_whole(self, fd: int, payload: bytes) -> None:
        """All of `payload` or none of it: a write that fails part way (a full disk) is cut off."""
        try:
            written = 0
            while written < len(payload):  # a regular file takes it in one call; loop for safety
                written += os.write(fd, payload[written:])
            if self.fsync:
                os.fsync(fd)
        except OSError:
            try:
                os.ftruncate(fd, self._size)
            except OSError:
                self._torn = True
            raise
        self._size += len(payload)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
