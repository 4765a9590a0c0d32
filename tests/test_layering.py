"""The import rules of DESIGN.md, as named checks: only store/ imports SQLAlchemy/Alembic,
only server/ imports FastAPI/Starlette, the analysis core imports neither layer, the service
layer (anfu/service/) sits between them (no call from a lower layer up: store and workflow
never import service or server, service never imports server), and no module-level import
cycle exists anywhere in the package."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "anfu"

RULES = {
    ("sqlalchemy", "alembic", "psycopg"): "store",
    ("fastapi", "starlette", "uvicorn", "sse_starlette"): "server",
}
CORE = ("components", "backends", "text", "rules", "training", "types.py", "pipeline.py", "events.py")
# the analysis core (components included) imports no workflow, service or delivery code: the
# events it raises live in anfu/events.py (issue 11)
CORE_FORBIDDEN = ("anfu.server", "anfu.store", "anfu.workflow", "anfu.service", "anfu.connectors")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and node.module:
                # relative: resolve against the file's package
                rel = path.relative_to(PACKAGE).parent.parts
                base = list(rel[: len(rel) - node.level + 1])
                names.add(".".join(["anfu", *base, node.module]))
            elif node.module:
                names.add(node.module)
    return names


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layering(path: Path) -> None:
    top = path.relative_to(PACKAGE).parts[0]
    for module in _imports(path):
        root = module.split(".")[0]
        for libs, owner in RULES.items():
            if root in libs:
                assert top == owner, f"{path} imports {module}: only anfu/{owner}/ may"
    if top in CORE:
        for module in _imports(path):
            assert not module.startswith(CORE_FORBIDDEN), f"{path} (analysis core) imports {module}"


def test_layering_sees_violations(tmp_path: Path) -> None:
    """The checker itself must notice a forbidden import."""
    bad = PACKAGE / "components" / "_layering_probe.py"
    assert not bad.exists()
    probe = tmp_path / "probe.py"
    probe.write_text("import sqlalchemy\nfrom fastapi import FastAPI\n", encoding="utf-8")
    assert {"sqlalchemy", "fastapi"} <= _imports(probe)


# layers, lowest first: a package may import its own layer or lower ones, never higher
UPWARD = {
    "store": ("anfu.service", "anfu.server", "anfu.connectors"),
    "workflow": ("anfu.store", "anfu.service", "anfu.server", "anfu.connectors"),
    "service": ("anfu.server", "anfu.connectors"),
    "connectors": ("anfu.server",),
}


@pytest.mark.parametrize("path", [p for p in FILES if p.relative_to(PACKAGE).parts[0] in UPWARD],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_upward(path: Path) -> None:
    top = path.relative_to(PACKAGE).parts[0]
    for module in _imports(path):
        assert not module.startswith(UPWARD[top]), f"{path} (anfu/{top}) imports {module}, a higher layer"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """anfu modules imported when `path` is imported (module level, TYPE_CHECKING skipped);
    `from pkg import sub` counts as importing the submodule when it is one."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "finalbody", []))
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    found.add(sub if sub in modules else source)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {m for m in found if m in modules and m != me}


def import_cycles(files: list[Path]) -> list[list[str]]:
    """Strongly connected groups (> 1 module) of the module-level import graph."""
    modules = {_module_name(p): p for p in files}
    graph = {name: _top_level_imports(path, set(modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        # iterative Tarjan: (node, iterator over its edges)
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
    return cycles


def test_no_import_cycles() -> None:
    cycles = import_cycles(FILES)
    assert cycles == [], "module-level import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_cycle_check_sees_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cycle finder itself must notice a -> b -> a (and ignore imports inside functions)."""
    pkg = tmp_path / "anfu" / "probe"
    pkg.mkdir(parents=True)
    (tmp_path / "anfu" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a.py").write_text("from . import b\n", encoding="utf-8")
    (pkg / "b.py").write_text("from .a import thing\n", encoding="utf-8")
    (pkg / "c.py").write_text("def f():\n    from . import a\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "anfu")
    files = sorted((tmp_path / "anfu").rglob("*.py"))
    assert import_cycles(files) == [["anfu.probe.a", "anfu.probe.b"]]


def test_service_layer_is_covered() -> None:
    """anfu/service exists, is checked by the rules above, and holds the turn path and the desk."""
    names = {p.name for p in (PACKAGE / "service").glob("*.py")}
    assert {"turns.py", "desk.py", "live.py", "supervision.py"} <= names
    for path in (PACKAGE / "service").rglob("*.py"):
        for module in _imports(path):
            assert module.split(".")[0] not in ("fastapi", "starlette", "sqlalchemy", "alembic", "psycopg"), (
                f"{path} imports {module}: the service layer is framework-free")
