"""Successor look-up for transitional dossiers.

Expected successors come from the shared old_units_2025.csv / units_2025.csv and from the facts in
NOTES.vi.md (§2–4), never from the look-up itself.
"""

from __future__ import annotations

import shutil
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from config.localities import Ambiguous, Localities, Successor
from config.organisation import Organisation

from .conftest import ORG_DIR

# Names whose successor is not one unit even with the district (NOTES §2): split, or part moved.
NOT_ONE_SUCCESSOR = {"Hòa Liên", "Hòa Minh"}


def resolved(result: Successor | Ambiguous) -> str:
    assert isinstance(result, Successor), result
    return result.unit_code


def old_row(rows: list[dict[str, str]], name: str, district: str) -> dict[str, str]:
    found = [r for r in rows if r["old_name_vi"] == name and r["old_district_vi"] == district]
    assert len(found) == 1, (name, district)
    return found[0]


def test_hoa_phong_goes_to_hoa_vang(localities: Localities, code_of: Callable[[str], str]) -> None:
    assert code_of("xã Hòa Vang") == "20320"  # NOTES §7
    result = localities.successor("xã Hòa Phong")
    assert isinstance(result, Successor)
    assert (result.unit_code, result.unit_name, result.old_name) == ("20320", "Hòa Vang", "Hòa Phong")
    assert result.old_district == "Huyện Hòa Vang"


def test_every_hoa_vang_commune(
    localities: Localities, shared_old_units: list[dict[str, str]], code_of: Callable[[str], str]
) -> None:
    rows = [r for r in shared_old_units if r["old_district_vi"] == "Huyện Hòa Vang"]
    assert len(rows) == 12
    for row in rows:
        if row["old_name_vi"] in NOT_ONE_SUCCESSOR:
            continue
        for name in (row["old_name_vi"], f"xã {row['old_name_vi']}"):
            assert resolved(localities.successor(name)) == code_of(row["new_unit_vi"]), name
            assert resolved(localities.successor(name, "huyện Hòa Vang")) == code_of(row["new_unit_vi"])


def test_every_old_unit_resolves_with_its_district(
    localities: Localities, shared_old_units: list[dict[str, str]], code_of: Callable[[str], str]
) -> None:
    for row in shared_old_units:
        if row["old_name_vi"] in NOT_ONE_SUCCESSOR:
            continue
        label = f"{row['old_type']} {row['old_name_vi']}"
        result = localities.successor(label, row["old_district_vi"])
        assert resolved(result) == code_of(row["new_unit_vi"]), label


def test_every_old_unit_with_a_unique_name_resolves_without_district(
    localities: Localities, shared_old_units: list[dict[str, str]], code_of: Callable[[str], str]
) -> None:
    districts: dict[str, set[str]] = defaultdict(set)
    for row in shared_old_units:
        districts[row["old_name_vi"]].add(row["old_district_vi"])
    for row in shared_old_units:
        name = row["old_name_vi"]
        if len(districts[name]) == 1 and name not in NOT_ONE_SUCCESSOR:
            assert resolved(localities.successor(name)) == code_of(row["new_unit_vi"]), name


@pytest.mark.parametrize("old_name", ["xã Cà Dy", "Tà Pơơ", "xã Tà Bhing"])
def test_nam_giang_commune_goes_to_ben_giang(
    localities: Localities, code_of: Callable[[str], str], old_name: str
) -> None:
    assert resolved(localities.successor(old_name)) == code_of("xã Bến Giằng")
    assert resolved(localities.successor(old_name, "Huyện Nam Giang")) == code_of("xã Bến Giằng")


@pytest.mark.parametrize("district", [None, "Huyện Hòa Vang", "Hòa Vang"])
@pytest.mark.parametrize("name", ["xã Hòa Liên", "Hòa Liên", "HÒA LIÊN", "xã Hoà Liên"])
def test_hoa_lien_is_split_so_the_engine_must_ask(
    localities: Localities, code_of: Callable[[str], str], name: str, district: str | None
) -> None:
    result = localities.successor(name, district)
    assert isinstance(result, Ambiguous)
    assert set(result.candidates) == {code_of("phường Hải Vân"), code_of("phường Liên Chiểu")}
    assert "Hải Vân" in result.reason and "Liên Chiểu" in result.reason


@pytest.mark.parametrize("district", [None, "Quận Liên Chiểu"])
def test_hoa_minh_is_ambiguous_because_part_moved_to_thanh_khe_tay(
    localities: Localities, code_of: Callable[[str], str], district: str | None
) -> None:
    result = localities.successor("phường Hòa Minh", district)
    assert isinstance(result, Ambiguous)
    assert set(result.candidates) == {code_of("phường Hòa Khánh"), code_of("phường Thanh Khê")}
    assert "Thanh Khê Tây" in result.reason


# NOTES §4: the resolution's spelling and the statistics catalogue's (or plo.vn's).
SPELLING_PAIRS = [
    ("Tà Bhing", "Tà Bhinh"),
    ("Mà Cooih", "Mà Cooi"),
    ("Bhalêê", "Bha Lê"),
    ("La Êê", "Laêê"),
    ("Prao", "P Rao"),
    ("Zà Hung", "Za Hung"),
    ("Kà Dăng", "Ka Dăng"),
    ("Atiêng", "A Tiêng"),
    ("Anông", "A Nông"),
    ("Axan", "A Xan"),
    ("Avương", "A Vương"),
    ("Gari", "Ga Ri"),
    ("Tam Xuân I", "Tam Xuân 1"),
    ("Tam Xuân II", "Tam Xuân 2"),
]


@pytest.mark.parametrize(("official", "variant"), SPELLING_PAIRS)
def test_spelling_variants_resolve_to_the_same_unit(
    localities: Localities,
    shared_old_units: list[dict[str, str]],
    code_of: Callable[[str], str],
    official: str,
    variant: str,
) -> None:
    rows = [r for r in shared_old_units if r["old_name_vi"] == official]
    assert len(rows) == 1
    expected = code_of(rows[0]["new_unit_vi"])
    assert resolved(localities.successor(official)) == expected
    assert resolved(localities.successor(variant)) == expected
    assert resolved(localities.successor(f"xã {variant}", rows[0]["old_district_vi"])) == expected


# NOTES §3: names on pre-2025 papers → the unit of 30 June 2025 they became part of (and its district).
OLDER_NAMES = [
    ("phường Hòa Khê", None, "Thanh Khê Đông", "Quận Thanh Khê"),
    ("Tam Thuận", None, "Xuân Hà", "Quận Thanh Khê"),
    ("Vĩnh Trung", None, "Thạc Gián", "Quận Thanh Khê"),
    ("Tân Chính", None, "Chính Gián", "Quận Thanh Khê"),
    ("phường Hải Châu I", None, "Hải Châu", "Quận Hải Châu"),
    ("Hải Châu II", None, "Hải Châu", "Quận Hải Châu"),
    ("Hải Châu 2", "quận Hải Châu", "Hải Châu", "Quận Hải Châu"),
    ("Nam Dương", None, "Phước Ninh", "Quận Hải Châu"),
    ("Bình Hiên", None, "Phước Ninh", "Quận Hải Châu"),
    ("Hòa Thuận Đông", None, "Bình Thuận", "Quận Hải Châu"),
    ("An Hải Tây", None, "An Hải Nam", "Quận Sơn Trà"),
    ("An Hải Đông", None, "An Hải Nam", "Quận Sơn Trà"),
    ("xã Hiệp Thuận", None, "Quế Tân", "Huyện Hiệp Đức"),
    ("Hiệp Hòa", None, "Quế Tân", "Huyện Hiệp Đức"),
    ("Bình Định Bắc", None, "Bình Định", "Huyện Thăng Bình"),
    ("Bình Định Nam", "Thăng Bình", "Bình Định", "Huyện Thăng Bình"),
    ("xã Quế Phước", None, "Ninh Phước", "Huyện Quế Sơn"),
    ("Quế Phước", "huyện Nông Sơn", "Ninh Phước", "Huyện Quế Sơn"),
    # Nông Sơn district was merged into Quế Sơn on 1 Jan 2025; old papers print "huyện Nông Sơn".
    ("thị trấn Trung Phước", "huyện Nông Sơn", "Trung Phước", "Huyện Quế Sơn"),
    ("Quế Lộc", "Huyện Nông Sơn", "Quế Lộc", "Huyện Quế Sơn"),
    ("Quế Lâm", "Nông Sơn", "Quế Lâm", "Huyện Quế Sơn"),
    ("xã Phước Ninh", "huyện Nông Sơn", "Phước Ninh", "Huyện Quế Sơn"),
    ("Ninh Phước", "huyện Nông Sơn", "Ninh Phước", "Huyện Quế Sơn"),
]


@pytest.mark.parametrize(("printed", "district", "became", "became_district"), OLDER_NAMES)
def test_older_certificate_names(
    localities: Localities,
    shared_old_units: list[dict[str, str]],
    code_of: Callable[[str], str],
    printed: str,
    district: str | None,
    became: str,
    became_district: str,
) -> None:
    expected = code_of(old_row(shared_old_units, became, became_district)["new_unit_vi"])
    result = localities.successor(printed, district)
    assert resolved(result) == expected
    assert isinstance(result, Successor) and result.old_name == became


@pytest.mark.parametrize(
    ("name", "districts"),
    [
        ("Phước Ninh", ("Quận Hải Châu", "Huyện Quế Sơn")),
        ("Phước Mỹ", ("Quận Sơn Trà", "Huyện Phước Sơn")),
    ],
)
def test_a_name_in_two_districts_needs_the_district(
    localities: Localities,
    shared_old_units: list[dict[str, str]],
    code_of: Callable[[str], str],
    name: str,
    districts: tuple[str, str],
) -> None:
    expected = {d: code_of(old_row(shared_old_units, name, d)["new_unit_vi"]) for d in districts}
    assert len(set(expected.values())) == 2
    without = localities.successor(name)
    assert isinstance(without, Ambiguous)
    assert set(without.candidates) == set(expected.values())
    assert "district" in without.reason
    for district, code in expected.items():
        assert resolved(localities.successor(name, district)) == code
        short = district.split(" ", 1)[1]  # "Hải Châu" without "Quận"
        assert resolved(localities.successor(name, short)) == code


@pytest.mark.parametrize(
    "written",
    [
        "xã Hòa Phong",
        "Hòa Phong",
        "XÃ HÒA PHONG",
        "  xã   Hòa\u00a0Phong ",
        "Hoà Phong",  # tone on a (new style)
        "X. Hòa Phong",
        unicodedata.normalize("NFD", "xã Hòa Phong"),
        unicodedata.normalize("NFD", "Hoà Phong"),
    ],
)
def test_writing_does_not_matter(localities: Localities, code_of: Callable[[str], str], written: str) -> None:
    assert resolved(localities.successor(written)) == code_of("xã Hòa Vang")
    assert localities.normalise(written) == localities.normalise("Hòa Phong")


def test_tone_position_in_the_data_itself(localities: Localities, code_of: Callable[[str], str]) -> None:
    # The catalogue writes "Duy Hoà" (tone on a); papers usually write "Duy Hòa".
    assert resolved(localities.successor("xã Duy Hòa")) == code_of("xã Thu Bồn")
    assert resolved(localities.successor("Duy Hoà")) == code_of("xã Thu Bồn")


@pytest.mark.parametrize(
    ("name", "district", "named"),
    [
        ("Hòa Lạc", None, "Hòa Lạc"),  # no such unit in Da Nang or Quảng Nam
        ("", None, "''"),
        ("xã Bến Giằng", None, "Bến Giằng"),  # a new unit, not an old one
        ("Hòa Phong", "Quận Hải Châu", "Quận Hải Châu"),  # exists, but not in that district
        ("Hòa Phong", "Quận 1", "Quận 1"),  # no such district
    ],
)
def test_unknown_names_raise_key_error(
    localities: Localities, name: str, district: str | None, named: str
) -> None:
    with pytest.raises(KeyError) as excinfo:
        localities.successor(name, district)
    assert named in str(excinfo.value)  # the message says what was not found


def test_inconsistent_variant_data_is_refused(org: Organisation, tmp_path: Path) -> None:
    for name in ("old_units.csv", "name_variants.csv"):
        shutil.copy(ORG_DIR / name, tmp_path / name)
    with (tmp_path / "name_variants.csv").open("a", encoding="utf-8") as fh:
        fh.write("spelling,Hoa Lac,,Hòa Lạc,Huyện Hòa Vang,typo target,a source\n")
    with pytest.raises(ValueError, match="Hòa Lạc"):
        Localities.load(tmp_path, org.units)


def test_successor_unknown_to_the_units_is_refused(org: Organisation, tmp_path: Path) -> None:
    shutil.copy(ORG_DIR / "old_units.csv", tmp_path / "old_units.csv")
    units = {code: unit for code, unit in org.units.items() if unit.name != "Bến Giằng"}
    with pytest.raises(ValueError, match="Bến Giằng"):
        Localities.load(tmp_path, units)
