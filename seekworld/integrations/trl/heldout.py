"""Held-out accuracy during TRL training: greedy answers to `data.eval_data` every `eval.every` steps.

    trainer = SeekworldGRPOTrainer(..., callbacks=[EvalSchedule(50), ...])
    trainer.held_out = HeldOut(load_prompt_dataset("test.jsonl", 256), max_new_tokens=4096, batch_size=8)

`EvalSchedule` asks the Trainer to evaluate every N steps and after the last one; the trainer's
`evaluate` then generates one greedy answer per held-out prompt with the policy as it is (the
prompts split over the processes, the model unwrapped as TRL unwraps it for generation), scores
each with `seekworld eval`'s scoring (`seekworld.eval.scoring.evaluate_response`, the reward's own
verifier), and logs `eval_accuracy` (country and region right), `eval_country_accuracy` and
`eval_format` through `Trainer.log`: to `metrics.jsonl` (a row with the step and these keys) and to
the `report_to` trackers. Generation is transformers' `generate`, also when training samples with
vLLM.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from transformers import Trainer, TrainerCallback

from seekworld.eval.scoring import evaluate_response
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.integrations.trl.checkpoints import ResumableGRPOTrainer

__all__ = ["EVAL_KEYS", "EvalSchedule", "HeldOut", "SeekworldGRPOTrainer", "held_out_figures", "shard"]

EVAL_KEYS = ("eval_accuracy", "eval_country_accuracy", "eval_format")


def held_out_figures(results: Sequence[dict[str, Any]]) -> dict[str, float]:
    """`evaluate_response` results -> the three held-out figures (0 for each without results)."""
    n = len(results) or 1
    return {
        "eval_accuracy": sum(r["accuracy"] >= 1.0 for r in results) / n,
        "eval_country_accuracy": sum(bool(r["country_ok"]) for r in results) / n,
        "eval_format": sum(r["format"] >= 1.0 for r in results) / n,
    }


def shard(n: int, rank: int, world: int) -> list[int]:
    """Row indices process `rank` generates: every `world`-th, padded with its last (or row 0) to
    the same count on every process, since sharded (ZeRO-3) generation runs in lockstep."""
    mine = list(range(rank, n, world))
    per = math.ceil(n / world) if n else 0
    return mine + [mine[-1] if mine else 0] * (per - len(mine))


def _gold(label: Any, n: int) -> GoldLabel:
    try:
        return parse_label(label)
    except LabelError as exc:
        raise LabelError(f"data.eval_data row {n}: {exc}") from None


class HeldOut:
    """The held-out prompts and how to answer them (greedy, at most `max_new_tokens`)."""

    def __init__(
        self,
        rows: Any,
        max_new_tokens: int,
        batch_size: int,
        bad_words_ids: list[list[int]] | None = None,
    ) -> None:
        self.rows = rows  # a `load_prompt_dataset` Dataset: prompt, images, label
        self.golds = [_gold(label, n) for n, label in enumerate(rows["label"], 1)]
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.bad_words_ids = bad_words_ids or None

    def generate(self, model: Any, processor: Any, indices: Sequence[int]) -> list[str]:
        """Greedy completions for the rows at `indices`, in order."""
        import torch
        from trl.data_utils import prepare_multimodal_messages

        out: list[str] = []
        tokenizer = getattr(processor, "tokenizer", processor)
        for start in range(0, len(indices), self.batch_size):
            rows = [self.rows[i] for i in indices[start : start + self.batch_size]]
            conversations = [prepare_multimodal_messages(r["prompt"], images=r["images"]) for r in rows]
            inputs = processor.apply_chat_template(
                conversation=conversations,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
                padding=True,
                padding_side="left",
            ).to(model.device)
            with torch.no_grad():
                ids = model.generate(
                    **inputs,
                    do_sample=False,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                    max_new_tokens=self.max_new_tokens,
                    bad_words_ids=self.bad_words_ids,
                    pad_token_id=tokenizer.pad_token_id,
                )
            prompt_length = inputs["input_ids"].shape[1]
            out += tokenizer.batch_decode(ids[:, prompt_length:], skip_special_tokens=True)
        return out

    def run(self, trainer: Any) -> dict[str, float]:
        """Every held-out prompt answered by the trainer's current policy; the figures, on every process."""
        from accelerate.utils import gather_object
        from trl.models.utils import unwrap_model_for_generation

        accelerator = trainer.accelerator
        indices = shard(len(self.rows), accelerator.process_index, accelerator.num_processes)
        was_training = trainer.model.training
        trainer.model.eval()
        try:
            with unwrap_model_for_generation(
                trainer.model_wrapped,
                accelerator,
                gather_deepspeed3_params=trainer.args.ds3_gather_for_generation,
                gradient_checkpointing_kwargs=trainer.args.gradient_checkpointing_kwargs,
            ) as model:
                texts = self.generate(model, trainer.processing_class, indices)
        finally:
            trainer.model.train(was_training)
        mine = [(i, evaluate_response(t, self.golds[i])) for i, t in zip(indices, texts, strict=True)]
        answered = dict(gather_object(mine)) if accelerator.num_processes > 1 else dict(mine)
        return held_out_figures([answered[i] for i in sorted(answered)])


class SeekworldGRPOTrainer(ResumableGRPOTrainer):
    """The trainer `seekworld train` builds: resumable checkpoints, and with `held_out` set, the
    held-out evaluation as its `evaluate`."""

    held_out: HeldOut | None = None

    def evaluate(
        self, eval_dataset: Any = None, ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval"
    ) -> dict[str, float]:
        if self.held_out is None:
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        metrics = self.held_out.run(self)
        # Trainer's own log, not GRPOTrainer's: that one would also flush the training metrics
        # gathered since the last log into this row.
        Trainer.log(self, dict(metrics))
        # As Trainer.evaluate ends: callbacks hear of it, and the request to evaluate is cleared.
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


class EvalSchedule(TrainerCallback):
    """Evaluate every `every` steps and after the last step."""

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.global_step % self.every == 0 or state.global_step >= state.max_steps:
            control.should_evaluate = True
        return control
