"""The import rules of DESIGN.md: only store/ imports SQLAlchemy/Alembic, only server/
imports FastAPI/Starlette, and the analysis core imports neither layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "anfu"

RULES = {
    ("sqlalchemy", "alembic", "psycopg"): "store",
    ("fastapi", "starlette", "uvicorn", "sse_starlette"): "server",
}
CORE = ("components", "backends", "text", "rules", "training", "types.py", "pipeline.py")


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
            assert not module.startswith(("anfu.server", "anfu.store")), (
                f"{path} (analysis core) imports {module}")


def test_layering_sees_violations(tmp_path: Path) -> None:
    """The checker itself must notice a forbidden import."""
    bad = PACKAGE / "components" / "_layering_probe.py"
    assert not bad.exists()
    probe = tmp_path / "probe.py"
    probe.write_text("import sqlalchemy\nfrom fastapi import FastAPI\n", encoding="utf-8")
    assert {"sqlalchemy", "fastapi"} <= _imports(probe)
