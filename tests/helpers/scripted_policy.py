"""A TEST STAND-IN FOR A TRAINED POLICY: a logits processor that makes `model.generate` write scripted
assistant turns, token by token, so a tiny random model calls the zoom tool deterministically.

    script = ScriptedTurns(processor.tokenizer, [tool_call_turn(...), answer_turn(...)])
    model.generate = partial(model.generate, logits_processor=LogitsProcessorList([script]))

At each step it finds the current assistant turn in the row (the tokens after the last
`<|im_start|>assistant\\n`), counts the assistant turns before it (turn k of the episode) and allows
only the next token of script[k] (then `<|im_end|>`). Everything else is the real code path: TRL
parses the call, runs the tool, re-tokenises the crop and generates the next turn with it. It also
records, per turn, what the model was given (`seen`): image-pad and vision-start counts, so a test
can check that the crop's image tokens reached the next turn.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor

__all__ = ["ScriptedTurns", "tool_call_turn"]


def tool_call_turn(think: str, box: Sequence[float] | str, name: str = "zoom") -> str:
    """An assistant turn that calls the zoom tool in the shipped template's format."""
    call = {"name": name, "arguments": {"box": box}}
    return f"<think>{think}</think>\n<tool_call>\n{json.dumps(call)}\n</tool_call>"


class ScriptedTurns(LogitsProcessor):
    def __init__(self, tokenizer: Any, turns: Sequence[str | Sequence[str]]) -> None:
        # A turn given as several texts: row b of a generate call writes text b % len(texts) (TRL
        # puts a prompt's samples next to each other, so samples of one group can differ).
        def ids(text: str) -> list[int]:
            return tokenizer(text, add_special_tokens=False)["input_ids"]

        self.turns = [[ids(t)] if isinstance(t, str) else [ids(x) for x in t] for t in turns]
        self.im_start = tokenizer.convert_tokens_to_ids("<|im_start|>")
        self.im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
        self.image_pad = tokenizer.convert_tokens_to_ids("<|image_pad|>")
        self.vision_start = tokenizer.convert_tokens_to_ids("<|vision_start|>")
        self.header = tokenizer("assistant\n", add_special_tokens=False)["input_ids"]
        self.seen: dict[int, list[dict[str, int]]] = {}  # turn -> what the rows held when it started

    def _turn(self, row: list[int]) -> tuple[int, int]:
        """(index of the current assistant turn, tokens already generated in it)."""
        starts = [
            i
            for i, t in enumerate(row)
            if t == self.im_start and row[i + 1 : i + 1 + len(self.header)] == self.header
        ]
        return len(starts) - 1, len(row) - (starts[-1] + 1 + len(self.header))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        forced = torch.full_like(scores, float("-inf"))
        for b, row in enumerate(input_ids.tolist()):
            turn, done = self._turn(row)
            options = self.turns[min(turn, len(self.turns) - 1)]
            script = options[b % len(options)]
            token = script[done] if done < len(script) else self.im_end
            if done == 0:
                self.seen.setdefault(turn, []).append(
                    {"image_pads": row.count(self.image_pad), "images": row.count(self.vision_start)}
                )
            forced[b, token] = 0.0
        return forced
