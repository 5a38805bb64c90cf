"""The lmm-r1 sample rows and the query lmm-r1 decodes for one of them (the lmm-r1 serving tests)."""

from __future__ import annotations

import json
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "seekworld_data" / "sample" / "lmm_r1.jsonl"
ROWS = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
MOSCOW = next(r for r in ROWS if r["id"] == "ru-moscow")
ATTICA = next(r for r in ROWS if r["id"] == "gr-attica")
REASONING = "Signs in Cyrillic, onion domes."


def query(message: str, answer: str) -> str:
    """What lmm-r1 decodes: the chat-templated prompt, then the response and its end token."""
    user = json.loads(message)[0]["content"][1]["text"]
    return (
        f"<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>{user}<|im_end|>\n"
        f"<|im_start|>assistant\n<think>{REASONING}</think>"
        f"<answer>{answer}</answer><|im_end|>"
    )
