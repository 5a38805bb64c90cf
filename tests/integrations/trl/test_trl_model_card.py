"""The model card seekworld writes over TRL's: the base model and the data named, hub ids linked."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("transformers")
pytest.importorskip("huggingface_hub")

from huggingface_hub import ModelCard

from seekworld.integrations.trl.model_card import CardFacts, ModelCardWriter, model_card

FACTS = CardFacts(
    name="qwen-geo", base_model="Qwen/Qwen2.5-VL-3B-Instruct", data="data/sw/train.jsonl", rows=8412,
    variant="rule+length", steps=120,
)  # fmt: skip


def test_a_hub_base_model_is_linked_and_in_the_metadata():
    card = ModelCard(model_card(FACTS))  # parses as a Hugging Face card
    assert card.data.base_model == "Qwen/Qwen2.5-VL-3B-Instruct"
    assert card.data.pipeline_tag == "image-text-to-text"
    hub = "https://huggingface.co/Qwen/Qwen2.5-VL-3B-Instruct"
    assert f"Base model: [Qwen/Qwen2.5-VL-3B-Instruct]({hub})." in card.text
    assert "| data | `data/sw/train.jsonl` (8412 prompt rows" in card.text and "| steps | 120 |" in card.text


def test_a_local_base_model_is_named_not_linked(tmp_path):
    local = tmp_path / "my-model"
    local.mkdir()
    card = ModelCard(model_card(CardFacts(**{**FACTS.__dict__, "base_model": str(local)})))
    assert card.data.base_model is None  # the hub would reject a path
    assert f"Base model: the local model `{local}`." in card.text and "huggingface.co/" not in card.text


def test_the_writer_overwrites_after_each_save_with_the_step(tmp_path):
    (tmp_path / "README.md").write_text(
        "This model is a fine-tuned version of [None](https://huggingface.co/None)."
    )
    writer = ModelCardWriter(tmp_path, FACTS)
    writer.on_save(None, SimpleNamespace(is_world_process_zero=True, global_step=7), None)
    text = (tmp_path / "README.md").read_text()
    assert "[None]" not in text and "| steps | 7 |" in text
    writer.on_train_end(None, SimpleNamespace(is_world_process_zero=False, global_step=9), None)
    assert "| steps | 7 |" in (tmp_path / "README.md").read_text()  # only the main process writes
