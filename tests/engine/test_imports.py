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
