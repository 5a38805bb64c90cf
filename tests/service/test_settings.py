"""The reward-service settings table reaches every front end: `seekworld serve` flags, the reward
file's environment, `seekworld train`'s config keys and its server argv / reward-file env."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seekworld.cli.main import build_parser
from seekworld.service.settings import ENV_VARS, RewardSettings, ServiceConfig, SettingError
from seekworld.train import launch
from seekworld.train.config import ConfigError, default_config_text, load_config

# A value unlike the default for each setting (a generic one for free text): whatever row is added,
# the round trips below move a non-default value through it.
SPECIAL = {
    "reward": "rule+judge",
    "weights": "format=1,accuracy=3,judge=2",
    "chat_template": "llama3",
    "assistant_marker": "<|assistant|>",
    "end_tokens": "<|end|>,<|eot|>",
    "judge_url": "http://10.0.0.5:8001/v1",
    "judge_model": "judge-model",
    "host": "0.0.0.0",
    "log_dir": "/tmp/audit",
}


def sample(row):
    if row.name in SPECIAL:
        return SPECIAL[row.name]
    if row.kind is bool:
        return not row.default
    if row.spec.choices:
        return next(c for c in row.spec.choices if c != row.default)
    if row.kind is int:
        return row.default + 1
    if row.kind is float:
        high = row.spec.high if row.spec.high is not None else row.default + 2
        return round((row.default + high) / 2, 3) if high > row.default else row.default / 2
    return f"value-{row.name}"


SAMPLES = {row.name: sample(row) for row in RewardSettings.rows()}


def parse_serve(argv):
    return build_parser().parse_args(["serve", *argv])


def test_every_sample_differs_from_its_default_and_is_valid():
    for row in RewardSettings.rows():
        assert SAMPLES[row.name] != row.default, row.name
    RewardSettings(**SAMPLES)  # in range


@pytest.mark.parametrize("row", RewardSettings.rows(), ids=lambda r: r.name)
def test_flag_reaches_the_settings(row):
    value = SAMPLES[row.name]
    if row.kind is bool:
        argv = [row.flag if value else "--no-" + row.flag[2:]]
    else:
        argv = [row.flag, str(value)]
    settings = RewardSettings.from_args(parse_serve(argv), env={})
    assert getattr(settings, row.name) == value
    # ...and nothing else moved.
    assert all(getattr(settings, r.name) == r.default for r in RewardSettings.rows() if r is not row)


@pytest.mark.parametrize("row", [r for r in RewardSettings.rows() if r.spec.env], ids=lambda r: r.name)
def test_env_reaches_the_settings_and_serve(row):
    value = SAMPLES[row.name]
    text = ("1" if value else "0") if row.kind is bool else str(value)
    assert getattr(RewardSettings.from_env({row.spec.env: text}), row.name) == value
    # `seekworld serve` honours the variable too (SEEKWORLD_REWARD used to be ignored)...
    assert getattr(RewardSettings.from_args(parse_serve([]), env={row.spec.env: text}), row.name) == value
    assert row.spec.env in ENV_VARS


def test_flag_beats_environment():
    args = parse_serve(["--reward", "distance"])
    assert RewardSettings.from_args(args, env={"SEEKWORLD_REWARD": "rule+length"}).reward == "distance"
    assert RewardSettings.from_args(parse_serve([]), env={"SEEKWORLD_REWARD": "rule+length"}).reward == (
        "rule+length"
    )


def test_api_key_falls_back_to_openai_api_key():
    assert RewardSettings.from_env({"OPENAI_API_KEY": "k"}).judge_api_key == "k"
    both = {"OPENAI_API_KEY": "k", "SEEKWORLD_JUDGE_API_KEY": "j"}
    assert RewardSettings.from_env(both).judge_api_key == "j"


def _train_overrides():
    out = ["judge.mode=url", "judge.url=http://10.0.0.5:8001/v1/"]
    for row in RewardSettings.rows():
        if row.spec.train:
            value = SAMPLES[row.name]
            text = ("true" if value else "false") if row.kind is bool else repr(value).replace("'", '"')
            out.append(f"{row.spec.train}={text}")
    return out


def test_train_config_reaches_server_and_reward_file():
    """train config -> server argv -> flags -> settings, and -> env -> settings: all the same."""
    config = load_config(overrides=_train_overrides())
    expected = {r.name: SAMPLES[r.name] for r in RewardSettings.rows() if r.spec.train}
    expected["judge_url"] = "http://10.0.0.5:8001/v1"

    argv = launch.reward_server_argv(config, 5123, None)
    from_server = RewardSettings.from_args(parse_serve(argv[4:]), env={})
    from_file = RewardSettings.from_env(launch.reward_env(config))
    for name, value in expected.items():
        assert getattr(from_server, name) == value, name
        assert getattr(from_file, name) == value, name
    assert from_server.port == 5123
    # Both build the same scorer.
    assert from_server.service_config() == from_file.service_config()
    judge = from_file.service_config().judge
    assert judge is not None and judge.mode == "score" and judge.sees_image is True


def test_train_config_holds_every_train_key_with_the_tables_default():
    config = load_config()
    for row in RewardSettings.rows():
        if row.spec.train:
            default = row.spec.train_default if row.spec.train_default is not None else row.default
            assert config[row.spec.train] == ("" if default is None else default), row.spec.train
    assert len(set(RewardSettings.train_keys())) == len(RewardSettings.train_keys())
    assert "#@" not in default_config_text()


def test_settings_round_trip_through_argv_and_env():
    settings = RewardSettings(**SAMPLES)
    again = RewardSettings.from_args(parse_serve(settings.to_argv(("server", "service", "judge"))), env={})
    secrets = {r.name for r in RewardSettings.rows() if r.spec.secret}
    for row in RewardSettings.rows():
        if row.name not in secrets:
            assert getattr(again, row.name) == getattr(settings, row.name), row.name
    env = settings.to_env(("server", "service", "judge"))
    assert not secrets & set(env), "secrets never leave through argv or env"
    from_env = RewardSettings.from_env(env)
    for row in RewardSettings.rows():
        if row.spec.env and row.name not in secrets:
            assert getattr(from_env, row.name) == getattr(settings, row.name), row.name


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"country_credit": 5.0}, "--country-credit (SEEKWORLD_COUNTRY_CREDIT) must be <= 1"),
        ({"country_credit": -0.1}, "must be >= 0"),
        ({"port": 99999}, "--port must be <= 65535"),
        ({"port": 0}, "--port must be >= 1"),
        ({"judge_budget": 175.0}, "must be < 170"),
        ({"judge_timeout": 0.0}, "must be > 0"),
        ({"judge_mode": "maybe"}, "must be one of binary, score"),
        ({"workers": "2"}, "must be an integer"),
    ],
)
def test_out_of_range_values_are_refused(kwargs, words):
    with pytest.raises(SettingError, match=words.replace("(", r"\(").replace(")", r"\)")):
        RewardSettings(**kwargs)


def test_bad_environment_values_name_the_variable():
    with pytest.raises(SettingError, match="SEEKWORLD_JUDGE_TIMEOUT='soon' is not a number"):
        RewardSettings.from_env({"SEEKWORLD_JUDGE_TIMEOUT": "soon"})
    with pytest.raises(SettingError, match="SEEKWORLD_COUNTRY_CREDIT"):
        ServiceConfig.from_env({"SEEKWORLD_COUNTRY_CREDIT": "5"})


def test_train_config_refuses_out_of_range_settings():
    with pytest.raises(ConfigError, match=r"reward\.country_credit must be <= 1"):
        load_config(overrides=["reward.country_credit=5"])
    with pytest.raises(ConfigError, match=r"judge\.verdict must be one of binary, score"):
        load_config(overrides=["judge.verdict=maybe"])


@pytest.mark.parametrize("argv", [["--country-credit", "5"], ["--port", "99999"], ["--country-credit", "-1"]])
def test_serve_rejects_bad_values_in_one_line(argv):
    done = subprocess.run(
        [sys.executable, "-m", "seekworld", "serve", *argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seekworld serve: "), done.stderr
