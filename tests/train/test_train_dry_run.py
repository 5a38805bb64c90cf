"""`seekworld train --dry-run` end to end: the shipped sample data prepared with `seekworld prepare`,
the reward server really started on loopback, checked, and stopped by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.prepare_data import PREPARE_SAMPLE

REPO = Path(__file__).resolve().parents[2]
pytest.importorskip("openrlhf", reason="pip install --no-deps openrlhf==0.11.2")
pytest.importorskip("gunicorn", reason="the reward server needs the serve extra")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prepared")
    subprocess.run(
        [*PREPARE_SAMPLE, "--output", str(out), "--no-progress"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (out / "train.jsonl").is_file()
    return out / "train.jsonl"


def train_argv(data: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "seekworld", "train", "--dry-run",
        "--set", f"data.prompt_data={data}",
        "--set", f"checkpoint.save_path={tmp_path / 'ckpt'}",
        "--log-dir", str(tmp_path / "logs"),
        *extra,
    ]  # fmt: skip


def started_pids(log_dir: Path) -> dict[str, int]:
    """name -> PID of every service `seekworld train` started (pids.log keeps them all)."""
    lines = (log_dir / "pids.log").read_text().splitlines()
    return {line.split()[0]: int(line.split()[1]) for line in lines}


def group_gone(pid: int, timeout: float = 10.0) -> bool:
    """True once neither the process nor any member of its process group exists."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_dry_run_passes_on_sample_data(prepared, tmp_path):
    proc = subprocess.run(train_argv(prepared, tmp_path), capture_output=True, text=True, timeout=120)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert (
        "python -m openrlhf.cli.train_ppo_ray \\\n    --actor.model_name_or_path Qwen/Qwen2.5-VL-7B-Instruct"
        in out
    )
    assert "--reward.remote_url http://127.0.0.1:" in out
    for line in (
        "[warn] data ",  # 29 rows < rollout batch: a warning
        "[ok  ] images           20 of 20 images exist and decode (all)",
        "[ok  ] reward           http://127.0.0.1:",
        "[ok  ] upstream flags   all ",
        "[ok  ] upstream parser  upstream's parser and validation accept the command",
        "[warn] gpus             no GPU visible here",
        "dry run: every check passed",
    ):
        assert line in out, out
    assert "correct answers 1.500, junk 0.000" in out  # the real server scored real rows
    logs = tmp_path / "logs"
    pid = started_pids(logs)["reward_server"]
    assert f"started reward_server: pid {pid}" in out
    assert group_gone(pid), "the reward server (and its gunicorn workers) must be stopped"
    assert not list(logs.glob("*.pid"))  # nothing left for a launcher's trap to stop
    assert (logs / "command.sh").read_text().count("--") > 40


def test_bad_data_fails_naming_the_rows(prepared, tmp_path):
    rows = [json.loads(line) for line in prepared.read_text().splitlines()]
    gone = tmp_path / "gone.jpg"
    rows[3]["images"] = [str(gone)]  # missing image
    rows[5]["images"] = rows[5]["images"] * 2  # 1 tag, 2 images
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    proc = subprocess.run(train_argv(data, tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert f"{data}:6 (id {rows[5]['id']}): 1 <image> tag(s) but 2 image(s)" in proc.stdout
    assert f"{gone}: missing (used at {data}:4" in proc.stdout
    assert "dry run: fix the failed checks above" in proc.stdout
    assert group_gone(started_pids(tmp_path / "logs")["reward_server"])


def test_real_run_without_gpus_stops_before_starting_anything(prepared, tmp_path):
    argv = [a for a in train_argv(prepared, tmp_path) if a != "--dry-run"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "[FAIL] gpus" in proc.stdout and "not starting" in proc.stdout
    assert "not starting: fix the failed checks above" in proc.stderr
    assert not (tmp_path / "logs").exists()  # no reward server, no judge, no training


def test_unreachable_reward_url_fails(prepared, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    extra = ["--set", "reward.mode=url", "--set", f"reward.url=http://127.0.0.1:{port}/get_reward"]
    extra += ["--set", "reward.startup_timeout_s=1"]
    proc = subprocess.run(train_argv(prepared, tmp_path, *extra), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "[FAIL] services" in proc.stdout and f"127.0.0.1:{port}/health did not answer" in proc.stdout
    assert "[ok  ] upstream flags" in proc.stdout  # the other checks still ran


def test_sigterm_stops_the_started_server(prepared, tmp_path):
    """Terminated mid-preflight (here while a judge hangs), the started server is stopped."""
    hang = socket.socket()  # accepts connections (backlog) and never answers
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    judge = f"http://127.0.0.1:{hang.getsockname()[1]}/v1"
    extra = ["--set", "reward.variant=rule+judge", "--set", "judge.mode=url", "--set", f"judge.url={judge}"]
    proc = subprocess.Popen(train_argv(prepared, tmp_path, *extra), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("started reward_server: pid"):
                break
        time.sleep(1.0)  # into the preflight, wherever it is (the judge probe alone waits 10 s)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:  # it did not stop: SIGKILL it, and the services it started, by PID
            proc.kill()
            proc.wait()
            pids = tmp_path / "logs" / "pids.log"
            for pid in started_pids(tmp_path / "logs").values() if pids.exists() else ():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        hang.close()
    assert proc.returncode == 128 + signal.SIGTERM
    pid = started_pids(tmp_path / "logs")["reward_server"]
    assert group_gone(pid)
    assert not list((tmp_path / "logs").glob("*.pid"))


def test_print_default_config_is_the_shipped_file(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "seekworld", "train", "--print-default-config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    copy = tmp_path / "copy.toml"
    copy.write_text(proc.stdout)
    from seekworld.train.config import load_config

    assert dict(load_config(copy).values) == dict(load_config().values)  # a copy is a valid --config


def _zoom_argv(data: Path, tmp_path: Path, max_images: int) -> list[str]:
    agent = REPO / "seekworld/integrations/openrlhf/zoom_agent.py"
    return train_argv(
        data,
        tmp_path,
        "--config", str(REPO / "seekworld/train/configs/zoom.toml"),
        "--set", f"upstream.extra_args=--train.agent_func_path,{agent}",
        "--set", f"data.max_images_per_prompt={max_images}",
    )  # fmt: skip


def test_dry_run_checks_the_agent_file(prepared, tmp_path):
    """The zoom preset: the preflight loads the agent file as upstream does and plays one episode."""
    env = {**os.environ, "SEEKWORLD_ZOOM_MAX_CROPS": "2"}
    proc = subprocess.run(
        _zoom_argv(prepared, tmp_path, 3), capture_output=True, text=True, timeout=180, env=env
    )
    assert "[ok  ] agent " in proc.stdout and "zoom agent ok: 1 crop" in proc.stdout, (
        proc.stdout + proc.stderr
    )
    too_few = subprocess.run(
        _zoom_argv(prepared, tmp_path / "b", 2), capture_output=True, text=True, timeout=180, env=env
    )
    assert too_few.returncode != 0
    assert "data.max_images_per_prompt=2 but the agent can show 3 images" in too_few.stdout


def test_a_termination_inside_a_check_is_not_taken_for_its_failure(monkeypatch, tmp_path):
    """The SIGTERM handler raises wherever the main thread is; a check that reports any exception
    as its own failure (here the image decode's `except Exception`) must let it through."""
    import seekworld.io.images
    from seekworld.train import run
    from seekworld.train.preflight import common

    def terminated(path):  # what the handler does if SIGTERM lands while this image decodes
        run._raise_terminated(signal.SIGTERM, None)

    monkeypatch.setattr(seekworld.io.images, "open_rgb", terminated)
    with pytest.raises(run._Terminated):
        common._decode(str(tmp_path / "any.png"))
