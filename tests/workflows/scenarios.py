"""What officers submit on the ordinary path of each land procedure, read from the procedure's story
(not from the files): who (role) does which step with which form data.

Officers are named `<role prefix>.<commune slug>` in the demo data (desk.haichau, branch.bengiang …).
"""

from __future__ import annotations

from typing import Any

PREFIX = {"one_stop_desk": "desk", "commune_land_officer": "land", "commune_economic_division": "econ",
          "commune_chairman": "chair", "registration_branch": "branch", "tax_office": "tax"}
SLUG = {"20242": "haichau", "20710": "bengiang", "20320": "hoavang", "20194": "haivan", "20197": "lienchieu"}

ACCEPT = {"decision": "accept"}
TAX = [("tax_office", "tax_assess", {"obligation_amount": 12_500_000, "notice_no": "TB-01"}),
       ("tax_office", "tax_payment", {"payment_date": "2026-02-05", "receipt_no": "BL-01"})]

# procedure -> [(role, step, data)] from receipt to the returned result
HAPPY: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "land_transfer": [
        ("one_stop_desk", "receive", {**ACCEPT, "kind": "transfer"}),
        ("registration_branch", "check_rights", {"eligible": True}),
        ("registration_branch", "send_form19", {}),
        *TAX,
        ("registration_branch", "update_register", {}),
        ("one_stop_desk", "return_result", {}),
    ],
    "first_registration": [
        ("one_stop_desk", "receive", ACCEPT),
        ("commune_land_officer", "verify", {"current_use": "đất ở", "origin": "sử dụng ổn định từ 1995",
                                            "dispute": False, "planning_conform": True}),
        ("commune_land_officer", "public_posting", {"objections": False}),
        ("commune_land_officer", "assess", {"eligible": True}),
        ("commune_land_officer", "send_form19", {}),
        *TAX,
        ("commune_economic_division", "prepare_certificate", {}),
        ("commune_chairman", "sign_certificate", {}),
        ("registration_branch", "update_database", {}),
        ("one_stop_desk", "return_result", {}),
    ],
    "parcel_split_merge": [
        ("one_stop_desk", "receive", {**ACCEPT, "kind": "split"}),
        ("registration_branch", "check_conditions", {"eligible": True}),
        ("registration_branch", "measure", {"parcel_count": 2, "total_area": 180.5}),
        ("registration_branch", "update_register", {}),
        ("one_stop_desk", "return_result", {}),
    ],
    "certificate_exchange": [
        ("one_stop_desk", "receive", {**ACCEPT, "remeasured": False}),
        ("registration_branch", "check_dossier", {"eligible": True}),
        ("registration_branch", "issue_certificate", {}),
        ("one_stop_desk", "return_result", {}),
    ],
    "certificate_reissue_lost": [
        ("one_stop_desk", "receive", ACCEPT),
        ("registration_branch", "check_dossier", {"eligible": True}),
        ("commune_land_officer", "public_notice", {"objections": False}),
        ("registration_branch", "reissue", {}),
        ("one_stop_desk", "return_result", {}),
    ],
    "certificate_correction": [
        ("one_stop_desk", "receive", ACCEPT),
        ("registration_branch", "check_error", {"eligible": True, "error_description": "sai năm sinh"}),
        ("registration_branch", "correct_certificate", {}),
        ("one_stop_desk", "return_result", {}),
    ],
    "purpose_change_registration": [
        ("one_stop_desk", "receive", ACCEPT),
        ("registration_branch", "check_conditions", {"eligible": True, "obligations": False}),
        ("registration_branch", "update_register", {}),
        ("one_stop_desk", "return_result", {}),
    ],
    "mortgage_registration": [
        ("one_stop_desk", "receive", ACCEPT),
        ("registration_branch", "check_dossier", {"eligible": True}),
        ("registration_branch", "register_mortgage", {}),
        ("one_stop_desk", "return_result", {}),
    ],
}

# The end event the ordinary path finishes at.
DONE = {"land_transfer": "issued", "first_registration": "issued", "parcel_split_merge": "issued",
        "certificate_exchange": "issued", "certificate_reissue_lost": "issued", "certificate_correction": "corrected",
        "purpose_change_registration": "registered", "mortgage_registration": "registered"}


def who(role: str, commune: str) -> str:
    return f"{PREFIX[role]}.{SLUG[commune]}"


def receive_data(procedure: str, decision: str) -> dict[str, Any]:
    """The desk's receipt form with a decision (kind / remeasured where the form asks for them)."""
    data = dict(HAPPY[procedure][0][2])
    data["decision"] = decision
    if decision == "refuse":
        data["refusal_reason"] = "hồ sơ thuộc thẩm quyền của cơ quan khác"
    return data
