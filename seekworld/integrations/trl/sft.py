"""Cold-start SFT on TRL's SFTTrainer, and the zoom tool's call form of a trace.

    run_sft(config)   # `seekworld sft`: train, save model + processor to train.output_dir

Upstream OpenRLHF's `train_sft` has no image support, so SFT runs on TRL (vision-language models,
multi-GPU through accelerate / DeepSpeed). The data collator is ours (`seekworld.sft.data`): TRL's
own vision collator cannot mask everything but the assistant turns with transformers < 5.18, and
ours tokenises the transcript exactly as the zoom agent does at RL time.

`tool_call_form` encodes a trace in the form the zoom tool on TRL trains (`seekworld train
--backend trl` with `zoom.enabled`, `data.tool_call` here): each zoom turn a `zoom` tool call, each
crop a tool message, rendered by the shipped tool template (`seekworld.integrations.trl.zoom`) and
cut where TRL cuts an RL rollout: a model turn ends at its end-of-turn token (learned), the rest of
the template's text up to the next assistant header belongs to the tool message (no loss), as in
TRL's tool suffix.

The output folder holds the model and its processor (`save_pretrained`), loadable by
`AutoModelForImageTextToText` / `AutoProcessor`: a valid MODEL for the zoom RL script.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from seekworld.chat import QWEN, ChatTemplate
from seekworld.integrations.trl.zoom import ZoomEnvironment, apply_tool_template, tool_messages, tool_template
from seekworld.sft.config import SFTRunConfig
from seekworld.sft.data import SFTDataError, ZoomSFTCollator, check_rows, load_rows, tag_form
from seekworld.zoom.protocol import Segment, ZoomConfig

__all__ = ["freeze_vision", "run_sft", "tool_call_form"]

log = logging.getLogger(__name__)

# Columns handed to the collator (the rest of a prepared row is for people and RL).
_COLUMNS = ("id", "prompt", "images", "turns", "zoom")


def tool_call_form(
    processor: Any,
    prompt_messages: list[dict[str, Any]],
    turns: list[str],
    zoom: ZoomConfig,
    markers: ChatTemplate = QWEN,
) -> tuple[str, list[Segment]]:
    """(prompt text, segments) of a trace in the tool-call form (module docstring), cut out of the
    shipped template's renderings of ever longer message lists (it is prefix-preserving). The
    markers are Qwen's: the shipped tool template is a Qwen2/2.5-VL one."""
    messages = tool_messages(prompt_messages, turns, zoom)
    tools = [ZoomEnvironment(zoom).zoom]

    def render(n: int) -> str:
        gen = n < len(messages) and messages[n]["role"] == "assistant"
        return processor.apply_chat_template(
            messages[:n],
            tools=tools,
            tokenize=False,
            add_generation_prompt=gen,
            chat_template=tool_template(),
        )

    start = len(prompt_messages)
    prompt = previous = render(start)
    segments, carry = [], ""
    for n in range(start, len(messages)):
        text = render(n + 1)
        if not text.startswith(previous):
            raise SFTDataError("the tool template is not prefix-preserving for this trace")
        piece, previous = carry + text[len(previous) :], text
        if messages[n]["role"] == "assistant":  # the model's turn ends at its end-of-turn token
            head, _, carry = piece.rpartition(QWEN.turn_end)
            segments.append(Segment(head + QWEN.turn_end, True))
        else:
            n_images = sum(1 for p in messages[n]["content"] if p.get("type") == "image")
            segments.append(Segment(piece, False, n_images))
            carry = ""
    return prompt, segments


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
        apply_tool_template(processor)
    form = tool_call_form if tool_call else tag_form
    collator = ZoomSFTCollator(processor, max_length=config["data.max_length"], form=form)
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
