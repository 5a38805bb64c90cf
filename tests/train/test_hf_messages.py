"""transformers' PAD/BOS/EOS warning is dropped from training's output; its other messages stay.

The warning comes from transformers' own `align_special_tokens` (what Trainer.__init__ calls), fed
a model config that disagrees with its tokenizer the way Qwen2.5-VL's does (a BOS id in the config,
none in the tokenizer)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from seekworld.train.hf_messages import UNACTIONABLE, quiet_unactionable

transformers_trainer_utils = pytest.importorskip("transformers.trainer_utils")


@pytest.fixture
def records():
    """What transformers' trainer_utils logger lets through, from a clean start: an in-process
    `seekworld train` earlier in this process may have filtered it, another test lowered its level."""
    logger = logging.getLogger("transformers.trainer_utils")
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append
    filters, level = list(logger.filters), logger.level
    logger.filters[:] = []
    logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)
    logger.filters[:] = filters  # this process's other tests see transformers as it was
    logger.setLevel(level)


def _align() -> SimpleNamespace:
    model = SimpleNamespace(
        config=SimpleNamespace(eos_token_id=151645, bos_token_id=151643, pad_token_id=151643),
        generation_config=None,
    )
    tokenizer = SimpleNamespace(eos_token_id=151645, bos_token_id=None, pad_token_id=151643)
    transformers_trainer_utils.align_special_tokens(model, tokenizer)
    return model


def test_transformers_warns_without_the_filter(records):
    _align()
    assert [r.getMessage().startswith(UNACTIONABLE[0][1]) for r in records] == [True]


def test_the_warning_is_dropped_and_the_alignment_still_happens(records):
    quiet_unactionable()
    quiet_unactionable()  # twice: one filter
    assert len(logging.getLogger("transformers.trainer_utils").filters) == 1
    model = _align()
    assert model.config.bos_token_id is None  # transformers aligned the config, as it must
    logging.getLogger("transformers.trainer_utils").warning("another message")
    assert [r.getMessage() for r in records] == ["another message"]
