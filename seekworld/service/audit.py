"""Audit log: one JSON line per scored sample, safe with several gunicorn workers.

Each process writes its own files, `audit-<start time>-<pid>-<seq>.jsonl`, so workers never share
a file and a restarted worker (even with a recycled pid) starts a new one. A batch's lines go out
in one `os.write` per file on an O_APPEND descriptor before the HTTP answer is sent: once a sample is
answered its line is in the kernel, and a crash or restart of the server loses nothing already
answered. Files roll over to the next sequence number at `max_bytes`, mid-batch if need be (no file grows
past it unless one line alone is larger); nothing is deleted.
Standard library only (the in-process reward files use it too).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["AuditLog"]

log = logging.getLogger(__name__)


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
        self.path: str | None = None

    def _open(self) -> int:
        pid = os.getpid()
        if self._fd is not None and self._pid == pid and self._size < self.max_bytes:
            return self._fd
        if self._fd is not None and self._pid == pid:
            os.close(self._fd)
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
        lines = [
            (json.dumps(r, ensure_ascii=False, default=str) + "\n").encode("utf-8", "replace")
            for r in records
        ]
        if not lines:
            return
        with self._lock:
            start = 0
            while start < len(lines):
                fd = self._open()
                room = self.max_bytes - self._size
                end, size = start, 0
                while end < len(lines) and (
                    size + len(lines[end]) <= room or (end == start and self._size == 0)
                ):
                    size += len(lines[end])
                    end += 1
                if end == start:  # this file is full: roll over and try again
                    self._size = self.max_bytes
                    continue
                payload = b"".join(lines[start:end])
                written = 0
                while written < len(payload):  # a regular file takes it in one call; loop for safety
                    written += os.write(fd, payload[written:])
                self._size += len(payload)
                if self.fsync:
                    os.fsync(fd)
                start = end

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
