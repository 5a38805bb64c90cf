"""Docs that name the code's surface: OpenRLHF flags exist in upstream's parser, /health's keys are
the ones the server sends, `seekworld --help` names both training backends."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from seekworld.cli.main import build_parser
from seekworld.service.settings import RewardSettings

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "examples").rglob("*.sh")])
# Upstream OpenRLHF 0.11.2's flag groups (`--actor.adam.lr`); `--logger.wandb_*` names a family.
UPSTREAM_FLAG = re.compile(
    r"(?<![\w.-])--((?:actor|critic|ref|reward|rollout|train|algo|data|ds|vllm|ckpt|logger|eval)\.[\w.]+)(\*?)"
)


def test_every_openrlhf_flag_in_the_docs_is_upstreams():
    from seekworld.train.upstream_flags import UpstreamSourceError, read_upstream_flags

    try:
        flags = read_upstream_flags()
    except UpstreamSourceError as exc:
        pytest.skip(f"upstream OpenRLHF is not installed: {exc}")
    named, wrong = 0, []
    for path in DOCS:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in UPSTREAM_FLAG.finditer(line):
                if match.group(2):  # a family, `--logger.wandb_*`
                    continue
                named += 1
                flag = "--" + match.group(1).rstrip(".")
                if flag not in flags.options:
                    wrong.append(f"{path.relative_to(REPO)}:{lineno}: {flag}")
    assert named > 30  # the pattern still finds the docs' flags
    assert not wrong, f"not in upstream's train_ppo_ray parser: {wrong}"


def test_health_keys_in_docs_are_the_servers():
    text = (REPO / "docs" / "serve.md").read_text(encoding="utf-8")
    (line,) = re.findall(r"`GET /health` → `(\{.+?\})`", text.replace("\n", " "))
    documented = set(re.findall(r'"(\w+)": ', line))
    config = RewardSettings().service_config()
    sent = {"status", *json.loads(json.dumps(config.describe()))}
    assert documented == sent


def test_top_help_names_both_training_backends():
    parser = build_parser()
    help_text = " ".join(parser.format_help().split())
    assert "train" in help_text and "OpenRLHF" in help_text and "TRL" in help_text
    train_help = next(a for a in parser._subparsers._group_actions[0]._choices_actions if a.dest == "train")
    assert "OpenRLHF" in train_help.help and "TRL" in train_help.help
