"""`seekworld serve`: the reward server for upstream OpenRLHF (`--reward.remote_url`), under gunicorn.

Its flags are generated from the settings table (`seekworld.rewards.settings.RewardSettings`): each
takes its value from the flag, else its SEEKWORLD_* variable, else the table's default.
"""

from __future__ import annotations

import argparse


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from seekworld.rewards.settings import RewardSettings

    p = sub.add_parser(
        "serve",
        help="reward server speaking upstream OpenRLHF's /get_reward protocol",
        description="Serve POST /get_reward, GET /health and GET /metrics under gunicorn. Point "
        "training at it with --reward.remote_url http://HOST:PORT/get_reward (add ?token=T when "
        "--token is set). Each flag falls back to the environment variable its help names. Secrets "
        "are read from flags or environment, never from files.",
    )
    RewardSettings.add_arguments(p)
    return p


def run(args: argparse.Namespace) -> int:
    from seekworld.errors import UsageError
    from seekworld.rewards.settings import RewardSettings
    from seekworld.serve.runner import ServerOptions, serve

    settings = RewardSettings.from_args(args)
    config = settings.service_config()
    if not settings.token and not is_loopback(settings.host) and not settings.allow_no_token:
        raise UsageError(
            f"--host {settings.host} is reachable from other machines: set --token "
            "(or $SEEKWORLD_TOKEN), or pass --allow-no-token to serve it open"
        )
    options = ServerOptions(
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        threads=settings.threads,
        worker_class=settings.worker_class,
        token=settings.token or None,
        max_body_bytes=int(settings.max_body_mb * 1024 * 1024),
        log_level=settings.log_level,
        access_log=settings.access_log,
        body_timeout_s=settings.body_timeout,
        protocol=settings.protocol,
        dataset=settings.dataset,
    )
    return serve(config, options)  # a bad --dataset raises LabelLookupError before binding
