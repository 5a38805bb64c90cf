"""The tiny offline Qwen2.5-VL for tests: the builder lives in the package (`seekworld.train.tiny_qwen`,
also reachable as `seekworld train --write-tiny-model DIR` and `model.path = "tiny-random"`)."""

from seekworld.train.tiny_qwen import (
    CHAT_TEMPLATE,
    SPECIAL_TOKENS,
    TinyQwen,
    build_tiny_qwen,
    build_tokenizer,
    count_image_pads,
)

__all__ = [
    "CHAT_TEMPLATE",
    "SPECIAL_TOKENS",
    "TinyQwen",
    "build_tiny_qwen",
    "build_tokenizer",
    "count_image_pads",
]
