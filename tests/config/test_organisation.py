"""The bundled Da Nang organisation: complete, consistent, and honest about what is illustrative."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable

import pytest

from config.organisation import COMMUNE_TYPES, Organisation, check_organisation

from .conftest import ORG_DIR, nfc


def test_bundled_organisation_loads_without_problems(org: Organisation) -> None:
    assert check_organisation(org) == []
    assert org.roles and org.units and org.jurisdiction and org.officers


def test_all_94_commune_level_units_with_official_codes(
    org: Organisation, shared_units: list[dict[str, str]]
) -> None:
    assert len(shared_units) == 94
    communes = {u.code: u for u in org.communes()}
    assert set(communes) == {row["code"] for row in shared_units}
    for row in shared_units:
        unit = communes[row["code"]]
        assert (nfc(unit.name), unit.type) == (row["name_vi"], row["type"]), row["code"]
        assert unit.parent == "DNG"
        assert unit.source == row["source_url"]
    assert Counter(u.type for u in communes.values()) == Counter(row["type"] for row in shared_units)


def test_provincial_bodies_form_a_tree_under_dng(org: Organisation) -> None:
    assert org.units["DNG"].type == "province_body" and org.units["DNG"].parent is None
    assert org.units["SO-NNMT"].parent == "DNG"
    assert org.units["VPDKDD"].parent == "SO-NNMT"
    for unit in org.units.values():
        if unit.type == "branch":
            assert unit.parent == "VPDKDD", unit.code


def test_every_commune_has_a_branch_and_a_tax_office(org: Organisation) -> None:
    for commune in org.communes():
        branch = org.jurisdiction.get((commune.code, "registration_branch"))
        tax = org.jurisdiction.get((commune.code, "tax_office"))
        assert branch and org.units[branch].type == "branch", commune.code
        assert tax and org.units[tax].type == "tax_office", commune.code
    # Only communes are served through jurisdiction rows.
    assert {c for c, _ in org.jurisdiction} <= {u.code for u in org.communes()}


def test_illustrative_data_is_marked_as_such(org: Organisation) -> None:
    for unit in org.units.values():
        if unit.type in ("branch", "tax_office"):
            assert "ILLUSTRATIVE" in unit.source, unit.code
    with (ORG_DIR / "jurisdiction.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            assert "ILLUSTRATIVE" in row["source"], row


def test_remote_flags(org: Organisation, code_of: Callable[[str], str]) -> None:
    assert org.units[code_of("Bến Giằng")].remote
    assert not org.units[code_of("Hải Châu")].remote
    # Only commune-level units carry the extension, and wards never do (README, "remote").
    for unit in org.units.values():
        if unit.remote:
            assert unit.type == "commune", unit.code


def test_units_of_fully_listed_mountain_districts_are_remote(
    org: Organisation, shared_units: list[dict[str, str]]
) -> None:
    """NOTES §5: QĐ 861 lists every unit of these five districts, so each successor is remote."""
    fully_listed = {
        "Huyện Phước Sơn",
        "Huyện Nam Giang",
        "Huyện Tây Giang",
        "Huyện Nam Trà My",
        "Huyện Đông Giang",
    }
    found = [row for row in shared_units if set(row["former_district_vi"].split(";")) <= fully_listed]
    assert len(found) == 23
    for row in found:
        assert org.units[row["code"]].remote, row["name_vi"]


def test_agency_codes_are_unique_and_well_formed(org: Organisation) -> None:
    codes = [u.agency_code for u in org.units.values() if u.agency_code]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H\d{2}", code), code
    for unit in org.units.values():
        if unit.type in (*COMMUNE_TYPES, "branch", "province_body"):
            assert unit.agency_code, f"{unit.code} receives dossiers and needs an agency code"


# (username, role, where): where is a commune name (its unit), "branch:<commune>" / "tax:<commune>"
# (the unit serving that commune), or a provincial unit code.
DEMO_OFFICERS = [
    *[
        (f"{kind}.{slug}", role, commune)
        for slug, commune in [
            ("haichau", "phường Hải Châu"),
            ("bengiang", "xã Bến Giằng"),
            ("tamky", "phường Tam Kỳ"),
            ("haivan", "phường Hải Vân"),
            ("lienchieu", "phường Liên Chiểu"),
        ]
        for kind, role in [
            ("desk", "one_stop_desk"),
            ("land", "commune_land_officer"),
            ("chair", "commune_chairman"),
            ("head", "unit_head"),
        ]
    ],
    ("econ.haichau", "commune_economic_division", "phường Hải Châu"),
    *[
        (f"{kind}.{slug}", role, f"{prefix}:{commune}")
        for slug, commune in [
            ("haichau", "phường Hải Châu"),
            ("bengiang", "xã Bến Giằng"),
            ("tamky", "phường Tam Kỳ"),
            ("haivan", "phường Hải Vân"),
            ("lienchieu", "phường Liên Chiểu"),
        ]
        for kind, role, prefix in [("branch", "registration_branch", "branch"), ("tax", "tax_office", "tax")]
    ],
    ("lro.province", "land_registration_office", "VPDKDD"),
    ("dept.province", "province_land_department", "SO-NNMT"),
    ("supervisor", "supervisor", "SO-NNMT"),
    ("auditor", "auditor", "DNG"),
    ("inspector", "inspector", "SO-NV"),
    ("admin", "admin", "DNG"),
]


@pytest.mark.parametrize(("username", "role", "where"), DEMO_OFFICERS)
def test_demo_officer(
    org: Organisation, code_of: Callable[[str], str], username: str, role: str, where: str
) -> None:
    officers = {o.username: o for o in org.officers}
    assert username in officers
    officer = officers[username]
    if where.startswith(("branch:", "tax:")):
        kind, commune = where.split(":", 1)
        expected = org.jurisdiction[
            (code_of(commune), "registration_branch" if kind == "branch" else "tax_office")
        ]
    elif " " in where:
        expected = code_of(where)
    else:
        expected = where
    assert officer.unit == expected
    assert role in officer.roles
    assert officer.name and officer.name != username


def test_demo_usernames_are_unique(org: Organisation) -> None:
    names = [o.username for o in org.officers]
    assert len(names) == len(set(names))


def test_every_unit_of_a_demo_officer_has_a_head(org: Organisation) -> None:
    heads = {o.unit for o in org.officers if "unit_head" in o.roles}
    missing = {o.unit for o in org.officers} - heads
    assert not missing, f"units without a unit_head: {sorted(missing)}"
