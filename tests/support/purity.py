"""Guards for the tests that need no database: what a module imports (read from its syntax, following
its own imports within the repository, not its package's __init__), and a tripwire on every driver."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import ROOT


def _module_path(name: str) -> str | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return str(candidate)
    return None


def import_closure(module: str) -> set[str]:
    """Every module `module` imports, directly or through the repository's modules it imports."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_path(name)
        if path is None:
            continue  # a library: named, not followed
        package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1])
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                if _in_type_checking(node, path):
                    continue
                todo.append(target)
                todo += [f"{target}.{alias.name}" for alias in node.names if _module_path(f"{target}.{alias.name}")]
    return seen - {module}


_TYPE_ONLY: dict[str, set[int]] = {}


def _in_type_checking(node: ast.ImportFrom, path: str) -> bool:
    """Imports under `if TYPE_CHECKING:` are for annotations only: never run."""
    if path not in _TYPE_ONLY:
        lines: set[int] = set()
        for stmt in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            if isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Name) and stmt.test.id == "TYPE_CHECKING":
                for inner in stmt.body:
                    lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
        _TYPE_ONLY[path] = lines
    return node.lineno in _TYPE_ONLY[path]


@pytest.fixture
def no_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a SQLite or PostgreSQL connection fails the test."""
    import sqlite3
    import sqlite3.dbapi2

    import psycopg

    def tripwire(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a unit test without a database opened a connection")

    monkeypatch.setattr(sqlite3, "connect", tripwire)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", tripwire)
    monkeypatch.setattr(psycopg, "connect", tripwire)
    monkeypatch.setattr(psycopg.Connection, "connect", tripwire)
    yield
