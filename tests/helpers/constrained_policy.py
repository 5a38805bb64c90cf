"""A TEST STAND-IN FOR A POLICY'S FREEDOM: a logits processor that lets a tiny random model choose only
a few tokens of its assistant turn, so GRPO on CPU can move a behaviour in a few steps.

    policy = ChoiceTurn(tokenizer, "<think>", ["a", "."], 16, "</think><answer>$Spain,Galicia$</answer>")
    model.generate = partial(model.generate, logits_processor=LogitsProcessorList([policy]))

The turn is `prefix`, then `n` tokens the model picks among `choices` with its own probabilities
(the other tokens masked out), then `suffix` and `<|im_end|>`. Everything else is real: TRL samples,
scores with our reward function, computes log-probabilities with the model itself and updates it, so
what the model picks at those positions is learned from the reward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor

__all__ = ["ChoiceTurn"]


class ChoiceTurn(LogitsProcessor):
    def __init__(self, tokenizer: Any, prefix: str, choices: Sequence[str], n: int, suffix: str) -> None:
        def ids(text: str) -> list[int]:
            return tokenizer(text, add_special_tokens=False)["input_ids"]

        self.prefix, self.suffix, self.n = ids(prefix), ids(suffix), n
        self.choices = [tokenizer.convert_tokens_to_ids(c) for c in choices]
        if any(i is None or i == tokenizer.unk_token_id for i in self.choices):
            raise ValueError(f"each choice must be one token of the vocabulary: {choices}")
        self.im_start = tokenizer.convert_tokens_to_ids("<|im_start|>")
        self.im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.header = ids("assistant\n")

    def _done(self, row: list[int]) -> int:
        """Tokens of the current assistant turn already generated."""
        starts = [
            i
            for i, t in enumerate(row)
            if t == self.im_start and row[i + 1 : i + 1 + len(self.header)] == self.header
        ]
        return len(row) - (starts[-1] + 1 + len(self.header))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        out = torch.full_like(scores, float("-inf"))
        free_from, free_to = len(self.prefix), len(self.prefix) + self.n
        for b, row in enumerate(input_ids.tolist()):
            done = self._done(row)
            if free_from <= done < free_to:
                out[b, self.choices] = scores[b, self.choices]  # the model's own preference
                continue
            rest = self.prefix if done < free_from else self.suffix
            at = done if done < free_from else done - free_to
            out[b, rest[at] if at < len(rest) else self.im_end] = 0.0
        return out
