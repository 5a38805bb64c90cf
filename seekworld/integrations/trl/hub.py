"""Pushing TRL checkpoints to the Hugging Face Hub: `trl.push_to_hub`, `trl.hub_model_id`,
`trl.hub_private` mapped onto TRL's own arguments (transformers' `push_to_hub`, `hub_model_id`,
`hub_private_repo`; every saved checkpoint and the final model are pushed). The repository id is
checked with the rest of the config (seekworld.train.config).

The token is never a setting: huggingface_hub reads $HF_TOKEN or the one `hf auth login` stored,
and the preflight only checks that one is there (it makes no network call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seekworld.train.config import TrainConfig

__all__ = ["check_hub", "hub_arguments"]


def hub_arguments(config: TrainConfig) -> dict[str, Any]:
    """The GRPOConfig keyword arguments for the hub settings (none when pushing is off)."""
    if not config["trl.push_to_hub"]:
        return {}
    return {
        "push_to_hub": True,
        "hub_model_id": config["trl.hub_model_id"] or None,
        "hub_private_repo": config["trl.hub_private"],
        "hub_strategy": "every_save",
    }


def check_hub(config: TrainConfig, token: str | None = None) -> tuple[bool, str] | None:
    """The preflight's (ok, detail) with trl.push_to_hub: a token must be there (None when pushing
    is off). `token` is for tests; by default huggingface_hub's own lookup."""
    if not config["trl.push_to_hub"]:
        return None
    if token is None:
        from huggingface_hub import get_token

        token = get_token()
    folder = config["checkpoint.save_path"].rstrip("/").split("/")[-1]
    repo = config["trl.hub_model_id"] or f"<the token's account>/{folder}"
    visibility = "private" if config["trl.hub_private"] else "public"
    if not token:
        detail = "trl.push_to_hub: no Hugging Face token: set HF_TOKEN or run `hf auth login`"
        return False, detail
    detail = f"pushes each checkpoint and the final model to {repo} ({visibility}); a token is set"
    return True, detail
