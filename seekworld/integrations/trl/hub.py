"""Pushing TRL checkpoints to the Hugging Face Hub: `trl.push_to_hub`, `trl.hub_model_id`,
`trl.hub_private` mapped onto TRL's own arguments (transformers' `push_to_hub`, `hub_model_id`,
`hub_private_repo`; every saved checkpoint and the final model are pushed).

The token is never a setting: huggingface_hub reads $HF_TOKEN or the one `hf auth login` stored,
and the preflight only checks that one is there (it makes no network call).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seekworld.train.config import TrainConfig
    from seekworld.train.preflight import CheckResult

__all__ = ["check_hub", "hub_arguments", "validate_hub"]

_REPO_ID = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*")


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


def validate_hub(config: TrainConfig) -> None:
    """Raises ConfigError for a repository id the Hub would refuse."""
    from seekworld.train.config import ConfigError

    repo = config["trl.hub_model_id"]
    if repo and (not _REPO_ID.fullmatch(repo) or len(repo) > 96):
        raise ConfigError(
            f"trl.hub_model_id={repo!r}: use 'name' or 'user-or-org/name' (letters, digits, . _ -)"
        )


def check_hub(config: TrainConfig, token: str | None = None) -> CheckResult | None:
    """With trl.push_to_hub: a token must be there (None when pushing is off). `token` is for
    tests; by default huggingface_hub's own lookup."""
    from seekworld.train.preflight import CheckResult

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
        return CheckResult("hub", False, detail)
    detail = f"pushes each checkpoint and the final model to {repo} ({visibility}); a token is set"
    return CheckResult("hub", True, detail)
