"""The README a newcomer reads: every relative link and anchor resolves; hardware needs come first."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """The anchor MkDocs (Python-Markdown's toc) gives a heading."""
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"[\s]+", "-", text).strip("-")


def test_every_relative_link_and_anchor_resolves():
    checked = 0
    for target in LINK.findall(README):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = REPO / path
        assert file.exists(), f"README links to missing {path}"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), flags=re.M)
            assert anchor in {slug(h) for h in headings}, f"README links to missing anchor {target}"
        checked += 1
    assert checked >= 10  # the docs map is there


def test_hardware_needs_come_before_install():
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    assert headings[0].startswith("Hardware"), headings
    assert "driver ≥ 580" in README.split("## Install")[0]
