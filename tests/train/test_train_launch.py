"""The launcher's contracts: the flags and variables it hands `seekworld serve` and the reward file
exist there; processes are stopped by their own process group; failures say where to look."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from seekworld.train import launch
from seekworld.train.config import load_config

JUDGE = ["reward.variant=rule+judge", "judge.mode=url", "judge.url=http://10.0.0.5:8001/v1/"]


def test_reward_server_argv_is_accepted_by_seekworld_serve(tmp_path):
    from seekworld.cli.main import build_parser

    config = load_config(overrides=[*JUDGE, "reward.weights=format=1,judge=2", "reward.workers=3"])
    argv = launch.reward_server_argv(config, 5123, tmp_path)
    assert argv[:4] == [sys.executable, "-m", "seekworld", "serve"]
    args = build_parser().parse_args(argv[3:])
    assert (args.host, args.port, args.reward, args.workers) == ("127.0.0.1", 5123, "rule+judge", 3)
    assert args.weights == "format=1,judge=2"
    assert args.judge_url == "http://10.0.0.5:8001/v1" and args.judge_model == "Qwen/Qwen2.5-3B-Instruct"
    assert args.log_dir == str(tmp_path)


def test_reward_env_configures_the_reward_file():
    from seekworld.service.settings import ENV_VARS, ServiceConfig

    env = launch.reward_env(load_config(overrides=[*JUDGE, "reward.weights=accuracy=3"]))
    assert set(env) <= set(ENV_VARS)
    service = ServiceConfig.from_env(env)
    assert service.reward.variant == "rule+judge" and dict(service.reward.weights)["accuracy"] == 3.0
    assert service.judge is not None and service.judge.url == "http://10.0.0.5:8001/v1"


def test_judge_argv_uses_its_gpus():
    config = load_config(overrides=["reward.variant=rule+judge", "judge.mode=start", "judge.gpus=6,7"])
    argv = launch.judge_argv(config)
    assert argv[1:3] == ["serve", "Qwen/Qwen2.5-3B-Instruct"]
    assert argv[argv.index("--tensor-parallel-size") + 1] == "2"
    assert launch.judge_base_url(config) == "http://127.0.0.1:8001/v1"


@pytest.mark.parametrize(
    "url,health",
    [
        ("http://h:5/get_reward", "http://h:5/health"),
        ("http://h:5/get_reward?token=t", "http://h:5/health?token=t"),
        ("http://h:5", "http://h:5/health"),
    ],
)
def test_health_url(url, health):
    assert launch._health_url(url) == health


def test_stop_process_group_stops_children_too(tmp_path):
    # A leader that starts a child in its own group: both go.
    script = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    time.sleep(0.5)
    assert launch.stop_process_group(proc.pid, grace_s=5)
    proc.wait(timeout=5)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
    assert launch.stop_process_group(proc.pid) is False  # already gone: nothing else is touched


def test_server_that_dies_is_reported_with_its_log(tmp_path, monkeypatch):
    config = load_config(overrides=["reward.startup_timeout_s=20"])
    monkeypatch.setattr(
        launch,
        "reward_server_argv",
        lambda c, port, log_dir=None: [
            sys.executable,
            "-c",
            "import sys; print('bad setting X'); sys.exit(3)",
        ],
    )
    services = launch.Services(config, tmp_path)
    with pytest.raises(launch.LaunchError) as err, services:
        services.start()
    message = str(err.value)
    assert "exited with status 3" in message and "bad setting X" in message
    assert "reward_server.log" in message
    assert not list(tmp_path.glob("*.pid"))  # stopped and forgotten
    assert (tmp_path / "pids.log").read_text().startswith("reward_server ")


def test_file_mode_passes_the_reward_file(tmp_path):
    services = launch.Services(load_config(overrides=["reward.mode=file"]), tmp_path)
    services.start()
    assert services.reward_url.endswith("seekworld/integrations/openrlhf/reward_func.py")
    assert os.path.isfile(services.reward_url) and services.pids() == {}


def test_reward_server_off_loopback_gets_a_token(tmp_path, monkeypatch):
    """Bound to all interfaces, the server needs a per-run token: in its environment, in the URL
    upstream calls, and redacted wherever the command is shown."""
    from seekworld.train.command import redact
    from seekworld.train.config import load_config
    from seekworld.train.launch import Services

    monkeypatch.setenv("RAY_ADDRESS", "")
    config = load_config(overrides=["reward.host=0.0.0.0", "reward.public_host=10.1.2.3", "reward.port=5999"])
    started = []
    monkeypatch.setattr("seekworld.train.launch.ManagedProcess.start", lambda self: started.append(self))
    monkeypatch.setattr("seekworld.train.launch.wait_http_ok", lambda *a, **k: None)
    services = Services(config, tmp_path)
    services._start_reward_servers()
    (url,) = services.reward_urls
    token = started[0].env["SEEKWORLD_TOKEN"]
    assert len(token) >= 24 and url == f"http://10.1.2.3:5999/get_reward?token={token}"
    assert token not in " ".join(started[0].argv)  # never on a command line `ps` shows
    assert redact(["--reward.remote_url", url]) == [
        "--reward.remote_url",
        "http://10.1.2.3:5999/get_reward?token=***",
    ]

    loopback = Services(load_config(overrides=["reward.port=5998"]), tmp_path)
    loopback._start_reward_servers()
    assert loopback.reward_urls == ["http://127.0.0.1:5998/get_reward"] and started[-1].env is None
