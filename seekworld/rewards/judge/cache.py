"""The judge's verdict cache: the last `size` verdicts by the hash of the exact judge input, so a
sample that upstream retries costs no second call. Thread-safe; failures are never cached."""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = ["VerdictCache"]


class VerdictCache:
    """Least recently used first out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> float | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: str, value: float) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
