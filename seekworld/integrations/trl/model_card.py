"""`OUTPUT/README.md`: the checkpoint's model card, naming the base model and the data it was trained on.

TRL writes a card at every checkpoint save, from what its trainer knows: a model loaded from a local
folder becomes "a fine-tuned version of [None]", the data is not named, and its quick start is a
text-only pipeline. `ModelCardWriter` writes ours over it after each save and at the end, from the
run's config: the base model as the user named it (a hub id links to its page), the prompt data and
its row count, the reward variant, the steps, and how to evaluate the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

__all__ = ["CardFacts", "ModelCardWriter", "model_card"]


@dataclass(frozen=True)
class CardFacts:
    name: str  # the output folder's name
    base_model: str  # `model.path` as configured: a hub id or a local folder
    data: str  # `data.prompt_data`
    rows: int  # prompt rows trained on
    variant: str  # `reward.variant`
    steps: int = 0
    tiny: bool = False  # the tiny random Qwen2.5-VL built offline (`model.path = "tiny-random"`)


def _is_hub_id(name: str) -> bool:
    return name.count("/") == 1 and not Path(name).exists() and not name.startswith((".", "/", "~"))


def _base_line(base: str, tiny: bool) -> str:
    if tiny:
        return (
            "a tiny Qwen2.5-VL with random weights, built offline by seekworld (not a pretrained "
            "model: this checkpoint checks the training loop, it does not geolocate)"
        )
    if _is_hub_id(base):
        return f"[{base}](https://huggingface.co/{base})"
    return f"the local model `{base}`"


def model_card(facts: CardFacts) -> str:
    """The card's text: YAML metadata (the hub reads `base_model` only when it is a hub id), then
    what was trained, on what, with which reward, and how to evaluate it."""
    from huggingface_hub import ModelCardData

    data = ModelCardData(
        base_model=facts.base_model if _is_hub_id(facts.base_model) and not facts.tiny else None,
        library_name="transformers",
        pipeline_tag="image-text-to-text",
        tags=["seekworld", "geolocation", "grpo", "trl"],
    )
    return "\n".join(
        [
            "---",
            data.to_yaml(),
            "---",
            "",
            f"# {facts.name}",
            "",
            f"Trained with reinforcement learning (GRPO, TRL's `GRPOTrainer`, run by `seekworld train`) "
            f"to say in which country and first-level region a photo was taken. Base model: "
            f"{_base_line(facts.base_model, facts.tiny)}.",
            "",
            "| | |",
            "|---|---|",
            f"| base model | `{facts.base_model}` |",
            f"| data | `{facts.data}` ({facts.rows} prompt rows, `seekworld prepare` output) |",
            f"| reward | `{facts.variant}` (seekworld's verifier) |",
            f"| steps | {facts.steps} |",
            "",
            "`metrics.jsonl` in this folder has one row per logged step, `samples.jsonl` every scored "
            "completion. Evaluate it with `seekworld eval --engine transformers --model <this folder> "
            "--data <prepared rows>`.",
            "",
        ]
    )


class ModelCardWriter(TrainerCallback):
    """Writes `model_card(facts)` to OUTPUT/README.md after every save (over TRL's card) and at the
    end of training, on the main process."""

    def __init__(self, output: str | Path, facts: CardFacts) -> None:
        self.path = Path(output) / "README.md"
        self.facts = facts

    def _write(self, state: Any) -> None:
        if not state.is_world_process_zero:
            return
        facts = CardFacts(**{**self.facts.__dict__, "steps": state.global_step})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(model_card(facts), encoding="utf-8")

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self._write(state)

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self._write(state)
