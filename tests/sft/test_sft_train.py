"""`seekworld sft`: TRL SFTTrainer steps on the tiny Qwen2.5-VL on CPU, the config, the CLI."""

import json
import math

import pytest
from helpers.zoom import prepare_rows

from seekworld.sft.config import SFTConfigError, load_sft_config


def _write(tmp_path, rows):
    path = tmp_path / "sft.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.slow
def test_trl_sft_steps_on_cpu(tiny_qwen, tmp_path):
    pytest.importorskip("trl")
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from seekworld.integrations.trl.sft import run_sft

    data = _write(tmp_path, prepare_rows(tmp_path / "prep"))
    out = tmp_path / "ckpt"
    config = load_sft_config(
        None,
        [
            f"model.path={tiny_qwen.path}",
            "model.dtype=float32",
            f"data.train={data}",
            f"train.output_dir={out}",
            "train.max_steps=4",
            "train.gradient_accumulation_steps=1",
            "train.learning_rate=1e-3",
            "train.lr_scheduler_type=constant",
            "train.warmup_steps=0",
            "train.gradient_checkpointing=false",
            "train.dataloader_num_workers=0",
        ],
    )
    summary = run_sft(config)
    losses = summary["losses"]
    assert summary["steps"] == 4 and len(losses) == 4
    assert all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0]  # one sample, four steps: it is learning
    # The output is a valid MODEL for the zoom RL script: model and processor load back.
    AutoModelForImageTextToText.from_pretrained(out)
    processor = AutoProcessor.from_pretrained(out)
    assert processor.chat_template


def test_freeze_vision_keeps_the_language_model_trainable(tiny_qwen):
    from seekworld.integrations.trl.sft import freeze_vision

    trainable, frozen = freeze_vision(tiny_qwen.model)
    try:
        assert trainable > 0 and frozen > 0
        for name, p in tiny_qwen.model.named_parameters():
            assert p.requires_grad == ("language_model" in name or "lm_head" in name)
    finally:
        for p in tiny_qwen.model.parameters():
            p.requires_grad_(True)


def test_config_errors_name_the_key(tmp_path):
    with pytest.raises(SFTConfigError, match=r"Did you mean: train\.learning_rate"):
        load_sft_config(None, ["train.learning_rat=1"])
    with pytest.raises(SFTConfigError, match=r"train\.max_steps must be an integer"):
        load_sft_config(None, ["train.max_steps=many"])
    bad = tmp_path / "c.toml"
    bad.write_text("[model]\ndtype = 'int8'\n")
    with pytest.raises(SFTConfigError, match=r"model\.dtype"):
        load_sft_config(bad)


def test_cli_dry_run_checks_the_data(tmp_path, capsys):
    from seekworld.cli.main import main

    rows = prepare_rows(tmp_path / "prep")
    data = _write(tmp_path, rows)
    assert main(["sft", "--dry-run", "--set", f"data.train={data}"]) == 0
    assert "1 rows ok" in capsys.readouterr().out
    broken = _write(tmp_path / "b", [dict(rows[0], images=rows[0]["images"][:2])])  # a crop missing
    assert main(["sft", "--dry-run", "--set", f"data.train={broken}"]) == 2
    assert "2 images for 1 photo + 2 crops" in capsys.readouterr().err
