"""The config -> GRPOConfig mapping of the TRL backend, checked by TRL's own GRPOConfig."""

from __future__ import annotations

import pytest

from seekworld.integrations.trl.backend import grpo_arguments, judge_config
from seekworld.train.config import ConfigError, load_config

SMOKE = "examples/configs/trl_cpu_smoke.toml"


def test_seekworld_recipe_maps_onto_trl():
    config = load_config(None, ["backend=trl"])
    args = grpo_arguments(config, device="cuda", world_size=8)
    assert args["num_generations"] == 16
    assert args["learning_rate"] == 4e-7
    assert args["beta"] == 0.0
    assert args["scale_rewards"] == "batch"  # reinforce_baseline: group mean, batch std
    assert args["loss_type"] == "dapo"  # token-level mean, as OpenRLHF's default
    assert args["generation_batch_size"] == 256 * 16  # rollout.batch_size prompts per generation
    assert args["per_device_train_batch_size"] == 2
    assert args["gradient_accumulation_steps"] == 256 // (2 * 8)  # train.batch_size samples per update
    assert args["max_completion_length"] == 4096
    assert args["reward_weights"] == [1.0]  # one function: the variant's total
    assert args["bf16"] and not args["use_cpu"]


@pytest.mark.parametrize(
    ("estimator", "scale", "loss"),
    [
        ("group_norm", "group", "dapo"),
        ("dr_grpo", "none", "dr_grpo"),
        ("reinforce_baseline", "batch", "dapo"),
    ],
)
def test_estimator_picks_the_advantage_scaling(estimator, scale, loss):
    config = load_config(None, ["backend=trl", f"algo.advantage_estimator={estimator}"])
    args = grpo_arguments(config, device="cpu")
    assert (args["scale_rewards"], args["loss_type"]) == (scale, loss)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["algo.advantage_estimator=rloo"], "no TRL equivalent"),
        (["reward.variant=rule+judge"], "set judge.mode=url"),
        (["reward.variant=rule+judge", "judge.mode=start"], "judge.mode=start is OpenRLHF-only"),
        (["reward.variant=rule+judge", "judge.mode=url"], "needs judge.url"),
        (["reward.variant=rule+judge", "judge.mode=url", "judge.url=ftp://x"], "http"),
        (["judge.mode=url", "judge.url=http://x/v1"], "has no judge component"),
        (
            ["reward.variant=rule+judge", "judge.mode=url", "judge.url=http://x/v1", "judge.timeout_s=0"],
            "timeout",
        ),
        (["rollout.n_samples_per_prompt=1"], "must be > 1"),
        (["train.batch_size=3", "train.micro_batch_size=2"], "multiple of train.micro_batch_size"),
        (
            [
                "rollout.batch_size=3",
                "rollout.n_samples_per_prompt=2",
                "train.batch_size=4",
                "train.micro_batch_size=2",
            ],
            "must be a multiple of train.batch_size",
        ),
        (["trl.vllm=server"], "vllm_server_base_url"),
        (["trl.device=tpu"], "trl.device"),
        (["actor.lr_scheduler=cosine_annealing"], "actor.lr_scheduler must be one of linear, cosine"),
        (["actor.lr_warmup_ratio=1.0"], r"actor.lr_warmup_ratio must be in \[0, 1\)"),
        (["actor.min_lr_ratio=-0.1"], r"actor.min_lr_ratio must be in \[0, 1\]"),
    ],
)
def test_settings_trl_cannot_use_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["backend=trl", *overrides])


JUDGE = [
    "backend=trl",
    "reward.variant=rule+judge",
    "reward.weights=judge=3",
    "judge.mode=url",
    "judge.url=http://127.0.0.1:8001/v1/",
    'judge.model="judge-7b"',
    "judge.timeout_s=5.0",
    "judge.budget_s=40.0",
    "judge.breaker_failures=3",
    "judge.concurrency=4",
]


def test_judge_variant_validates_and_maps_onto_the_judge_client():
    config = load_config(None, JUDGE)
    assert grpo_arguments(config, device="cpu")["reward_weights"] == [1.0]  # the total, judge included
    judge = judge_config(config, env={"SEEKWORLD_JUDGE_API_KEY": "sk-judge", "OPENAI_API_KEY": "sk-other"})
    assert (judge.url, judge.model, judge.api_key) == ("http://127.0.0.1:8001/v1", "judge-7b", "sk-judge")
    assert (judge.timeout_s, judge.budget_s, judge.breaker_failures, judge.concurrency) == (5.0, 40.0, 3, 4)
    assert judge_config(config, env={"OPENAI_API_KEY": "sk-other"}).api_key == "sk-other"
    assert judge_config(config, env={}).api_key == "EMPTY"  # the key never comes from the config file
    assert judge_config(load_config(None, ["backend=trl"]), env={}) is None


def test_the_data_order_is_shuffled_unless_turned_off():
    assert grpo_arguments(load_config(None, ["backend=trl"]), device="cpu")["shuffle_dataset"] is True
    ordered = load_config(None, ["backend=trl", "trl.shuffle_dataset=false"])
    assert grpo_arguments(ordered, device="cpu")["shuffle_dataset"] is False


def test_the_lr_schedule_is_upstreams_on_trl_too():
    args = grpo_arguments(load_config(None, ["backend=trl"]), device="cpu")
    assert args["lr_scheduler_type"] == "cosine_with_min_lr"  # OpenRLHF's default, not TRL's linear decay
    assert args["warmup_steps"] == 0.03  # a ratio, as upstream's --actor.lr_warmup_ratio
    assert args["lr_scheduler_kwargs"] == {"min_lr_rate": 0.1}
    constant = ["backend=trl", "actor.lr_scheduler=constant_with_warmup", "actor.lr_warmup_ratio=0.1"]
    args = grpo_arguments(load_config(None, constant), device="cpu")
    assert (args["lr_scheduler_type"], args["warmup_steps"], args["lr_scheduler_kwargs"]) == (
        "constant_with_warmup",
        0.1,
        None,  # min_lr_rate is only for the *_min_lr schedules (others raise on it)
    )


def test_openrlhf_checks_do_not_apply_to_trl():
    # 8 GPUs per node and a 2-prompt rollout: refused for OpenRLHF, fine on one machine.
    small = ["rollout.batch_size=2", "rollout.n_samples_per_prompt=2", "train.batch_size=4"]
    with pytest.raises(ConfigError):
        load_config(None, small)
    assert load_config(None, [*small, "backend=trl"])["backend"] == "trl"


def test_unknown_backend_is_refused():
    with pytest.raises(ConfigError, match="backend must be one of openrlhf, trl"):
        load_config(None, ["backend=verl"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["trl.device=cuda", "trl.vllm=colocate"],
        ["logging.wandb=true"],
        ["actor.lr_scheduler=constant_with_warmup", "actor.lr_warmup_ratio=0.1"],
    ],
)
def test_trl_accepts_the_arguments(overrides):
    from trl import GRPOConfig

    config = load_config(SMOKE, overrides)
    kwargs = grpo_arguments(config, device=config["trl.device"])
    if kwargs["bf16"]:
        kwargs["bf16"] = False  # GRPOConfig checks bf16 against the local device; the mapping is tested above
    args = GRPOConfig(**kwargs)
    assert args.num_generations == 8 and args.steps_per_generation == 1
    assert args.use_vllm == ("trl.vllm=colocate" in overrides)
    assert args.reward_weights == [1.0]


def test_preflight_probes_the_judge_through_the_trl_reward_functions(judge_standin, tmp_path):
    # The stand-in judge (tests/conftest.py) answers /models and chat completions on loopback.
    import subprocess

    from helpers.prepare_data import PREPARE_SAMPLE

    from seekworld.integrations.trl.preflight import check_trl

    subprocess.run([*PREPARE_SAMPLE, "--output", str(tmp_path), "--no-progress"], check=True, timeout=120)
    config = load_config(
        None,
        [
            "backend=trl",
            f"data.prompt_data={tmp_path / 'train.jsonl'}",
            f"checkpoint.save_path={tmp_path / 'out'}",
            "model.path=tiny-random",
            "reward.variant=rule+judge",
            "judge.mode=url",
            f"judge.url={judge_standin.url}",
            "judge.model=sound",
        ],
    )
    results = {r.name: r for r in check_trl(config)}
    assert results["judge"].ok, results["judge"].detail
    assert results["reward"].ok, results["reward"].detail
    assert "judge" in results["reward"].detail  # the probe went through the judge's reward function
    assert judge_standin.requests  # ... which called the judge, in-process


def test_trl_pays_the_country_credit_the_server_would():
    from seekworld.integrations.trl.backend import reward_config
    from seekworld.rewards.scoring import score_response

    right_country = "<think>Red soil.</think><answer>China, Guangdong</answer>"
    for credit in (0.0, 0.5):
        config = load_config(None, ["backend=trl", f"reward.country_credit={credit}"])
        score = score_response(right_country, "$china,sichuan$", reward_config(config))
        assert score.components["accuracy"] == credit
