"""The collapse and hacking monitors and the held-out evaluation on TRL.

The reward function's metrics and warnings, then two short `seekworld train --backend trl` runs on
CPU with the tiny offline Qwen2.5-VL:
- a forced collapse: a scripted policy (tests/helpers/scripted_policy.py, a labelled stand-in for
  a collapsed model) gives one answer to every photo while the labels vary; `top_answer_share`
  shows it from the first step, a warning line names the step, and the held-out evaluation scores
  the same policy's greedy answers;
- a padding-rewarding variant: a deliberately broken length rule that pays for padding, with a
  policy free to write letters or full stops in its reasoning (tests/helpers/constrained_policy.py,
  a labelled stand-in for a policy's freedom); GRPO learns to pad and `padding_share` rises, with a
  warning.
"""

from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers.constrained_policy import ChoiceTurn
from helpers.scripted_policy import ScriptedTurns
from helpers.zoom import make_photo

from seekworld.cli.main import main
from seekworld.geo.label import parse_label
from seekworld.rewards import length
from seekworld.rewards.variants import COMPONENTS, LENGTH_LOGS, Component, ComponentScore, RewardConfig
from seekworld.service.settings import RewardSettings

GALICIA = {"country": "Spain", "region": "Galicia"}
OSAKA = {"country": "Japan", "region": "Osaka"}
COLLAPSED = "<think>The plants look wet.</think><answer>$Spain,Galicia$</answer>"
MONITOR_LOG = "seekworld.integrations.trl.rewards"


def reward(**kwargs):
    from seekworld.integrations.trl.rewards import reward_function

    # warnings look at the last 4 samples here (256 by default)
    monitor = RewardSettings(monitor_places="ES-GA,JP-27", monitor_window=4).monitor_config()
    return reward_function(RewardConfig.from_variant("rule"), monitor=monitor, **kwargs)


def labels(*golds: dict) -> list[str]:
    return [json.dumps(g) for g in golds]


# ---- the reward function ---------------------------------------------------------------------


def test_each_batch_logs_the_monitors_and_warns_during_training(caplog):
    logged: dict[str, float] = {}
    func = reward()
    completions = [[{"role": "assistant", "content": COLLAPSED}]] * 4
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOG):
        rewards = func(
            completions=completions,
            label=labels(GALICIA, GALICIA, OSAKA, OSAKA),
            log_metric=logged.__setitem__,
            trainer_state=SimpleNamespace(global_step=6),
        )
    assert rewards == [1.5, 1.5, 0.5, 0.5]
    assert {
        k: logged[k] for k in ("top_answer_share", "top_label_share", "accuracy/ES-GA", "accuracy/JP-27")
    } == {
        "top_answer_share": 1.0,
        "top_label_share": 0.5,
        "accuracy/ES-GA": 1.0,
        "accuracy/JP-27": 0.0,
    }
    assert logged["padding_share"] == 0.0  # `rule` pays no length: nothing to pad for
    assert "judge_rule_disagreement" not in logged  # no judge in this variant
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("seekworld monitors: step 7 (last 4 samples): collapse warning: 100% of")


def test_no_warning_outside_training_and_none_from_other_processes(caplog):
    completions = [[{"role": "assistant", "content": COLLAPSED}]] * 2
    with caplog.at_level(logging.WARNING, logger=MONITOR_LOG):
        reward()(completions=completions, label=labels(GALICIA, OSAKA))  # the preflight's probe
        reward(warn=False)(
            completions=completions,
            label=labels(GALICIA, OSAKA),
            trainer_state=SimpleNamespace(global_step=1),
        )
    assert caplog.records == []


def test_osaka_is_jp_27():  # the place IDs the assertions above name
    assert parse_label(OSAKA).place_id == "JP-27" and parse_label(GALICIA).place_id == "ES-GA"


# ---- end to end ------------------------------------------------------------------------------


def _data(root: Path, golds: list[dict], name: str) -> Path:
    rows = []
    for i, gold in enumerate(golds):
        photo = make_photo(root / f"{name}{i}.png", seed=i)
        prompt = [{"role": "user", "content": "<image>Where was this photo taken?"}]
        rows.append({"prompt": prompt, "images": [str(photo)], "label": json.dumps(gold)})
    path = root / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _run(root: Path, model: Path, policy, *overrides: str) -> list[dict]:
    from transformers import LogitsProcessorList

    import seekworld.integrations.trl.backend as backend

    original = backend._load

    def load(*args, **kwargs):
        model, processor = original(*args, **kwargs)
        model.generate = partial(
            model.generate, logits_processor=LogitsProcessorList([policy(processor.tokenizer)])
        )
        return model, processor

    train = _data(root, [GALICIA, OSAKA], "train")
    sets = [
        "backend=trl",
        f"model.path={model}",
        f"data.prompt_data={train}",
        "rollout.batch_size=2",
        "train.num_episodes=100",
        "deepspeed.gradient_checkpointing=false",
        f"checkpoint.save_path={root / 'out'}",
        "checkpoint.save_steps=1000",
        "trl.device=cpu",
        "trl.vllm=off",
        f"trl.max_pixels={112 * 112}",
        *overrides,
    ]
    mp = pytest.MonkeyPatch()
    mp.setattr(backend, "_load", load)
    try:
        assert main(["train", *(x for s in sets for x in ("--set", s))]) == 0
    finally:
        mp.undo()
    return [json.loads(line) for line in (root / "out/metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def collapse_run(tiny_qwen, tmp_path_factory):
    root = tmp_path_factory.mktemp("trl-collapse")
    held_out = _data(root, [GALICIA, OSAKA, OSAKA, OSAKA], "held_out")
    handler = _Records()
    logging.getLogger(MONITOR_LOG).addHandler(handler)
    try:
        rows = _run(
            root,
            tiny_qwen.path,
            lambda tokenizer: ScriptedTurns(tokenizer, [COLLAPSED]),
            "rollout.n_samples_per_prompt=4",
            "train.batch_size=8",
            "train.micro_batch_size=8",
            "rollout.max_new_tokens=48",
            "trl.max_steps=2",
            f"data.eval_data={held_out}",
            "eval.every=1",
            "monitor.window=16",  # warnings look at the last two steps' 16 completions
        )
    finally:
        logging.getLogger(MONITOR_LOG).removeHandler(handler)
    return rows, handler.lines


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_forced_collapse_shows_in_top_answer_share_and_warns_within_two_steps(collapse_run):
    rows, lines = collapse_run
    steps = [r for r in rows if "reward" in r]
    assert [r["step"] for r in steps] == [1, 2]
    for row in steps:
        assert row["top_answer_share"] == 1.0 and row["top_label_share"] == 0.5
        assert row["accuracy/ES-GA"] == 1.0 and row["accuracy/JP-27"] == 0.0  # regions: the run has two
        assert row["format_failure_rate"] == 0.0 and row["hedge_rate"] == 0.0
    assert lines == [
        "seekworld monitors: step 2 (last 16 samples): collapse warning: 100% of completions give one answer "
        "(ES-GA) while the most common label is 50% of them (top_answer_share 1.00, top_label_share 0.50)"
    ]


def test_held_out_accuracy_is_logged_at_each_evaluation(collapse_run):
    rows, _ = collapse_run
    evals = [r for r in rows if "eval_accuracy" in r]
    # every step and after the last one (the same step: once); the greedy answer is always Galicia
    assert evals == [
        {"step": s, "eval_accuracy": 0.25, "eval_country_accuracy": 0.25, "eval_format": 1.0} for s in (1, 2)
    ]


def _paying_for_padding(response: str, gold, options) -> ComponentScore:
    """Pays the share of the reasoning the length measure leaves out, and logs its counts as a
    length component does (what the padding monitor reads)."""
    _, chars, counted = length.measured(response)
    logs = (("reasoning_chars", chars), ("counted_chars", counted))
    return ComponentScore((chars - counted) / chars if chars else 0.0, logs)


@pytest.fixture(scope="module")
def padding_run(tiny_qwen, tmp_path_factory):
    """A DELIBERATELY BROKEN length rule (this test's only): it pays for the share of the reasoning
    that is padding, the exploit the shipped rule closes. The policy may write a letter or a full
    stop at each of 16 reasoning positions."""
    root = tmp_path_factory.mktemp("trl-padding")
    mp = pytest.MonkeyPatch()
    broken = Component("padding_pay", _paying_for_padding, "test only", LENGTH_LOGS)
    mp.setitem(COMPONENTS._items, "padding_pay", broken)
    handler = _Records()
    logging.getLogger(MONITOR_LOG).addHandler(handler)
    suffix = "</think><answer>$Spain,Galicia$</answer>"
    try:
        rows = _run(
            root,
            tiny_qwen.path,
            lambda tokenizer: ChoiceTurn(tokenizer, "<think>", ["a", "."], 16, suffix),
            "reward.weights=padding_pay=1",
            "rollout.n_samples_per_prompt=8",
            "train.batch_size=16",
            "train.micro_batch_size=16",
            "rollout.max_new_tokens=40",
            "actor.lr=0.005",
            "trl.max_steps=8",
            "monitor.padding_share=0.75",
            "monitor.window=32",  # warnings look at the last two steps
        )
    finally:
        logging.getLogger(MONITOR_LOG).removeHandler(handler)
        mp.undo()
    return rows, handler.lines


def test_a_padding_rewarding_variant_shows_the_padding_share_rising(padding_run):
    rows, lines = padding_run
    shares = [r["padding_share"] for r in rows]
    assert len(shares) == 8
    # a random start (under the length rule a lone repeated letter is not new text either), then
    # GRPO moves it up (sampling keeps each step noisy)
    assert shares[0] < 0.7 and sum(shares[-4:]) / 4 >= shares[0] + 0.2, shares
    assert [r["reasoning_length"] for r in rows] == [16.0] * 8  # the same length: only padding grew
    assert [r["padding_pay"] for r in rows] == pytest.approx(shares)  # what the broken rule paid
    warnings = [x for x in lines if "padding warning" in x]
    assert warnings and "of the reasoning is characters the length rule does not count" in warnings[0]


def test_held_out_prompts_split_evenly_over_processes():
    from seekworld.integrations.trl.heldout import shard

    # every prompt once, and the same count per process (ZeRO-3 generation runs in lockstep)
    for n, world in [(5, 2), (7, 3), (2, 4), (8, 1)]:
        parts = [shard(n, rank, world) for rank in range(world)]
        assert len({len(p) for p in parts}) == 1
        assert sorted(set().union(*parts)) == list(range(n))
    assert shard(5, 1, 2) == [1, 3, 3] and shard(2, 3, 4) == [0]
