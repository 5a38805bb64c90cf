"""`seekworld serve`: the reward server for upstream OpenRLHF (`--reward.remote_url`), under gunicorn.

Its flags are generated from the settings table (`seekworld.service.settings.RewardSettings`): each
takes its value from the flag, else its SEEKWORLD_* variable, else the table's default.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from seekworld.service.settings import RewardSettings

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
    from seekworld.io.net import is_loopback
    from seekworld.serve.runner import serve
    from seekworld.service.settings import RewardSettings

    settings = RewardSettings.from_args(args)
    config = settings.service_config()
    if not settings.token and not is_loopback(settings.host) and not settings.allow_no_token:
        raise UsageError(
            f"--host {settings.host} is reachable from other machines: set --token "
            "(or $SEEKWORLD_TOKEN), or pass --allow-no-token to serve it open"
        )
    options = settings.server_options()
    return serve(config, options)  # a bad --dataset raises LabelLookupError before binding
