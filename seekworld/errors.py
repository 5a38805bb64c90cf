"""The one error base of seekworld.

Library code raises a subclass of `SeekworldError` for anything a user can fix (bad input, bad
config, a missing file); the CLI catches the base once and prints `seekworld CMD: message`, exit 2.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["SeekworldError", "UnknownNameError", "UsageError"]


class SeekworldError(Exception):
    """A problem the user can fix; `str(exc)` is the whole message."""


class UnknownNameError(SeekworldError, KeyError):
    """An unknown registry name (reward variant, format, engine...).

    Also a `KeyError` so dict-style callers keep working; `str()` is the plain message, not
    `KeyError`'s quoted repr.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UsageError(SeekworldError, ValueError):
    """A flag or option value that cannot work (out of range, missing, contradictory)."""
