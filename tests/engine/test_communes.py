"""The desk finds a commune by what it types: marks and case do not matter; old names find successors."""

from __future__ import annotations

import pytest

from config.localities import Localities
from config.organisation import load_organisation
from config.settings import ROOT
from engine.communes import find_communes, fold
from engine.org import Directory

ORG = ROOT / "config" / "organisation"


@pytest.fixture(scope="module")
def bundled() -> tuple[Directory, Localities]:
    org = load_organisation(ORG)
    directory = Directory(units=dict(org.units))
    return directory, Localities.load(ORG, org.units)


def test_fold_drops_marks_case_and_spacing() -> None:
    assert fold("  HẢI   Châu ") == "hai chau" == fold("Hải Châu") == fold("hai chau")
    assert fold("Đặc khu Hoàng Sa") == "dac khu hoang sa"


@pytest.mark.parametrize("typed", ["hai chau", "HẢI CHÂU", "Phường Hải Châu", "phuong hai chau", "Hải  châu"])
def test_a_current_ward_is_found_however_it_is_typed(bundled: tuple[Directory, Localities], typed: str) -> None:
    directory, localities = bundled
    found = find_communes(typed, directory, localities)
    assert found and found[0].name == "Hải Châu" and found[0].code == "20242" and found[0].note is None


def test_an_old_ward_name_leads_to_its_successor_with_a_note(bundled: tuple[Directory, Localities]) -> None:
    directory, localities = bundled
    found = find_communes("thach thang", directory, localities)  # phường Thạch Thang, merged into Hải Châu
    assert [m.code for m in found] == ["20242"]
    assert found[0].note and "Thạch Thang" in found[0].note and "01/07/2025" in found[0].note


def test_a_split_old_commune_offers_candidates_and_never_picks(bundled: tuple[Directory, Localities]) -> None:
    directory, localities = bundled
    found = find_communes("Hòa Liên", directory, localities)
    assert len(found) >= 2 and all(m.note and "vị trí thửa đất" in m.note for m in found)


def test_nothing_matches_nonsense(bundled: tuple[Directory, Localities]) -> None:
    directory, localities = bundled
    assert find_communes("zzzz", directory, localities) == []
    assert find_communes("   ", directory, localities) == []
