"""Where an HTTP/1.1 request ends in the bytes received so far: pure functions over bytes, used by
the gunicorn worker (`seekworld.serve.worker`) to read a whole request before a thread takes it.

    end = header_end(buf, searched_up_to)     # -1 while the blank line has not arrived
    length = body_length(buf[:end])           # the body's Content-Length, or None: let a thread read it

Only what is needed to know how many bytes to wait for is read here; gunicorn's own parser still
parses every request and answers malformed ones (a 400 naming the problem). Linear in the bytes.
"""

from __future__ import annotations

__all__ = ["body_length", "header_end"]

_BLANK_LINE = b"\r\n\r\n"


def header_end(buf: bytes | bytearray, searched: int = 0) -> int:
    """The index just past the blank line ending the headers, or -1. `searched`: bytes already
    searched without finding it (a later call looks only at what is new, plus 3 bytes of overlap)."""
    found = buf.find(_BLANK_LINE, max(0, searched - 3))
    return -1 if found < 0 else found + len(_BLANK_LINE)


def body_length(head: bytes | bytearray) -> int | None:
    """The body's length for a request with these headers (request line included): 0 without a
    body, the Content-Length when there is exactly one well-formed one; None when the body's end
    cannot be known from the headers alone or must not be waited for (chunked, `Expect:
    100-continue`, which waits for the server's go-ahead, a duplicate or malformed length, which
    gunicorn refuses)."""
    length: int | None = None
    for line in bytes(head).split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            continue
        name = name.strip().lower()
        if name == b"content-length":
            value = value.strip()
            if length is not None or not value.isdigit() or len(value) > 18:
                return None
            length = int(value)
        elif name in (b"transfer-encoding", b"expect"):
            return None
    return length or 0
