"""The one progress-bar style: tqdm on stderr, off with `--no-progress`."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress"]


def progress(
    total: int | None, desc: str, *, unit: str = "sample", enabled: bool = True, initial: int = 0
) -> Any:
    """A tqdm bar on stderr (a context manager with `update`, `set_postfix`)."""
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=f" {unit}s" if unit else "it",
                disable=not enabled, file=sys.stderr, dynamic_ncols=True)  # fmt: skip
