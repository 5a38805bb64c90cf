"""Domain modules never import an adapter (HTTP server, CLI, framework integrations, launchers)."""

from __future__ import annotations

import ast
from pathlib import Path

import seekworld

ROOT = Path(seekworld.__file__).parent
DOMAIN = ("geo", "rewards", "zoom", "chat.py", "errors.py", "registry.py")
ADAPTERS = ("seekworld.serve", "seekworld.cli", "seekworld.integrations", "seekworld.train", "seekworld.demo")


def imported_modules(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_domain_modules_import_no_adapter():
    files = [p for d in DOMAIN for p in ((ROOT / d).rglob("*.py") if (ROOT / d).is_dir() else [ROOT / d])]
    assert len(files) > 10
    bad = [
        f"{p.relative_to(ROOT.parent)} imports {m}"
        for p in files
        for m in sorted(imported_modules(p))
        if m.startswith(ADAPTERS)
    ]
    assert bad == []
