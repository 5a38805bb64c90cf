"""The config -> GRPOConfig mapping of the TRL backend, checked by TRL's own GRPOConfig."""

from __future__ import annotations

import pytest

from seekworld.train.config import ConfigError, load_config
from seekworld.train.trl_backend import grpo_arguments

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
    assert args["reward_weights"] == [0.5, 1.0]  # rule
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
        (["reward.variant=rule+judge", "judge.mode=url", "judge.url=http://x/v1"], "judge"),
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
    ],
)
def test_settings_trl_cannot_use_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, ["backend=trl", *overrides])


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
@pytest.mark.parametrize("overrides", [[], ["trl.device=cuda", "trl.vllm=colocate"], ["logging.wandb=true"]])
def test_trl_accepts_the_arguments(overrides):
    from trl import GRPOConfig

    config = load_config(SMOKE, overrides)
    kwargs = grpo_arguments(config, device=config["trl.device"])
    if kwargs["bf16"]:
        kwargs["bf16"] = False  # GRPOConfig checks bf16 against the local device; the mapping is tested above
    args = GRPOConfig(**kwargs)
    assert args.num_generations == 2 and args.steps_per_generation == 1
    assert args.use_vllm == ("trl.vllm=colocate" in overrides)
    assert args.reward_weights == [0.5, 1.0]
