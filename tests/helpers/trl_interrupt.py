"""`seekworld train` (TRL backend) that is killed at a chosen point, for the resume tests. Run as a
script in a subprocess:

    python tests/helpers/trl_interrupt.py MODE STEP train --config ... --set ...

MODE:
    after-save   the process dies (os._exit, no cleanup) right after checkpoint-STEP is written
    mid-save     the process dies while checkpoint-STEP is being written: weights saved, the
                 optimizer, RNG and trainer state not yet
    none         no interruption

The production trainer has no test hook: this patches `ResumableGRPOTrainer` before the CLI runs.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from transformers import TrainerCallback

from seekworld.cli.main import main
from seekworld.integrations.trl import checkpoints

EXIT_KILLED = 9


class _DieAfterSave(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if state.global_step == self.step:
            os._exit(EXIT_KILLED)


def _install(mode: str, step: int) -> None:
    trainer = checkpoints.ResumableGRPOTrainer
    if mode == "after-save":
        init = trainer.__init__

        def with_callback(self, *args: Any, **kwargs: Any) -> None:
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _DieAfterSave(step)]
            init(self, *args, **kwargs)

        trainer.__init__ = with_callback
    elif mode == "mid-save":
        save = trainer._save_optimizer_and_scheduler

        def interrupted(self, output_dir: str) -> None:
            if self.state.global_step == step:
                os._exit(EXIT_KILLED)
            return save(self, output_dir)

        trainer._save_optimizer_and_scheduler = interrupted
    elif mode != "none":
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    _install(sys.argv[1], int(sys.argv[2]))
    sys.exit(main(sys.argv[3:]))
