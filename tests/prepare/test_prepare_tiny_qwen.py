"""The shared tiny offline Qwen2.5-VL (tests/helpers/tiny_qwen.py) loads back and runs on CPU."""

from __future__ import annotations

import pytest
from helpers.tiny_qwen import count_image_pads
from PIL import Image

pytestmark = pytest.mark.slow


def test_tiny_qwen_round_trip_and_forward(tiny_qwen):
    import torch
    from openrlhf.utils.vlm_utils import process_prompt_with_images
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_qwen.path)
    model = AutoModelForImageTextToText.from_pretrained(tiny_qwen.path)
    assert hasattr(model.config, "vision_config")  # what upstream's is_vlm check looks for
    chat = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]}]
    prompt = processor.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    ids, mm, _ = process_prompt_with_images(processor, prompt, [Image.new("RGB", (640, 480))])
    assert count_image_pads(processor, ids) == 391  # the notes' measurement for 640×480
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids]), **mm).logits
    assert logits.shape == (1, len(ids), len(processor.tokenizer))
