"""A request scored the way `RewardService` scores it, for tests that pick the config and judge
themselves: each response cut out of its query, the one scoring path, OpenRLHF's reply."""

from __future__ import annotations

from typing import Any

from seekworld.rewards.scoring import score_samples
from seekworld.service.wire import extract_response, openrlhf_reply


def score_batch(queries, prompts, labels, config, judge=None, strict: bool = False) -> dict[str, Any]:
    responses = [extract_response(q, p) for q, p in zip(queries, prompts, strict=True)]
    return openrlhf_reply(score_samples(responses, labels, config, judge, strict=strict), config)
