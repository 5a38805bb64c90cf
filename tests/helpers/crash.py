"""A stand-in for prepare's image task that stops a run mid-way (tests of resuming).

Used through monkeypatching `seekworld.prepare.pipeline.run_task` with
`functools.partial(crash_on, NAME)`: a module-level function, so spawned pool workers can
unpickle it (the production image path has no test hook)."""

from __future__ import annotations

import os

from seekworld.prepare.images import run_task


def crash_on(target: str, source, cfg, *, hard: bool = False):
    """`run_task`, except on the file named `target`: KeyboardInterrupt (Ctrl-C), or with
    `hard` the process dies outright (a worker OOM-killed)."""
    if isinstance(source, str) and os.path.basename(source) == target:
        if hard:
            os._exit(3)
        raise KeyboardInterrupt(f"stand-in crash on {target}")
    return run_task(source, cfg)
