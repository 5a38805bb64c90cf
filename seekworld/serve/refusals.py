"""Refused `/get_reward` requests, logged where the user looks: the reward server's log.

Upstream OpenRLHF's and lmm-r1's clients log a refusal as a bare status ("400 Client Error ...")
and retry five times; the JSON reason the server sends never reaches the trainer's log. So the
server logs each refusal itself, at WARNING, on one line (the server's log format adds UTC time,
PID and level): status, reason (the label of `seekworld_request_errors_total` in `/metrics`), the
client's address, and the first `MESSAGE_CHARS` characters of the reason's text (which names the
problem; it holds no label or answer, at most a short prompt prefix for an unknown lmm-r1 prompt).

A misconfigured run refuses thousands of requests a step: per reason, one line at most every
`every_s` seconds, the next one saying how many were not logged. `/metrics` counts every one.
"""

from __future__ import annotations

import logging

from seekworld.io.log_limit import LogLimiter, one_line

__all__ = ["MESSAGE_CHARS", "RefusalLog"]

MESSAGE_CHARS = 160


class RefusalLog:
    def __init__(self, logger: logging.Logger, limiter: LogLimiter | None = None) -> None:
        self.logger = logger
        self.limiter = limiter or LogLimiter(every_s=10.0)

    def note(self, status: int, reason: str, message: str, client: str | None) -> bool:
        """Log this refusal unless the limiter holds it back. Returns whether a line was written."""
        held = self.limiter.allow(reason)
        if held is None:
            return False
        more = f" [{held} more '{reason}' since the last line]" if held else ""
        self.logger.warning(
            "refused /get_reward: %d %s from %s: %s%s",
            status,
            reason,
            client or "?",
            one_line(message, MESSAGE_CHARS),
            more,
        )
        return True
