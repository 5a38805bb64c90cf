"""The import graph of seekworld: no cycle, a leaf plumbing package, domain code free of adapters.

Read from the source (ast), every import counted, including those inside functions: a lazy import
is still a dependency, only a deferred one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "seekworld"

# Domain packages (pure logic and data work) and the adapters that wire them to the outside world.
DOMAIN = (
    "seekworld.geo",
    "seekworld.rewards",
    "seekworld.zoom",
    "seekworld.prepare",
    "seekworld.eval",
    "seekworld.chat",
    "seekworld.errors",
    "seekworld.registry",
)
# Servers, the CLI, framework glue, the demo, and the training launchers.
ADAPTERS = ("seekworld.serve", "seekworld.cli", "seekworld.integrations", "seekworld.demo", "seekworld.train")
# Leaves: they import nothing from seekworld but each other (the error base is a leaf too).
LEAVES = ("seekworld.io", "seekworld.errors")
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


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_graph_is_read():
    graph = _graph()
    assert len(graph) > 50
    assert "seekworld.io.images" in graph["seekworld.prepare.images"]  # the reader sees real edges
    assert "seekworld.geo.continents" in graph["seekworld.eval.scoring"]


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_io_and_errors_are_leaves():
    graph = _graph()
    leaks = {(m, d) for m, deps in graph.items() if _under(m, LEAVES) for d in deps}
    assert {(m, d) for m, d in leaks if not _under(d, LEAVES)} == set()


def test_domain_imports_no_adapter():
    graph = _graph()
    bad = {
        (m, d)
        for m, deps in graph.items()
        if _under(m, DOMAIN) and not _under(m, NOT_CORE)
        for d in deps
        if _under(d, ADAPTERS)
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
