"""How lmm-r1 calls a reward, in its two behaviours: a stand-in for lmm-r1's trainer (which needs
Ray and GPUs), written by us from reading its code; no lmm-r1 code is copied here.

Read for this (the files and commits):
- **old**: the lmm-r1 0.6.2 copy inside SeekWorld's repository, TheEighthDay/SeekWorld at commit
  70216d64a1a2e578e5696e28131ca43f31004328, `src/lmm-r1/openrlhf/utils/remote_rm_utils.py` and
  `src/lmm-r1/openrlhf/trainer/ppo_utils/experience_maker.py` (the Ray experience maker's
  `make_experience`).
- **current**: lmm-r1 main, TideDra/lmm-r1 at commit f917f186dc327fb2dadfe54f56c0bf409f9414e2
  (version.txt 0.7.3a), `openrlhf/utils/remote_rm_utils.py` and
  `openrlhf/trainer/ppo_utils/experience_maker.py` (`make_experience`). The change came with its
  sync with OpenRLHF (commit 8e6d0e210d11, 2025-03-31, version 0.6.3.post2); the reward file's
  `torch.cat` with 0.7.1 (commit 52498da).

What both do alike: the queries are the decoded sequences (prompt + response, special tokens kept);
an HTTP call POSTs `{"query", "prompts", "labels"}` as JSON with a 180 s timeout, raises on an HTTP
error status, requires `rewards` in the reply, and on any failure logs one line (the exception's
text: for a 4xx the status line, never the body), sleeps 1 s and tries again, 5 tries, then raises
"Request error for 5 times". A reward file is loaded by path and run as a Ray task.

Where they differ:

| | old (0.6.2) | current (0.7.x) |
|---|---|---|
| HTTP batch | one POST per micro-batch, to every URL | the whole rollout split over the URLs |
| HTTP reply | every top-level value through `torch.tensor` | `torch.tensor(reply["rewards"])` only |
| reward file batch | one call per micro-batch | one call per `micro_rollout_batch_size` chunk |
| reward file result | a dict (`rewards` popped, rest logged) or a tensor | tensors joined: `torch.cat` |

The retry sleep is a parameter (1 s in lmm-r1, 0 in tests).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

TRIES = 5


class RequestFailed(Exception):
    """lmm-r1's error after the last try; `client_log` is what it logged before."""

    def __init__(self, message: str, client_log: list[str]) -> None:
        super().__init__(message)
        self.client_log = client_log


@dataclass
class Outcome:
    rewards: torch.Tensor  # one per sample, in order
    logs: dict[str, torch.Tensor] = field(default_factory=dict)  # old only: the other keys
    client_log: list[str] = field(default_factory=list)  # what lmm-r1 would have logged


def _post(url: str, body: dict[str, Any], log: list[str], sleep_s: float, whole_reply: bool) -> Any:
    data = json.dumps(body).encode()
    for _ in range(TRIES):
        try:
            req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=180) as answer:
                reply = json.loads(answer.read())
            assert "rewards" in reply, f"rewards not in {reply}"
            return reply if whole_reply else reply.get("rewards")
        except urllib.error.HTTPError as exc:
            # What the requests library's raise_for_status says: the status line and the URL.
            kind = "Client" if exc.code < 500 else "Server"
            log.append(f"Request error, please check: {exc.code} {kind} Error: {exc.reason} for url: {url}")
        except OSError as exc:
            log.append(f"Request error, please check: {exc}")
        except Exception as exc:
            log.append(f"Unexpected error, please check: {exc}")
        time.sleep(sleep_s)
    raise RequestFailed(f"Request error for {TRIES} times, returning None. Please check the API server.", log)


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def old_http(
    url: str, queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], micro_batch: int,
    sleep_s: float = 0.0,
) -> Outcome:  # fmt: skip
    """lmm-r1 0.6.2 with one `--remote_rm_url` server."""
    out = Outcome(torch.empty(0))
    parts, logs = [], {}
    for part in _chunks(len(queries), micro_batch):
        body = {"query": list(queries[part]), "prompts": list(prompts[part]), "labels": list(labels[part])}
        reply = _post(url, body, out.client_log, sleep_s, whole_reply=True)
        tensors = {k: torch.tensor(v) for k, v in reply.items()}  # a nested value fails here
        parts.append(tensors.pop("rewards"))
        for key, value in tensors.items():
            logs.setdefault(key, []).append(value)
    out.rewards = torch.cat(parts)
    out.logs = {k: torch.cat(v) for k, v in logs.items()}
    return out


def current_http(
    urls: Sequence[str], queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any],
    micro_batch: int, sleep_s: float = 0.0,
) -> Outcome:  # fmt: skip
    """lmm-r1 main: the rollout split evenly over the servers, then re-cut into micro-batches."""
    out = Outcome(torch.empty(0))
    per_server = (len(queries) + len(urls) - 1) // len(urls)
    parts = []
    for url, part in zip(urls, _chunks(len(queries), per_server), strict=False):
        body = {"query": list(queries[part]), "prompts": list(prompts[part]), "labels": list(labels[part])}
        parts.append(torch.tensor(_post(url, body, out.client_log, sleep_s, whole_reply=False)))
    n_micro = len(_chunks(len(queries), micro_batch))
    out.rewards = torch.cat(torch.cat(parts, dim=0).chunk(n_micro))
    return out


def old_reward_file(
    reward_func: Callable[..., Any], queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any],
    micro_batch: int,
) -> Outcome:  # fmt: skip
    """lmm-r1 0.6.2's reward-file path: a dict result has its `rewards` popped, the rest logged."""
    parts, logs = [], {}
    for part in _chunks(len(queries), micro_batch):
        result = reward_func(list(queries[part]), list(prompts[part]), list(labels[part]))
        if isinstance(result, dict):
            parts.append(result.pop("rewards").to("cpu"))
            for key, value in result.items():
                logs.setdefault(key, []).append(value.to("cpu"))
        else:
            parts.append(result.to("cpu"))
    return Outcome(torch.cat(parts), {k: torch.cat(v) for k, v in logs.items()})


def current_reward_file(
    reward_func: Callable[..., Any], queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any],
    micro_batch: int,
) -> Outcome:  # fmt: skip
    """lmm-r1 main's reward-file path: the chunks' results joined with torch.cat (a dict fails)."""
    results = [
        reward_func(list(queries[part]), list(prompts[part]), list(labels[part]))
        for part in _chunks(len(queries), micro_batch)
    ]
    return Outcome(torch.cat(torch.cat(results, dim=0).chunk(len(results))))
