"""One format for every line the reward server logs, gunicorn's and ours: UTC time, PID, level
name, logger, message (`LOG_FORMAT`). gunicorn loads `ServerLogger` by path (`logger_class`).

    2026-11-27T16:31:49Z [4711] [WARNING] seekworld.serve.app: refused /get_reward: 400 ...
"""

from __future__ import annotations

import logging
import time
from typing import Any

from gunicorn.glogging import Logger

__all__ = ["LOG_FORMAT", "ServerLogger", "UTCFormatter"]

LOG_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"


class UTCFormatter(logging.Formatter):
    """Times in UTC, ISO 8601 (`2026-11-27T16:31:49Z`)."""

    converter = time.gmtime

    def __init__(self, fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt, datefmt="%Y-%m-%dT%H:%M:%SZ")


class ServerLogger(Logger):
    """gunicorn's logger with its handlers in `LOG_FORMAT`; the `seekworld` loggers write through
    the error log's handlers (stderr by default) at the server's log level. The access log stays
    as gunicorn sets it (off unless `--access-log`)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = UTCFormatter()
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.setFormatter(formatter)
        ours = logging.getLogger("seekworld")
        for handler in [h for h in ours.handlers if getattr(h, "seekworld_server", False)]:
            ours.removeHandler(handler)  # a configuration reload runs setup again
        for handler in self.error_log.handlers:
            handler.seekworld_server = True  # type: ignore[attr-defined]
            ours.addHandler(handler)
        ours.setLevel(self.loglevel)
        ours.propagate = False
