"""The reward app as `seekworld serve` builds it, from settings-table values (for Flask test clients)."""

from __future__ import annotations

from typing import Any

from seekworld.serve.app import create_app
from seekworld.service.settings import RewardSettings

# The window monitors every reply of the reward service carries (after the variant's own logs).
MONITOR_KEYS = (
    "top_answer_share",
    "top_label_share",
    "reasoning_length",
    "padding_share",
    "hedge_rate",
    "format_failure_rate",
)


def one_right_answer(reasoning_chars: int, padding: float = 0.0) -> dict[str, list[float]]:
    """The monitors of a service's first reply, for one well-formed right answer whose reasoning has
    `reasoning_chars` characters; `padding`: the share the length component did not count (0 for
    a variant that pays no length)."""
    values = (1.0, 1.0, float(reasoning_chars), padding, 0.0, 0.0)
    return {k: [v] for k, v in zip(MONITOR_KEYS, values, strict=True)}


def make_app(prompt_labels: Any = None, **settings: Any) -> Any:
    """`create_app` for `RewardSettings(**settings)` (the table's names: reward, token, max_body_mb...)."""
    table = RewardSettings(**settings)
    return create_app(table.service_config(), table.server_options(), prompt_labels=prompt_labels)


def make_client(**settings: Any) -> Any:
    return make_app(**settings).test_client()
