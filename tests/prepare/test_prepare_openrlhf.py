"""The output loads in upstream OpenRLHF 0.11.2 as-is, and its image-token counts are the reported ones.

Upstream's own code does the loading: `blending_datasets` (what `--data.prompt_dataset` goes
through), `PromptDataset` with `--data.input_key prompt --data.label_key label --data.image_key
images --data.apply_chat_template`, and `process_prompt_with_images` with a tiny offline Qwen2.5-VL
processor (tests/helpers/tiny_qwen.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers.prepare_data import read_rows, run
from helpers.tiny_qwen import count_image_pads

from seekworld.geo.label import parse_label

pytestmark = pytest.mark.slow

BUDGET = 64  # tokens: the 480×360 sample pictures (221 tokens) must be scaled down


def _strategy_standin():
    """Stands in for upstream's DeepspeedStrategy: only what the dataset code reads (CPU, rank 0)."""
    data = SimpleNamespace(
        input_key="prompt", label_key="label", image_key="images", apply_chat_template=True
    )
    return SimpleNamespace(
        args=SimpleNamespace(data=data, use_ms=False), is_rank_0=lambda: True, print=lambda *a, **k: None
    )


@pytest.mark.parametrize("source", ["lmm_r1.jsonl", "table.csv"])
def test_upstream_prompt_dataset_and_processor(source, sample_dir, tmp_path, tiny_qwen_processor_dir):
    from openrlhf.datasets import PromptDataset
    from openrlhf.datasets.utils import blending_datasets
    from openrlhf.utils.vlm_utils import process_prompt_with_images
    from transformers import AutoProcessor

    out = tmp_path / "out"
    run(sample_dir / source, out, max_pixels=BUDGET * 28 * 28)
    path = out / "train.jsonl"
    rows = read_rows(path)
    manifest = json.loads((out / ".prepare" / "train.json").read_text())
    tokens_by_id = {s["id"]: s["tokens"] for s in manifest["samples"]}

    processor = AutoProcessor.from_pretrained(tiny_qwen_processor_dir)  # Qwen's default pixel range
    strategy = _strategy_standin()
    data = blending_datasets(str(path), None, strategy, dataset_split="train")
    dataset = PromptDataset(data, processor, strategy)
    assert len(dataset) == len(rows) == 29

    pad = "<|vision_start|><|image_pad|><|vision_end|>"
    for i, row in enumerate(rows):
        datasource, prompt, label, images = dataset[i]
        assert datasource == row["datasource"] and label == row["label"] and images == row["images"]
        assert prompt.count(pad) == 1 and prompt.endswith("<|im_start|>assistant\n")
        assert prompt.startswith("<|im_start|>system\nYou are an expert in photo geolocation.")
        token_ids, mm, pil_images = process_prompt_with_images(processor, prompt, images)
        n = count_image_pads(processor, token_ids)
        grid = mm["image_grid_thw"]
        assert n == int(grid.prod()) // 4  # 2×2 merge
        assert [n] == tokens_by_id[row["id"]] and 4 <= n <= BUDGET
        w, h = pil_images[0].size
        assert n == (w // 28) * (h // 28)  # the processor kept the stored size
        gold = parse_label(label)
        assert gold.country_id and gold.place_id
        if source == "table.csv":
            assert gold.image == images[0] and Path(gold.image).exists()
