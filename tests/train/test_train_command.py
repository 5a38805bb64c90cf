"""The command builder against the installed upstream OpenRLHF parser.

Install upstream with `pip install --no-deps openrlhf==0.11.2`.

Every flag the builder can emit must exist in upstream's `train_ppo_ray` parser, read from its
source; upstream's own parser and validation (run without `train(args)`) must accept the values.
"""

from __future__ import annotations

import itertools
import textwrap

import pytest

from seekworld.train import upstream_flags as uf
from seekworld.train.command import (
    DERIVED,
    FLAGS,
    LAUNCHER_KEYS,
    UPSTREAM_ENTRY,
    build_command,
    format_command,
    redact,
)
from seekworld.train.config import load_config
from seekworld.train.gpu_support import Gpu
from seekworld.train.preflight import openrlhf

pytest.importorskip("openrlhf", reason="pip install --no-deps openrlhf==0.11.2")

URL = "http://127.0.0.1:5000/get_reward"


@pytest.fixture(scope="module")
def upstream() -> uf.UpstreamFlags:
    return uf.read_upstream_flags()


def flags_of(argv: list[str]) -> list[str]:
    return argv[argv.index(UPSTREAM_ENTRY) + 1 :]


def test_reads_upstream_parser_without_importing_it(upstream):
    assert upstream.path.name == "train_ppo_ray.py"
    assert upstream.version == "0.11.2"
    # Plain, and built in `for prefix in ("actor", "critic")` loops as f-strings.
    for flag in ("--reward.remote_url", "--algo.advantage.estimator", "--actor.adam.lr", "--critic.adam.lr"):
        assert flag in upstream.options
    assert "--actor.muon.no_nesterov" in upstream.options
    assert upstream.unresolved_lines == ()


def test_every_config_key_is_mapped_once():
    config_keys = set(load_config().values)
    flag_keys = {source for source, _ in FLAGS if not source.startswith("=")}
    assert config_keys == flag_keys | LAUNCHER_KEYS, "each key maps to a flag or drives the launcher"
    assert not flag_keys & LAUNCHER_KEYS
    assert {source[1:] for source, _ in FLAGS if source.startswith("=")} == set(DERIVED)


def test_every_flag_in_the_table_exists_upstream(upstream):
    # Including those the defaults never emit (packing, dynamic batch, wandb ...).
    missing = [flag for _, flag in FLAGS if flag not in upstream.options]
    assert missing == []


VARIANT_CONFIGS = {
    "default": [],
    "rule+length": ["reward.variant=rule+length"],
    "rule+judge (judge started)": [
        "reward.variant=rule+judge",
        "judge.mode=start",
        "cluster.gpus_per_node=7",
    ],
    "rule+judge (judge url)": [
        "reward.variant=rule+judge",
        "judge.mode=url",
        "judge.url=http://127.0.0.1:8001/v1",
    ],
    "distance": ["reward.variant=distance"],
    "rule+distance": ["reward.variant=rule+distance"],
    "reward file": ["reward.mode=file"],
    "reward url, weights": ["reward.mode=url", f"reward.url={URL}", "reward.weights=format=1,accuracy=2"],
    "logging": ["logging.wandb=true", "logging.wandb_run_name=sw", "logging.tensorboard_dir=/tmp/tb"],
    "multi-node": ["cluster.nodes=4", "reward.host=0.0.0.0", "cluster.vllm_tensor_parallel_size=2"],
    "other estimator": ["algo.advantage_estimator=group_norm", "model.freeze_visual_encoder=true"],
    "kl and offload": [
        "algo.kl_init_coef=0.01",
        "deepspeed.adam_offload=true",
        "cluster.ds_enable_sleep=true",
    ],
    "extra args": ['upstream.extra_args=["--actor.adam.weight_decay", "0.01", "--actor.entropy_coef=0"]'],
    "held-out evaluation": ["data.eval_data=/data/test.jsonl", "eval.every=25"],
}


@pytest.mark.parametrize("name", list(VARIANT_CONFIGS))
def test_commands_are_accepted_by_upstream(upstream, name):
    config = load_config(overrides=VARIANT_CONFIGS[name])
    argv = build_command(config, reward_url=URL, wandb_key="k", python="python")
    assert argv[:3] == ["python", "-m", UPSTREAM_ENTRY]
    assert upstream.unknown(flags_of(argv)) == []
    check = uf.check_with_upstream_parser(flags_of(argv))
    assert check.ok is True, check.detail


def test_default_command_carries_seekworld_settings():
    argv = build_command(load_config(), reward_url=URL, python="python")
    pairs = dict(zip(argv, [*argv[1:], None], strict=True))
    assert pairs["--algo.advantage.estimator"] == "reinforce_baseline"
    assert pairs["--rollout.n_samples_per_prompt"] == "16"
    assert pairs["--actor.adam.lr"] == "4e-07"
    # upstream's own schedule defaults, passed explicitly so both backends read them from one place
    assert pairs["--actor.lr_scheduler"] == "cosine_with_min_lr"
    assert (pairs["--actor.lr_warmup_ratio"], pairs["--actor.min_lr_ratio"]) == ("0.03", "0.1")
    assert pairs["--algo.kl.init_coef"] == "0.0"
    assert pairs["--reward.remote_url"] == URL
    assert pairs["--vllm.num_engines"] == "8"
    assert pairs["--ds.attn_implementation"] == "sdpa"  # no flash_attn here
    assert pairs["--ckpt.path"] == "checkpoints/seekworld-direct-rl/ckpt"
    for flag in (
        "--data.apply_chat_template",
        "--train.colocate_all",
        "--vllm.enable_sleep",
        "--actor.gradient_checkpointing_enable",
        "--ckpt.load_enable",
        "--reward.normalize_enable",
    ):
        assert flag in argv
    for absent in ("--ds.packing_samples", "--train.dynamic_batch_enable", "--logger.wandb.key"):
        assert absent not in argv
    # VLM data flags
    assert [pairs[f] for f in ("--data.input_key", "--data.label_key", "--data.image_key")] == [
        "prompt",
        "label",
        "images",
    ]
    assert pairs["--data.max_images_per_prompt"] == "1"


def test_held_out_data_maps_to_upstreams_greedy_evaluation():
    argv = build_command(load_config(), reward_url=URL, python="python")
    assert not [a for a in argv if a.startswith("--eval.")]  # no held-out data: upstream never evaluates
    config = load_config(overrides=["data.eval_data=/data/test.jsonl", "eval.every=25"])
    check = uf.check_with_upstream_parser(flags_of(build_command(config, reward_url=URL, python="python")))
    assert check.ok is True, check.detail
    evaluation = check.args.eval  # as upstream's trainer reads them
    assert (evaluation.dataset, evaluation.steps) == ("/data/test.jsonl", 25)
    assert (evaluation.temperature, evaluation.n_samples_per_prompt) == (0.0, 1)  # greedy, one answer


def test_derived_values():
    config = load_config(
        overrides=["cluster.nodes=2", "reward.host=0.0.0.0", "cluster.vllm_tensor_parallel_size=2"]
    )
    a100 = Gpu("NVIDIA A100-SXM4-80GB", (8, 0))  # a description of a GPU, for the choice only
    argv = build_command(config, reward_url=URL, gpu=a100, flash_attn=True, python="python")
    pairs = dict(itertools.pairwise(argv))
    assert pairs["--vllm.num_engines"] == "8"  # 2 nodes x 8 GPUs / TP 2
    assert pairs["--actor.num_nodes"] == pairs["--ref.num_nodes"] == "2"
    assert pairs["--ds.attn_implementation"] == "flash_attention_2"
    t4 = build_command(config, reward_url=URL, gpu=Gpu("Tesla T4", (7, 5)), flash_attn=True, python="python")
    assert dict(itertools.pairwise(t4))["--ds.attn_implementation"] == "sdpa"  # flash-attn 2 needs sm80


def test_wandb_key_is_passed_but_never_shown():
    config = load_config(overrides=["logging.wandb=true"])
    argv = build_command(config, reward_url=URL, wandb_key="secret-key", python="python")
    assert argv[argv.index("--logger.wandb.key") + 1] == "secret-key"
    assert "secret-key" not in redact(argv) and "secret-key" not in format_command(argv)
    assert "--logger.wandb.project seekworld" in format_command(argv)


def test_renamed_upstream_flag_is_caught(tmp_path, monkeypatch, upstream):
    """An upstream rename (here two: one plain, one built in a loop) fails the check, naming both."""
    source = upstream.path.read_text(encoding="utf-8")
    renamed = source.replace('"--actor.model_name_or_path"', '"--actor.pretrain"').replace(
        'f"--{prefix}.adam.lr"', 'f"--{prefix}.optim.adam_lr"'
    )
    assert renamed != source
    fake = tmp_path / "train_ppo_ray.py"
    fake.write_text(renamed, encoding="utf-8")
    argv = build_command(load_config(), reward_url=URL, python="python")

    assert uf.read_upstream_flags(fake).unknown(flags_of(argv)) == [
        "--actor.model_name_or_path",
        "--actor.adam.lr",
    ]
    # As the preflight reports it.
    monkeypatch.setattr(uf, "find_upstream_source", lambda module=uf.UPSTREAM_MODULE: fake)
    results = openrlhf.check_upstream(argv)
    assert [r.ok for r in results] == [False]
    assert "2 flag(s) not in openrlhf" in results[0].detail
    assert "\n--actor.adam.lr (did you mean " in results[0].detail


def test_prefix_of_a_flag_is_not_accepted(upstream):
    # argparse would take an unambiguous prefix, which hides renames: the check is exact.
    assert upstream.unknown(["--ckpt.save_h", "--ckpt.save_hf", "--ckpt.save_steps=3"]) == ["--ckpt.save_h"]


def test_upstream_validation_runs_on_the_command():
    # Upstream's own asserts run (packing is refused for VLM training by upstream too).
    check = uf.check_with_upstream_parser(
        [
            "--data.max_images_per_prompt", "1", "--ds.packing_samples", "--vllm.num_engines", "1",
            "--rollout.n_samples_per_prompt", "2", "--algo.advantage.estimator", "rloo",
        ]
    )  # fmt: skip
    assert check.ok is False and "packing_samples" in check.detail
    bad_choice = uf.check_with_upstream_parser(["--ds.param_dtype", "fp32"])
    assert bad_choice.ok is False and "invalid choice: 'fp32'" in bad_choice.detail


def test_collector_reads_loops_and_fstrings(tmp_path):
    src = tmp_path / "p.py"
    src.write_text(
        textwrap.dedent(
            """
            import argparse
            if __name__ == "__main__":
                parser = argparse.ArgumentParser()
                parser.add_argument("--a.x", "-a", type=int)
                for prefix in ("actor", "critic"):
                    parser.add_argument(f"--{prefix}.lr")
                    parser.add_argument("--" + prefix + ".wd")
                name = compute()
                parser.add_argument(f"--{name}.dyn")
                args = parser.parse_args()
            """
        )
    )
    flags = uf.read_upstream_flags(src)
    assert flags.options == {"--a.x", "-a", "--actor.lr", "--critic.lr", "--actor.wd", "--critic.wd"}
    assert len(flags.unresolved_lines) == 1  # the dynamic one is reported, not guessed


def test_missing_upstream_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(uf.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(uf.UpstreamSourceError, match=r"pip install --no-deps openrlhf==0\.11\.2"):
        uf.read_upstream_flags()
