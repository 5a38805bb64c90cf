"""The import graph of seekworld: no cycle, a leaf plumbing package, domain code free of adapters.

Read from the source (ast), every import counted, including those inside functions: a lazy import
is still a dependency, only a deferred one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "seekworld"

# The layers, lowest first. Each module belongs to exactly one (test_every_module_has_a_layer), and
# imports only from its own layer and the ones below (test_imports_go_down_the_layers).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Leaves: the standard library only (the error base, I/O helpers, the version, the canonical
    # reading of text).
    ("leaf", ("seekworld.errors", "seekworld.io", "seekworld._version", "seekworld.text")),
    # Pure logic and data work: the gazetteer, the rewards, the zoom protocol, data preparation,
    # evaluation's core, SFT data, traces.
    (
        "domain",
        (
            "seekworld.registry",
            "seekworld.layered_config",
            "seekworld.chat",
            "seekworld.geo",
            "seekworld.rewards",
            "seekworld.zoom",
            "seekworld.prepare",
            "seekworld.eval",
            "seekworld.sft",
            "seekworld.traces",
        ),
    ),
    # The reward service: settings, wire formats, the service object (no HTTP, no framework).
    ("service", ("seekworld.service",)),
    # The launchers: `seekworld train`'s config, preflight and the OpenRLHF launch.
    ("train", ("seekworld.train",)),
    # Framework and server glue, the CLI, the demo, the package-top API.
    (
        "adapter",
        (
            "seekworld.serve",
            "seekworld.integrations",
            "seekworld.cli",
            "seekworld.demo",
            "seekworld.__main__",
        ),
    ),
    ("api", ("seekworld",)),
)
# Eval's adapters: the engines call model servers and libraries, not part of eval's core.
NOT_CORE = ("seekworld.eval.engines",)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in ROOT.rglob("*.py")}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative import
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    deps.add(sub if sub in modules else target)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _under(name: str, prefixes: str | tuple[str, ...]) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_graph_is_read():
    graph = _graph()
    assert len(graph) > 50
    assert "seekworld.io.images" in graph["seekworld.prepare.images"]  # the reader sees real edges
    assert "seekworld.geo.continents" in graph["seekworld.eval.scoring"]


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def _layer(module: str) -> int:
    """Index of the most specific layer prefix naming `module`."""
    best, rank = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if _under(module, p) and len(p) > best:
                best, rank = len(p), i
    return rank


def test_every_module_has_a_layer():
    assert [m for m in _graph() if _layer(m) < 0] == []


def test_imports_go_down_the_layers():
    graph = _graph()
    up = {
        (m, d) for m, deps in graph.items() if not _under(m, NOT_CORE) for d in deps if _layer(d) > _layer(m)
    }
    assert up == set()


def test_leaves_import_only_leaves():
    graph = _graph()
    assert {(m, d) for m, deps in graph.items() if _layer(m) == 0 for d in deps if _layer(d) != 0} == set()


def test_training_sft_and_rewards_know_no_framework_glue():
    """`seekworld train` reaches TRL only through the CLI; the rewards and SFT data never import it."""
    graph = _graph()
    bad = {
        (m, d)
        for m, deps in graph.items()
        if _under(m, ("seekworld.train", "seekworld.sft", "seekworld.rewards", "seekworld.service"))
        for d in deps
        if _under(d, ("seekworld.integrations", "seekworld.serve", "seekworld.cli"))
    }
    assert bad == set()


def test_zoom_and_eval_do_not_reach_into_prepare():
    """Image sizing comes from seekworld.io, continents from seekworld.geo; eval borrows only the
    training prompt template (prepare.prompts) so predict asks what training asked."""
    graph = _graph()
    bad = {
        (m, d)
        for m, deps in graph.items()
        if _under(m, ("seekworld.zoom", "seekworld.eval"))
        for d in deps
        if _under(d, ("seekworld.prepare",)) and d != "seekworld.prepare.prompts"
    }
    assert bad == set()
