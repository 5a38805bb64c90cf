"""transformers log messages a seekworld user cannot act on, kept out of training's output.

One entry per message, with why nobody can act on it. Only messages that start with the given text,
from the given logger, are dropped; everything else those loggers say still shows.
"""

from __future__ import annotations

import logging

__all__ = ["UNACTIONABLE", "quiet_unactionable"]

UNACTIONABLE: tuple[tuple[str, str], ...] = (
    # Trainer.__init__ copies the tokenizer's PAD/BOS/EOS ids into the model's config, then warns.
    # Qwen2.5-VL's tokenizer has no BOS while its config names one, so every run warns; the
    # alignment is what training needs, and there is nothing to change.
    ("transformers.trainer_utils", "The tokenizer has new PAD/BOS/EOS tokens"),
)


class _DropStarting(logging.Filter):
    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.start)


def quiet_unactionable() -> None:
    """Drop the UNACTIONABLE messages from now on, in this process (calling it again adds nothing)."""
    for name, start in UNACTIONABLE:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropStarting) and f.start == start for f in logger.filters):
            logger.addFilter(_DropStarting(start))
