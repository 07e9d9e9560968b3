"""The vendored bpmn-js Modeler: the committed files are what SHA256SUMS says, and
scripts/build-modeler.sh reproduces them byte for byte from the pinned node_modules
(scripts/test-tools.sh installs node_modules from package-lock.json)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from config.settings import ROOT

VENDOR = ROOT / "api" / "web" / "static" / "vendor" / "bpmn-js"


def sums(folder: Path) -> dict[str, str]:
    lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}


def test_committed_files_match_their_sums() -> None:
    listed = sums(VENDOR)
    assert "bpmn-modeler.production.min.js" in listed and "assets/bpmn-js.css" in listed
    assert files(VENDOR) == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_the_bundle_is_the_pinned_version() -> None:
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["devDependencies"]["bpmn-js"]
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"]["node_modules/bpmn-js"]["version"] == pinned
    head = (VENDOR / "bpmn-modeler.production.min.js").read_text(encoding="utf-8")[:200]
    assert f"bpmn-modeler v{pinned}" in head


def test_the_script_reproduces_the_committed_files(tmp_path: Path) -> None:
    out = tmp_path / "bpmn-js"
    subprocess.run(["sh", str(ROOT / "scripts" / "build-modeler.sh"), "--no-install", str(out)], cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    assert (out / "SHA256SUMS").read_bytes() == (VENDOR / "SHA256SUMS").read_bytes()
    assert files(out) == files(VENDOR)
    for name in files(VENDOR):
        assert (out / name).read_bytes() == (VENDOR / name).read_bytes(), name
