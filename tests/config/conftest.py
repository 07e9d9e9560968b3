"""Fixtures for the organisation tests.

Expected values come from the shared reference data (the sources the bundled files were built from),
not from the bundled files or the code under test, so a wrong row in either makes a test fail.
"""

from __future__ import annotations

import csv
import os
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from config.localities import Localities
from config.organisation import Organisation, load_organisation

ROOT = Path(__file__).resolve().parents[2]
ORG_DIR = ROOT / "config" / "organisation"
SHARED_DIR = Path(os.environ.get("LANDFLOW_SHARED_DATA", "/work/shared/data/danang"))
# The resolution's type words before a new unit's name (old_units_2025.csv, column new_unit_vi).
NEW_TYPES = {"phường": "ward", "xã": "commune", "đặc khu": "special_zone"}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _read_shared(name: str) -> list[dict[str, str]]:
    path = SHARED_DIR / name
    if not path.exists():
        pytest.skip(f"reference data {path} not found (set LANDFLOW_SHARED_DATA)")
    with path.open(encoding="utf-8", newline="") as fh:
        return [{k: nfc(v) for k, v in row.items()} for row in csv.DictReader(fh)]


@pytest.fixture(scope="session")
def shared_units() -> list[dict[str, str]]:
    """units_2025.csv: the 94 units of Resolution 1659 with their statistics codes."""
    return _read_shared("units_2025.csv")


@pytest.fixture(scope="session")
def shared_old_units() -> list[dict[str, str]]:
    """old_units_2025.csv: the units of 30 June 2025 and where each went."""
    return _read_shared("old_units_2025.csv")


@pytest.fixture(scope="session")
def code_of(shared_units: list[dict[str, str]]) -> Callable[[str], str]:
    """Code of a new unit by name ("Bến Giằng") or labelled name ("xã Bến Giằng"), from the shared data."""

    def lookup(label: str) -> str:
        label = nfc(label)
        utype = None
        for word, t in NEW_TYPES.items():
            if label.startswith(word + " "):
                label, utype = label[len(word) + 1 :], t
        found = [u["code"] for u in shared_units if u["name_vi"] == label and utype in (None, u["type"])]
        assert len(found) == 1, f"{label!r} ({utype}) is not exactly one unit in units_2025.csv"
        return found[0]

    return lookup


@pytest.fixture(scope="session")
def org() -> Organisation:
    return load_organisation(ORG_DIR)


@pytest.fixture(scope="session")
def localities(org: Organisation) -> Localities:
    return Localities.load(ORG_DIR, org.units)
