"""A memo for pure functions of strings, bounded by bytes instead of entries.

`functools.lru_cache(maxsize=N)` bounds the number of entries, so N distinct 1 MB inputs hold N MB.
Here the total size of the cached keys and values is bounded, inputs longer than `max_key_chars`
are never cached (they are computed and forgotten), and the oldest entries go first when the
budget is exceeded. Reads take no lock (dict reads are atomic under the GIL); inserts do.

    @byte_bounded_cache(max_bytes=16 << 20, max_key_chars=256)
    def normalize(text: str) -> str: ...
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar

__all__ = ["byte_bounded_cache", "size_of"]

T = TypeVar("T")

# Per-entry overhead of a dict slot plus the tuple key, roughly (CPython 3.11-3.13).
_ENTRY_OVERHEAD = 120
_getsizeof = sys.getsizeof


def size_of(value: Any) -> int:
    """Bytes a cached value holds: exact for strings, a shallow estimate for other objects."""
    if isinstance(value, str):
        return sys.getsizeof(value)
    if isinstance(value, (tuple, frozenset, list)):
        return sys.getsizeof(value) + sum(size_of(v) for v in value)
    slots = getattr(value, "__dict__", None)
    if slots is not None:
        return sys.getsizeof(value) + sum(size_of(v) for v in slots.values())
    return sys.getsizeof(value)


def _key_chars(args: tuple) -> int:
    first = args[0]
    if isinstance(first, str):
        return len(first)
    return sum(len(x) if isinstance(x, str) else len(str(x)) for x in first)


def byte_bounded_cache(
    max_bytes: int, max_key_chars: int, value_size: Callable[[Any], int] = size_of
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Memoise `fn(text, *shared)`; `text` is a string or a tuple of strings, and its size (with the
    value's) is what the budget counts; `shared` are long-lived objects such as the gazetteer."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        # OrderedDict: evicting the oldest is O(1); `next(iter(dict))` after many deletions from the
        # front walks the holes they leave, so a full cache made every insert slower.
        store: OrderedDict[tuple, tuple[T, int]] = OrderedDict()  # args -> (value, its cost)
        get, setdefault, popitem = store.get, store.setdefault, store.popitem
        lock = threading.Lock()
        total = misses = 0

        def wrapper(*args: Any) -> T:
            nonlocal total, misses
            # A hit is one lookup; a miss raises nothing (exceptions cost more than the lookup).
            try:
                hit = get(args)
            except TypeError:  # unhashable: compute
                return fn(*args)
            if hit is not None:
                return hit[0]
            value = fn(*args)
            first = args[0]
            if first.__class__ is str:
                if len(first) > max_key_chars:
                    return value
                cost = _ENTRY_OVERHEAD + _getsizeof(first) + value_size(value)
            else:
                if _key_chars(args) > max_key_chars:
                    return value
                cost = _ENTRY_OVERHEAD + size_of(first) + value_size(value)
            entry = (value, cost)
            with lock:
                misses += 1
                if setdefault(args, entry) is entry:  # not stored meanwhile by another thread
                    total += cost
                    while total > max_bytes and store:
                        total -= popitem(last=False)[1][1]
            return value

        def cache_clear() -> None:
            nonlocal total, misses
            with lock:
                store.clear()
                total = misses = 0

        def cache_info() -> dict[str, int]:
            return {"entries": len(store), "max_bytes": max_bytes, "bytes": total, "misses": misses}

        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        wrapper.cache_info = cache_info  # type: ignore[attr-defined]
        return update_wrapper(wrapper, fn)

    return decorate
