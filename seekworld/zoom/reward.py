"""Reward of a zoom episode: the single-turn scoring path on the final turn, with the format
component judged over the whole transcript, plus an optional tool bonus.

    score = score_episode(episode, label, RewardConfig.from_variant("rule"), ZoomConfig(tool_bonus=0.2))
    score.reward, score.logs["zoom_calls"], score.logs["accuracy"]

- `format`: the multi-turn format (see `seekworld.zoom.protocol`): every turn but the last is a
  well-shaped zoom that was carried out (a refusal for lack of token budget is not the model's
  fault and does not count against it), the last is `<think>…</think><answer>…</answer>`.
- `accuracy`, `length`, `distance`: as single-turn (`seekworld.rewards.scoring`), on the final turn.
  `length` therefore counts the final turn's reasoning only. Accuracy is always scored (at weight
  0 when the variant does not weigh it): the tool bonus depends on it.
- `judge` (when the variant weighs it and a judge is given): the judge on `judge_item(...)` (all
  turns' reasoning, the final answer as read); see `seekworld.rewards.judge`.
- `tool_bonus`: `ZoomConfig.tool_bonus`, paid once (weight 1) when accuracy is 1 and at least one
  crop was made; a wrong answer earns nothing for crops, and more crops earn no more.

The total is the scoring path's weighted sum (`seekworld.rewards.scoring.weighted_total`). `logs`
always holds `accuracy` and `format` (whatever the variant), the episode counters (`zoom_calls`,
`invalid_zoom`, `zoom_over_limit`, `zoom_no_budget`, `turns`), `tool_bonus` and `label_error`:
numbers only, the same keys (`log_keys`) for every episode of a config.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from seekworld.geo.label import GoldLabel
from seekworld.rewards import format as format_reward
from seekworld.rewards.format import think_content
from seekworld.rewards.judge import Judge, JudgeItem
from seekworld.rewards.judge.item import judge_item as sample_judge_item
from seekworld.rewards.scoring import SampleScore, Scoring
from seekworld.rewards.variants import RewardConfig
from seekworld.zoom.protocol import ZOOM_CLOSE, ZOOM_OPEN, ZoomConfig, ZoomEpisode, zoom_turn_ok

__all__ = ["episode_config", "episode_reasoning", "format_score", "judge_item", "log_keys", "score_episode"]

TOOL_BONUS = "tool_bonus"


def format_score(episode: ZoomEpisode) -> float:
    """1.0 when the whole transcript follows the protocol (module docstring), else 0.0."""
    final = episode.final_turn
    if final is None or ZOOM_OPEN in final or ZOOM_CLOSE in final:
        return 0.0
    for step in episode.steps[:-1]:
        if step.kind not in ("zoom", "no_budget") or not zoom_turn_ok(step.turn):
            return 0.0
    return format_reward.compute_score(final)


def episode_reasoning(episode: ZoomEpisode) -> str:
    """Every turn's `<think>` content, in order, one paragraph per turn.

    A turn's reasoning is read by the single-turn reward's rule (`think_content`: exactly one
    block, else none), so stuffing a turn with several blocks gets none of them judged."""
    parts = [t.strip() for t in map(think_content, episode.turns) if t is not None]
    return "\n\n".join(p for p in parts if p)


@lru_cache(maxsize=64)
def episode_config(config: RewardConfig) -> RewardConfig:
    """The variant as an episode is scored: accuracy reported (at weight 0 when not weighed), the
    tool bonus weighed 1."""
    reported = config.reporting("accuracy")
    return replace(reported, weights=(*reported.weights, (TOOL_BONUS, 1.0)))


@lru_cache(maxsize=64)
def log_keys_of(config: RewardConfig) -> tuple[str, ...]:
    """The `logs` keys of an episode scored with `config` (an `episode_config`), in order."""
    extra = ["accuracy", "format", TOOL_BONUS, "label_error", *ZoomEpisode().stats()]
    return (*config.log_keys, *(k for k in extra if k not in config.log_keys))


def log_keys(config: RewardConfig) -> list[str]:
    """The `logs` keys `score_episode` produces for this variant, in order."""
    return list(log_keys_of(episode_config(config)))


def score_episode(
    episode: ZoomEpisode,
    label: str | dict | GoldLabel | None,
    config: RewardConfig | None = None,
    zoom: ZoomConfig | None = None,
    judge: Judge | None = None,
) -> SampleScore:
    """Score a finished (or cut) episode; `judge` judges it when the variant weighs the judge (a
    blocking call). A label that cannot be parsed scores 0 with `label_error`."""
    config = episode_config(config or RewardConfig())
    zoom = zoom or ZoomConfig()
    fmt = format_score(episode)
    final = episode.final_turn
    if label is None:
        score = SampleScore.unscored(config, "no label")
    else:
        scoring = Scoring([final or ""], [label], config, [{"format": fmt}], strict=True)
        score = scoring.samples[0]
        if score.scored:
            paid = score.components["accuracy"] >= 1.0 and episode.zoom_calls >= 1
            score.components[TOOL_BONUS] = score.logs[TOOL_BONUS] = zoom.tool_bonus if paid else 0.0
        judged = None
        if judge is not None and config.needs_judge and score.scored and final:
            judged = judge.score_many([judge_item(episode, score)])
        score = scoring.finish(judged)[0]
    merged = {
        **score.logs,
        "accuracy": score.components["accuracy"],
        "format": fmt if score.scored else 0.0,
        "label_error": 0.0 if score.label_error is None else 1.0,
        **episode.stats(),
    }
    score.logs = {k: float(merged[k]) for k in log_keys_of(config)}
    return score


def judge_item(episode: ZoomEpisode, score: SampleScore) -> JudgeItem:
    """The judge's input for a scored episode: all turns' reasoning, the final answer as the
    verifier read it (never the policy's text), the photo."""
    image = score.gold.image if score.gold is not None else None
    reasoning = episode_reasoning(episode) or None
    return sample_judge_item(episode.final_turn or "", score.answer, image, reasoning)
