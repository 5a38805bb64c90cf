"""`seekworld train` configuration: defaults, files, --set overrides, and the refusals."""

from __future__ import annotations

import pytest

from seekworld.train.config import ConfigError, load_config, parse_value


def test_defaults_reproduce_seekworld_direct_rl():
    c = load_config()
    assert c["model.path"] == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert c["algo.advantage_estimator"] == "reinforce_baseline"
    assert c["rollout.n_samples_per_prompt"] == 16
    assert c["rollout.batch_size"] == 256 and c["train.batch_size"] == 256
    assert c["actor.lr"] == 4e-7
    assert c["algo.kl_init_coef"] == 0.0
    assert c["train.num_episodes"] == 2
    assert c["rollout.max_new_tokens"] == 4096
    assert c["rollout.temperature"] == 1.0
    assert c["reward.normalize"] is True
    assert c["deepspeed.param_dtype"] == "bf16" and c["deepspeed.zero_stage"] == 3
    assert c["deepspeed.gradient_checkpointing"] is True
    assert c["cluster.colocate_all"] is True and c["cluster.vllm_enable_sleep"] is True
    assert c["checkpoint.save_steps"] == 50 and c["checkpoint.load"] is True
    assert c["data.max_images_per_prompt"] == 1
    assert c["model.attn_implementation"] == "auto"
    assert c.sources == ("default",)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("4e-7", 4e-7),  # TOML float
        ("16", 16),
        ("true", True),
        ('["--a", "1"]', ["--a", "1"]),  # TOML array
        ("rule+length", "rule+length"),  # not TOML: the text itself
        ("Qwen/Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct"),
        ('"quoted"', "quoted"),
    ],
)
def test_parse_value(text, expected):
    assert parse_value(text) == expected


def test_overrides_are_typed_by_the_default():
    c = load_config(
        overrides=[
            "actor.lr=1e-6",
            "rollout.temperature=1",  # int for a float key: widened
            "model.path=123",  # a number for a string key: the text
            "judge.extra_args=--max-model-len,8192",  # comma list for a list key
            "reward.variant=rule+length",
        ]
    )
    assert c["actor.lr"] == 1e-6
    assert c["rollout.temperature"] == 1.0 and isinstance(c["rollout.temperature"], float)
    assert c["model.path"] == "123"
    assert c["judge.extra_args"] == ["--max-model-len", "8192"]
    assert c["reward.variant"] == "rule+length"
    assert c.sources[-1] == "--set reward.variant"


@pytest.mark.parametrize(
    "override,message",
    [
        ("rollout.bach_size=3", "Did you mean: rollout.batch_size"),  # typo: named, with a hint
        ("rollout.batch_size=abc", "rollout.batch_size must be an integer, got abc"),
        ("rollout.batch_size=2.5", "must be an integer"),
        ("checkpoint.load=yes", "must be true/false"),
        ("novalue", "must look like section.key=value"),
        ("reward.variant=rule+judg", "Did you mean: rule+judge"),
        ("reward.mode=http", "reward.mode must be one of server, url, file"),
        ("algo.advantage_estimator=grpo", "unknown algo.advantage_estimator"),
    ],
)
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message.replace("+", r"\+").replace(".", r"\.")):
        load_config(overrides=[override])


# The settings VLM training forbids: refused before any command is built, each with its reason.
@pytest.mark.parametrize(
    "overrides,reason",
    [
        (["algo.advantage_estimator=gae"], "needs a critic"),  # the only way upstream gets a critic
        (["deepspeed.packing_samples=true"], "cannot pack samples"),
        (["deepspeed.dynamic_batch=true"], "turns sample packing on"),
        (["deepspeed.ring_attn_size=2"], "ring attention turns sample packing on"),
        (['upstream.extra_args=["--critic.model_name_or_path", "x"]'], "has no critic"),
        (['upstream.extra_args=["--ds.packing_samples"]'], "alignment of image tokens"),
        (['upstream.extra_args=["--train.dynamic_batch_enable"]'], "dynamic batching"),
        (['upstream.extra_args=["--ds.ring_attn_size=2"]'], "ring attention"),
        (['upstream.extra_args=["--reward.remote_url", "http://x"]'], "set reward.mode"),
    ],
)
def test_vlm_forbidden_settings_are_refused(overrides, reason):
    with pytest.raises(ConfigError, match=reason):
        load_config(overrides=overrides)


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["rollout.n_samples_per_prompt=1"], "n_samples_per_prompt must be > 1"),  # baseline needs a group
        (["rollout.max_new_tokens=8192"], "must be below data.max_len"),
        (["cluster.vllm_tensor_parallel_size=3"], "must divide nodes"),
        (
            ["rollout.batch_size=1", "rollout.n_samples_per_prompt=2", "rollout.micro_batch_size=1"],
            "at least",
        ),
        (["reward.variant=rule+judge"], "set judge.mode=start"),  # a judge variant without a judge
        (["judge.mode=start"], "has no judge component"),  # a judge nobody uses
        (["reward.variant=rule+judge", "judge.mode=url"], "judge.mode=url needs judge.url"),
        (["reward.mode=url"], "needs reward.url"),
        (["reward.mode=url", "reward.url=localhost:5000"], "must be an http"),
        (["cluster.nodes=2"], "cannot reach a reward server on loopback"),
        (["reward.weights=speed=1"], "Unknown reward component"),
        (["data.eval_data=/d/test.jsonl", "eval.every=0"], "eval.every must be > 0"),
        (["eval.max_samples=-1"], "eval.max_samples must be >= 0"),
        (["monitor.collapse_share=1.5"], "monitor.collapse_share must be <= 1"),
        (["monitor.window=0"], "monitor.window must be >= 1"),
    ],
)
def test_inconsistent_settings_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=overrides)


def test_single_sample_estimator_allows_one_sample():
    c = load_config(overrides=["algo.advantage_estimator=reinforce", "rollout.n_samples_per_prompt=1"])
    assert c["rollout.n_samples_per_prompt"] == 1


def test_toml_file_then_overrides(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[model]\npath = "/models/qwen"\n[rollout]\nn_samples_per_prompt = 8\n')
    c = load_config(cfg, ["rollout.n_samples_per_prompt=4"])
    assert c["model.path"] == "/models/qwen"
    assert c["rollout.n_samples_per_prompt"] == 4  # --set wins over the file
    assert c["actor.lr"] == 4e-7  # untouched keys keep the default
    assert c.sources == ("default", str(cfg), "--set rollout.n_samples_per_prompt")


def test_yaml_file(tmp_path):
    pytest.importorskip("yaml")
    cfg = tmp_path / "run.yaml"
    cfg.write_text("reward:\n  variant: rule+length\ncluster:\n  gpus_per_node: 4\n")
    c = load_config(cfg)
    assert c["reward.variant"] == "rule+length" and c["cluster.gpus_per_node"] == 4


@pytest.mark.parametrize(
    "text,message",
    [
        ("[model]\npaht = 'x'\n", "Did you mean: model.path"),
        ("[rollout]\nbatch_size = 'big'\n", "rollout.batch_size must be an integer"),
        ("[model\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_key(tmp_path, text, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(cfg)


def test_missing_file():
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config("/nonexistent/run.toml")


def test_relative_paths_become_absolute(tmp_path):
    from seekworld.train.config import absolute_paths

    (tmp_path / "models" / "mine").mkdir(parents=True)
    c = load_config(
        overrides=[
            "data.prompt_data=data/a.jsonl,/abs/b.jsonl",
            "data.eval_data=data/test.jsonl",
            "logging.tensorboard_dir=tb",
            "model.path=models/mine",
        ]
    )
    got = absolute_paths(c, tmp_path)
    assert got["data.prompt_data"] == f"{tmp_path}/data/a.jsonl,/abs/b.jsonl"
    assert got["data.eval_data"] == f"{tmp_path}/data/test.jsonl"  # upstream's evaluation opens it in Ray
    assert got["checkpoint.save_path"] == f"{tmp_path}/checkpoints/seekworld-direct-rl"
    assert got["logging.tensorboard_dir"] == f"{tmp_path}/tb"
    assert got["model.path"] == f"{tmp_path}/models/mine"  # a local folder
    assert absolute_paths(load_config(), tmp_path)["model.path"] == "Qwen/Qwen2.5-VL-7B-Instruct"  # a hub id
