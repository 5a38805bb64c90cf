"""`run_sft(config)`: cold-start SFT of a VLM on prepared clue-tracking traces with TRL's SFTTrainer.

Upstream OpenRLHF's `train_sft` has no image support, so SFT runs on TRL (vision-language models,
multi-GPU through accelerate / DeepSpeed). The data collator is ours (`seekworld.sft.data`): TRL's
own vision collator cannot mask everything but the assistant turns with transformers < 5.18, and
ours tokenises the transcript exactly as the zoom agent does at RL time.

The output folder holds the model and its processor (`save_pretrained`), loadable by
`AutoModelForImageTextToText` / `AutoProcessor`: a valid MODEL for the zoom RL script.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from seekworld.sft.config import SFTRunConfig
from seekworld.sft.data import SFTDataError, ZoomSFTCollator, load_rows, row_zoom_config
from seekworld.zoom.protocol import TranscriptError, transcript_segments

__all__ = ["check_rows", "freeze_vision", "run_sft"]

log = logging.getLogger(__name__)

# Columns handed to the collator (the rest of a prepared row is for people and RL).
_COLUMNS = ("id", "prompt", "images", "turns", "zoom")


def check_rows(rows: list[dict[str, Any]], where: str) -> None:
    """Every row's transcript replays and its images exist (cheap: no pixels). Raises SFTDataError."""
    problems = []
    for row in rows:
        try:
            segments = transcript_segments(row["turns"], row_zoom_config(row))
        except (TranscriptError, ValueError) as exc:
            problems.append(f"{row.get('id')}: {exc}")
            continue
        crops = sum(s.n_images for s in segments)
        if len(row["images"]) != 1 + crops:
            problems.append(f"{row.get('id')}: {len(row['images'])} images for 1 photo + {crops} crops")
        missing = [p for p in row["images"] if not Path(p).exists()]
        if missing:
            problems.append(f"{row.get('id')}: missing image {missing[0]}")
    if problems:
        shown = "\n".join(problems[:5]) + (f"\n... and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise SFTDataError(f"{where}: {len(problems)} unusable row(s):\n{shown}")


def freeze_vision(model: Any) -> tuple[int, int]:
    """Freeze every parameter outside the language model and lm_head (upstream's rule for
    `--actor.freeze_visual_encoder`). Returns (trainable, frozen) parameter counts."""
    trainable = frozen = 0
    for name, param in model.named_parameters():
        keep = "language_model" in name or "lm_head" in name
        param.requires_grad_(keep)
        if keep:
            trainable += param.numel()
        else:
            frozen += param.numel()
    if trainable == 0:
        raise ValueError("freeze_vision found no language_model/lm_head parameters to train")
    return trainable, frozen


def _dataset(path: str) -> Any:
    import datasets

    rows = load_rows(path)
    if not rows:
        raise SFTDataError(f"{path}: no rows")
    check_rows(rows, path)
    return datasets.Dataset.from_list([{k: row.get(k) for k in _COLUMNS} for row in rows])


def run_sft(config: SFTRunConfig) -> dict[str, Any]:
    """Train, save model + processor to `train.output_dir`, return a summary (losses, steps)."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from trl import SFTConfig, SFTTrainer

    model_path = config["model.path"]
    processor = AutoProcessor.from_pretrained(model_path)
    dtype = config["model.dtype"]
    model = AutoModelForImageTextToText.from_pretrained(
        model_path,
        dtype=dtype if dtype == "auto" else getattr(torch, dtype),
        attn_implementation=config["model.attn_implementation"],
    )
    if config["model.freeze_vision"]:
        trainable, frozen = freeze_vision(model)
        log.info("vision frozen: %d trainable, %d frozen parameters", trainable, frozen)

    train = _dataset(config["data.train"])
    evaluation = _dataset(config["data.eval"]) if config["data.eval"] else None
    tool_call = config["data.tool_call"]
    if tool_call:  # the checkpoint carries the template the TRL zoom run uses
        from seekworld.integrations.trl.zoom import apply_tool_template

        apply_tool_template(processor)
    collator = ZoomSFTCollator(processor, max_length=config["data.max_length"], tool_call=tool_call)
    collator([train[0]])  # fail here, with the row's message, not inside the first step

    t = config.section("train")
    gpu = torch.cuda.is_available()
    args = SFTConfig(
        output_dir=t["output_dir"],
        num_train_epochs=t["num_train_epochs"],
        max_steps=t["max_steps"],
        per_device_train_batch_size=t["per_device_train_batch_size"],
        per_device_eval_batch_size=t["per_device_train_batch_size"],
        gradient_accumulation_steps=t["gradient_accumulation_steps"],
        learning_rate=t["learning_rate"],
        lr_scheduler_type=t["lr_scheduler_type"],
        warmup_steps=t["warmup_steps"],
        weight_decay=t["weight_decay"],
        max_grad_norm=t["max_grad_norm"],
        gradient_checkpointing=t["gradient_checkpointing"],
        gradient_checkpointing_kwargs={"use_reentrant": False},
        bf16=bool(t["bf16"] and gpu),
        use_cpu=not gpu,
        seed=t["seed"],
        logging_steps=t["logging_steps"],
        save_strategy="steps" if t["save_steps"] > 0 else "no",
        save_steps=t["save_steps"] if t["save_steps"] > 0 else 500,
        save_total_limit=t["save_total_limit"],
        eval_strategy="epoch" if evaluation is not None else "no",
        report_to=[] if t["report_to"] in ("", "none") else [t["report_to"]],
        deepspeed=t["deepspeed"] or None,
        dataloader_num_workers=t["dataloader_num_workers"],
        # Our collator does the tokenising and masking; TRL must hand it the raw rows.
        remove_unused_columns=False,
        dataset_kwargs={"skip_prepare_dataset": True},
        max_length=None,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=evaluation,
        processing_class=processor,
        data_collator=collator,
    )
    result = trainer.train()
    trainer.save_model(t["output_dir"])
    processor.save_pretrained(t["output_dir"])
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {
        "output_dir": str(Path(t["output_dir"]).resolve()),
        "steps": trainer.state.global_step,
        "train_loss": float(result.training_loss),
        "losses": losses,
        "rows": len(train),
    }
