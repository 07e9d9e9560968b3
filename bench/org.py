"""A small organisation for engine tests and benches: two communes (one remote), a branch, a tax office.

Tests that need the real Da Nang data use config/organisation; engine tests use this one so that
their expectations do not move when the bundled data is corrected.
"""

from __future__ import annotations

from config.organisation import OfficerSeed, Organisation, Unit, load_roles
from config.settings import ROOT

W1, C2, BR1, TAX1 = "W1", "C2", "BR1", "TAX1"


def small_organisation() -> Organisation:
    roles = load_roles(ROOT / "config" / "organisation" / "roles.toml")
    units = {
        "DNG": Unit("DNG", "UBND thành phố", "province_body"),
        "SO-NNMT": Unit("SO-NNMT", "Sở Nông nghiệp và Môi trường", "province_body", "DNG"),
        "VPDKDD": Unit("VPDKDD", "Văn phòng Đăng ký đất đai", "province_body", "SO-NNMT"),
        W1: Unit(W1, "Phường Một", "ward", "DNG", agency_code="000.01.90.H17"),
        C2: Unit(C2, "Xã Hai", "commune", "DNG", remote=True, agency_code="000.02.90.H17"),
        BR1: Unit(BR1, "Chi nhánh khu vực I", "branch", "VPDKDD"),
        "BR2": Unit("BR2", "Chi nhánh khu vực II", "branch", "VPDKDD"),
        TAX1: Unit(TAX1, "Thuế cơ sở 1", "tax_office"),
        "SO-NV": Unit("SO-NV", "Sở Nội vụ", "province_body", "DNG"),
    }
    jurisdiction = {
        (W1, "registration_branch"): BR1, (C2, "registration_branch"): BR1,
        (W1, "tax_office"): TAX1, (C2, "tax_office"): TAX1,
    }

    def o(username: str, unit: str, *role_codes: str) -> OfficerSeed:
        return OfficerSeed(username, username.replace(".", " ").title(), unit, tuple(role_codes))

    officers = [
        o("desk.w1", W1, "one_stop_desk"), o("desk2.w1", W1, "one_stop_desk"),
        o("land.w1", W1, "commune_land_officer"), o("land2.w1", W1, "commune_land_officer"),
        o("chair.w1", W1, "commune_chairman"), o("head.w1", W1, "unit_head"),
        o("desk.c2", C2, "one_stop_desk"), o("land.c2", C2, "commune_land_officer"),
        o("chair.c2", C2, "commune_chairman"),
        o("branch.br1", BR1, "registration_branch"), o("branch.br2", "BR2", "registration_branch"),
        o("tax.1", TAX1, "tax_office"),
        o("supervisor", "SO-NNMT", "supervisor"), o("auditor", "DNG", "auditor"), o("admin", "DNG", "admin"),
        o("inspector", "SO-NV", "inspector"),
    ]
    return Organisation(roles=roles, units=units, jurisdiction=jurisdiction, officers=officers)
