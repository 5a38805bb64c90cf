"""The reward app as `seekworld serve` builds it, from settings-table values (for Flask test clients)."""

from __future__ import annotations

from typing import Any

from seekworld.serve.app import create_app
from seekworld.service.settings import RewardSettings


def make_app(prompt_labels: Any = None, **settings: Any) -> Any:
    """`create_app` for `RewardSettings(**settings)` (the table's names: reward, token, max_body_mb...)."""
    table = RewardSettings(**settings)
    return create_app(table.service_config(), table.server_options(), prompt_labels=prompt_labels)


def make_client(**settings: Any) -> Any:
    return make_app(**settings).test_client()
