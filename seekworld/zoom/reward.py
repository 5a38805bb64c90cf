"""Reward of a zoom episode: the single-turn reward core on the final turn, with the format
component judged over the whole transcript, plus an optional tool bonus.

    score = score_episode(episode, label, RewardConfig.from_variant("rule"), ZoomConfig(tool_bonus=0.2))
    score.reward, score.logs["zoom_calls"], score.logs["accuracy"]

- `format`: the multi-turn format (see `seekworld.zoom.protocol`): every turn but the last is a
  well-shaped zoom that was carried out (a refusal for lack of token budget is not the model's
  fault and does not count against it), the last is `<think>…</think><answer>…</answer>`.
- `accuracy`, `length`, `distance`: as single-turn (`seekworld.rewards.variants`), on the final turn.
  `length` therefore counts the final turn's reasoning only.
- `judge` (when the variant weighs it): computed by the caller on `judge_item(...)` (all turns'
  reasoning) and passed in; see `seekworld.rewards.judge`.
- `tool_bonus`: `ZoomConfig.tool_bonus`, paid once when accuracy is 1 and at least one crop was
  made; a wrong answer earns nothing for crops, and more crops earn no more.

`logs` always holds `accuracy` and `format` (whatever the variant), the episode counters
(`zoom_calls`, `invalid_zoom`, `zoom_over_limit`, `zoom_no_budget`, `turns`), `tool_bonus` and
`label_error`: numbers only, the same keys for every episode of a config.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from seekworld.geo.answer import AnswerError, extract_answer
from seekworld.geo.label import GoldLabel, LabelError, parse_label
from seekworld.rewards import accuracy
from seekworld.rewards import format as format_reward
from seekworld.rewards.format import think_content
from seekworld.rewards.variants import RewardConfig, score_response
from seekworld.zoom.protocol import ZOOM_CLOSE, ZOOM_OPEN, ZoomConfig, ZoomEpisode, zoom_turn_ok

__all__ = ["EpisodeScore", "episode_reasoning", "format_score", "judge_item", "log_keys", "score_episode"]


@dataclass(frozen=True)
class EpisodeScore:
    reward: float
    components: dict[str, float]  # the variant's components (format = multi-turn) and tool_bonus
    logs: dict[str, float]
    accuracy: float
    format: float
    gold: GoldLabel | None = None
    answer_reason: str | None = None  # why accuracy is not 1
    label_error: str | None = None


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


def judge_item(episode: ZoomEpisode, gold: GoldLabel | None):
    """The judge's input for an episode: all reasoning, the answer, the photo."""
    from seekworld.rewards.judge import JudgeItem

    answer = None
    if episode.final_turn is not None:
        try:
            answer = extract_answer(episode.final_turn)
        except AnswerError:
            answer = None
    return JudgeItem(episode_reasoning(episode) or None, answer, gold.image if gold is not None else None)


@lru_cache(maxsize=64)
def _log_keys(config: RewardConfig) -> tuple[str, ...]:
    base = list(config.log_keys)
    extra = ["accuracy", "format", "tool_bonus", "label_error", *ZoomEpisode().stats()]
    return tuple(base + [k for k in extra if k not in base])


def log_keys(config: RewardConfig) -> list[str]:
    """The `extra_logs` keys `score_episode` produces for this config, in order."""
    return list(_log_keys(config))


def score_episode(
    episode: ZoomEpisode,
    label: str | dict | GoldLabel | None,
    config: RewardConfig | None = None,
    zoom: ZoomConfig | None = None,
    judge_score: float | None = None,
) -> EpisodeScore:
    """Score a finished (or cut) episode. A label that cannot be parsed scores 0 with `label_error`."""
    config = config or RewardConfig()
    zoom = zoom or ZoomConfig()
    final = episode.final_turn or ""
    gold: GoldLabel | None = None
    label_error = None
    try:
        if label is None:
            raise LabelError("no label")
        gold = label if isinstance(label, GoldLabel) else parse_label(label)
    except LabelError as exc:
        label_error = str(exc)

    fmt = format_score(episode)
    if gold is None:
        components = {name: 0.0 for name in config.components}
        acc, reason = 0.0, None
        logs = {k: 0.0 for k in config.log_keys}
    else:
        external = {"judge": float(judge_score)} if judge_score is not None else None
        base = score_response(final, gold, config, external)
        components = dict(base.components)
        if "format" in components:
            components["format"] = fmt
        result = accuracy.check(final, gold, config.options.country_credit)
        acc, reason = result.score, result.reason
        logs = dict(base.logs)
    if gold is None:
        fmt = 0.0
    bonus = zoom.tool_bonus if acc >= 1.0 and episode.zoom_calls >= 1 else 0.0
    reward = sum(w * components[name] for name, w in config.weights) + bonus if gold is not None else 0.0
    logs.update(components)
    logs.update(
        {
            "accuracy": acc,
            "format": fmt,
            "tool_bonus": bonus,
            "label_error": 1.0 if label_error else 0.0,
            **episode.stats(),
        }
    )
    return EpisodeScore(
        reward=float(reward),
        components={**components, "tool_bonus": bonus},
        logs={k: float(v) for k, v in logs.items()},
        accuracy=acc,
        format=fmt,
        gold=gold,
        answer_reason=reason,
        label_error=label_error,
    )
