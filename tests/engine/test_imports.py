"""Every module of the engine (and of the API) can be the first one a fresh interpreter imports.

A worker process of `verify --all` is spawned, not forked: it unpickles `engine.integrity._verify_chunk`
and so imports engine.integrity before anything else. An import cycle that the usual order (CLI →
runtime → history) hides then breaks the worker; it did once (history → runtime → commands → history).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from config.settings import ROOT


def modules(package: str) -> list[str]:
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] != "__main__":  # running it is the CLI itself, not an import
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def import_alone(module: str) -> tuple[str, int, str]:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    return module, done.returncode, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def test_each_module_imports_first_in_a_fresh_interpreter() -> None:
    names = modules("engine") + modules("api")
    assert "engine.history" in names and "engine.integrity" in names and len(names) > 60
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(import_alone, names))
    broken = [f"{m}: {err}" for m, code, err in results if code != 0]
    assert not broken, broken


def imported_names(package: str) -> dict[str, set[str]]:
    """Every absolute module name each file of `package` imports (read from its syntax, not by running it)."""
    import ast

    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_bench_does_not_import_tests() -> None:
    """The benches ship with the product (`landflow bench`); the tests folder does not."""
    offending = {path: sorted(n for n in names if n == "tests" or n.startswith("tests."))
                 for path, names in imported_names("bench").items()}
    assert not {p: n for p, n in offending.items() if n}, offending
