"""Start and stop what training needs beside OpenRLHF: reward server(s) and the judge.

Every process is started in its own session (process group), its PID written to
`<log_dir>/<name>.pid`, and stopped by signalling exactly that group: nothing is looked up by
name, so other users' servers on a shared machine are never touched. A PID file is removed once its
process is gone, so whatever is left in the log folder after a crash names what to stop.

    with Services(config, log_dir) as services:
        services.start()          # reward server(s) and judge as configured; waits for health
        services.reward_url       # what --reward.remote_url gets
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from seekworld.errors import SeekworldError
from seekworld.io.net import is_loopback
from seekworld.service.settings import RewardSettings
from seekworld.train.config import TrainConfig

__all__ = [
    "LaunchError",
    "ManagedProcess",
    "Services",
    "free_port",
    "http_json",
    "judge_argv",
    "reward_env",
    "reward_func_path",
    "reward_server_argv",
    "reward_settings",
    "stop_process_group",
    "wait_http_ok",
]


class LaunchError(SeekworldError, RuntimeError):
    """A service that did not start or did not become healthy; the message says where to look."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now on `host` (another process could take it before it is used)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def http_json(url: str, payload: Any | None = None, timeout: float = 10.0) -> Any:
    """GET (payload None) or POST JSON; the decoded JSON answer. Raises OSError/ValueError."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    # Local services only: never go through a proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body else None


def wait_http_ok(
    url: str, deadline_s: float, process: subprocess.Popen[bytes] | None = None, log: Path | None = None
) -> None:
    """Poll `url` until it answers 2xx; LaunchError at the deadline or if `process` exits first."""
    end = time.monotonic() + deadline_s
    last = "no answer"
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise LaunchError(f"exited with status {process.returncode} before {url} answered" + _tail(log))
        try:
            http_json(url, timeout=2.0)
            return
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 405):  # up, without a /health route (a reward server not ours)
                return
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:  # refused, timeout, non-JSON while starting
            last = str(getattr(exc, "reason", exc))
        time.sleep(0.25)
    raise LaunchError(f"{url} did not answer within {deadline_s:.0f} s (last: {last})" + _tail(log))


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.is_file():
        return ""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {log} ---\n" + "\n".join(text)


def stop_process_group(pid: int, grace_s: float = 15.0) -> bool:
    """SIGTERM the process group led by `pid`, then SIGKILL after `grace_s`. True if it was running."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    end = time.monotonic() + grace_s
    while time.monotonic() < end:
        if not _group_alive(pid):
            return True
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


def _group_alive(pgid: int) -> bool:
    # Reap our own exited leader first: a zombie still counts as a member of its group.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    log: Path
    pid_file: Path
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            # start_new_session: the process leads its own group, so stopping it reaches its
            # children too (gunicorn workers, vLLM engine processes) and nothing else.
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self.env,
            )
        self.pid_file.write_text(f"{self.process.pid}\n", encoding="utf-8")
        # pids.log keeps every start (the .pid file goes once the process is stopped).
        with open(self.pid_file.parent / "pids.log", "a", encoding="utf-8") as history:
            history.write(f"{self.name} {self.process.pid} {shlex.join(self.argv)}\n")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process_group(self.process.pid)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL was sent to the group
            pass
        self.pid_file.unlink(missing_ok=True)
        self.process = None


def reward_func_path() -> str:
    """The in-process reward file upstream loads by path (located without running it)."""
    import importlib.util

    spec = importlib.util.find_spec("seekworld.integrations.openrlhf.reward_func")
    if spec is None or spec.origin is None:
        raise LaunchError("seekworld.integrations.openrlhf.reward_func is not installed")
    return spec.origin


def judge_base_url(config: TrainConfig) -> str | None:
    """The judge's OpenAI-compatible base URL (…/v1), or None without a judge."""
    mode = config["judge.mode"]
    if mode == "url":
        return config["judge.url"].rstrip("/")
    if mode == "start":
        return f"http://{_url_host(config['judge.host'])}:{config['judge.port']}/v1"
    return None


def reward_settings(config: TrainConfig, **given: Any) -> RewardSettings:
    """The reward-service settings this config asks for (the judge's URL filled in)."""
    return RewardSettings.from_train(config, judge_url=judge_base_url(config), **given)


def _groups(config: TrainConfig) -> tuple[str, ...]:
    # Judge settings are passed on only when there is a judge.
    return ("service", "judge") if judge_base_url(config) else ("service",)


def reward_env(config: TrainConfig) -> dict[str, str]:
    """SEEKWORLD_* variables that configure the in-process reward file like the server.

    Every setting the config holds is passed explicitly, so a stray variable in the shell that
    starts Ray cannot configure the reward differently from the config.
    """
    return reward_settings(config).to_env(_groups(config))


def reward_server_argv(config: TrainConfig, port: int, log_dir: Path | None = None) -> list[str]:
    """`seekworld serve ...` for one reward server of this config (every setting explicit)."""
    argv = [sys.executable, "-m", "seekworld", "serve", "--host", config["reward.host"], "--port", str(port)]
    argv += ["--workers", str(config["reward.workers"])]
    settings = reward_settings(config, log_dir=None if log_dir is None else str(log_dir))
    return argv + settings.to_argv(_groups(config))


def judge_argv(config: TrainConfig) -> list[str]:
    """`vllm serve MODEL ...` for the judge (its GPUs are set through CUDA_VISIBLE_DEVICES)."""
    gpus = [g for g in config["judge.gpus"].split(",") if g.strip()]
    # The vllm next to this interpreter (a venv not on PATH), else the one on PATH.
    sibling = Path(sys.executable).with_name("vllm")
    argv = [
        str(sibling) if sibling.is_file() else "vllm",
        "serve",
        config["judge.model"],
        "--host",
        config["judge.host"],
        "--port",
        str(config["judge.port"]),
    ]
    argv += ["--served-model-name", config["judge.model"]]
    argv += ["--gpu-memory-utilization", str(config["judge.gpu_memory_utilization"])]
    if len(gpus) > 1:
        argv += ["--tensor-parallel-size", str(len(gpus))]
    return argv + list(config["judge.extra_args"])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _public_host(config: TrainConfig) -> str:
    if config["reward.public_host"]:
        return config["reward.public_host"]
    host = config["reward.host"]
    if host not in ("0.0.0.0", "::", ""):
        return host
    # Bound everywhere: give the other nodes the address this machine reaches the Ray head from
    # (a UDP connect sends nothing); gethostbyname(hostname) is often 127.0.1.1.
    head = os.environ.get("RAY_ADDRESS", "").removeprefix("ray://").rsplit(":", 1)[0]
    address = None
    if head and head not in ("auto", "local"):
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((head, 1))
            address = s.getsockname()[0]
    address = address or socket.gethostbyname(socket.gethostname())
    if address.startswith("127.") and config["cluster.nodes"] > 1:
        raise LaunchError(
            f"reward.host={host}: this machine's address resolves to {address}, which other nodes "
            "cannot reach; set reward.public_host to an address they can"
        )
    return address


@dataclass
class Services:
    """The reward server(s) and judge one training run needs, started and stopped together."""

    config: TrainConfig
    log_dir: Path
    processes: list[ManagedProcess] = field(default_factory=list)
    reward_urls: list[str] = field(default_factory=list)

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def reward_url(self) -> str:
        """The value of --reward.remote_url: comma-joined URLs, or the reward file's path."""
        return ",".join(self.reward_urls)

    def start(self) -> None:
        """Start what the config asks for and wait until each answers; LaunchError otherwise."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.config["judge.mode"] == "start":
            self._start_judge()
        mode = self.config["reward.mode"]
        if mode == "url":
            self.reward_urls = [u.strip() for u in self.config["reward.url"].split(",") if u.strip()]
            for url in self.reward_urls:
                wait_http_ok(_health_url(url), self.config["reward.startup_timeout_s"])
        elif mode == "file":
            self.reward_urls = [reward_func_path()]
        else:
            self._start_reward_servers()

    def _start_judge(self) -> None:
        env = dict(os.environ, CUDA_VISIBLE_DEVICES=self.config["judge.gpus"])
        proc = ManagedProcess(
            "judge", judge_argv(self.config), self.log_dir / "judge.log", self.log_dir / "judge.pid", env=env
        )
        self.processes.append(proc)
        try:
            proc.start()
        except OSError as exc:
            raise LaunchError(f"cannot start the judge ({proc.argv[0]}): {exc.strerror or exc}") from None
        url = f"http://{_url_host(self.config['judge.host'])}:{self.config['judge.port']}/health"
        try:
            wait_http_ok(url, self.config["judge.startup_timeout_s"], proc.process, proc.log)
        except LaunchError as exc:
            raise LaunchError(f"judge: {exc}") from None

    def _start_reward_servers(self) -> None:
        host = self.config["reward.host"]
        public = _url_host(_public_host(self.config))
        port = self.config["reward.port"]
        # Reachable from other machines: a fresh token per run, given to the server through its
        # environment (not argv, which `ps` shows) and to upstream in the URL (its client sends no
        # headers). On loopback no token is needed.
        token = None if is_loopback(host) else secrets.token_urlsafe(24)
        env = {**os.environ, "SEEKWORLD_TOKEN": token} if token else None
        query = f"?token={token}" if token else ""
        started = []
        for i in range(self.config["reward.num_servers"]):
            p = (port + i) if port else free_port(host)
            name = "reward_server" if self.config["reward.num_servers"] == 1 else f"reward_server_{i}"
            audit = self.log_dir / f"{name}_audit"
            proc = ManagedProcess(
                name,
                reward_server_argv(self.config, p, audit),
                self.log_dir / f"{name}.log",
                self.log_dir / f"{name}.pid",
                env=env,
            )
            self.processes.append(proc)
            proc.start()
            started.append((proc, p))
            self.reward_urls.append(f"http://{public}:{p}/get_reward{query}")
        for proc, p in started:
            try:
                wait_http_ok(
                    f"http://{_url_host(_probe_host(host))}:{p}/health",
                    self.config["reward.startup_timeout_s"],
                    proc.process,
                    proc.log,
                )
            except LaunchError as exc:
                raise LaunchError(f"{proc.name} (seekworld serve, pid {proc.pid}): {exc}") from None

    def pids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self.processes if p.pid is not None}

    def stop(self) -> None:
        """Stop everything this object started, newest first (reward servers before the judge)."""
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()


def _probe_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def _health_url(reward_url: str) -> str:
    """http://h:p/get_reward?token=x -> http://h:p/health?token=x"""
    base, _, query = reward_url.partition("?")
    root = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{root}/health" + (f"?{query}" if query else "")
