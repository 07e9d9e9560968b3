"""Who may do what: pure functions over officer, dossier, work item and action.

The table `RULES` is the policy in words; the functions enforce it; the authorization-matrix tests
are generated from it. A refusal carries a stable code (for the event log and the KPI of refused
attempts) and a kind that the API maps to an HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .org import Officer
    from .runtime.state import DossierState, ItemState

# kind -> HTTP status in the API
KINDS = {"forbidden": 403, "not_found": 404, "conflict": 409, "stale": 412, "invalid": 422}

ITEM_ACTIONS = ("claim", "release", "complete", "return", "transfer", "request_supplement")
DOSSIER_ACTIONS = ("receive_supplement", "apologise", "stop", "cancel")
REASON_REQUIRED = {"return", "transfer", "request_supplement", "apologise", "stop", "cancel", "move_to_step"}
# Roles that may read everything and act on nothing, whatever else the officer holds or wherever their
# unit is: an auditor who could also move a dossier would be auditing their own acts.
READ_ONLY_ROLES = frozenset({"auditor"})

RULES: dict[str, str] = {
    "open": "an officer with role one_stop_desk, at any desk (boundary-free reception, Decree 118/2025)",
    "claim": "an officer holding the item's role in the item's unit, or the officer it was transferred to; "
             "the item must be ready",
    "release": "the officer who claimed the item",
    "complete": "the officer who claimed the item, or (claiming it at once) one who may claim it",
    "return": "as complete; with a reason; only to a step this dossier has already completed",
    "transfer": "as complete; with a reason; to a unit with an officer of the item's role, or to such an officer",
    "request_supplement": "as complete; with the specific list of what is missing; the dossier's clock pauses",
    "receive_supplement": "a one_stop_desk officer of the desk that received the dossier",
    "apologise": "an officer holding the role of an open item of the dossier in that item's unit, or that unit's "
                 "head (unit_head); once; with reason and a later date",
    "stop": "a one_stop_desk officer of the receiving desk, at the applicant's request, with a reason",
    "cancel": "a one_stop_desk officer of the receiving desk or a supervisor, with a reason",
    "deploy": "a supervisor",
}
# Every action above is refused to an auditor (READ_ONLY_ROLES) and to a deactivated account.


@dataclass(frozen=True)
class Refusal:
    kind: str  # forbidden | not_found | conflict | stale | invalid
    code: str
    message: str


def _may_hold(officer: Officer, item: ItemState) -> Refusal | None:
    """May this officer act on this open item as its owner?"""
    if item.assignee is not None and item.assignee != officer.username:
        if item.state == "claimed":
            return Refusal("conflict", "claimed_by_other", f"the item is claimed by {item.assignee}")
        return Refusal("forbidden", "reserved_for_other", f"the item was transferred to {item.assignee}")
    if item.assignee == officer.username:
        return None
    if item.role not in officer.roles:
        return Refusal("forbidden", "wrong_role", f"the step needs role {item.role}; you do not hold it")
    if item.unit != officer.unit:
        return Refusal("forbidden", "wrong_unit", f"the step belongs to unit {item.unit}, not to {officer.unit}")
    return None


def _read_only(officer: Officer) -> Refusal | None:
    if not officer.active:
        return Refusal("forbidden", "inactive", "this account is deactivated")
    if officer.roles & READ_ONLY_ROLES:
        return Refusal("forbidden", "read_only", "auditors read and verify; they change nothing")
    return None


def check_item_action(action: str, officer: Officer, dossier: DossierState, item: ItemState) -> Refusal | None:
    refusal = _read_only(officer)
    if refusal:
        return refusal
    if dossier.is_finished:
        return Refusal("conflict", "finished", f"the dossier is {dossier.status}")
    if not item.is_open:
        return Refusal("conflict", "not_ready", f"the item is {item.state}")
    refusal = _may_hold(officer, item)
    if refusal:
        return refusal
    if action == "claim" and item.state == "claimed":
        return Refusal("conflict", "already_claimed", "you already hold this item")
    if action == "release" and item.state != "claimed":
        return Refusal("conflict", "not_claimed", "the item is not claimed")
    if action in ("complete", "return") and dossier.supplement_since is not None:
        return Refusal("conflict", "awaiting_supplement", "the dossier is waiting for the applicant's supplement")
    if action == "request_supplement" and dossier.supplement_since is not None:
        return Refusal("conflict", "awaiting_supplement", "a supplement request is already pending")
    return None


def check_dossier_action(action: str, officer: Officer, dossier: DossierState) -> Refusal | None:
    refusal = _read_only(officer)
    if refusal:
        return refusal
    if dossier.is_finished:
        return Refusal("conflict", "finished", f"the dossier is {dossier.status}")
    if action == "receive_supplement":
        if "one_stop_desk" not in officer.roles or officer.unit != dossier.desk_unit:
            return Refusal("forbidden", "wrong_unit", "only the receiving desk takes in a supplement")
        if dossier.supplement_since is None:
            return Refusal("conflict", "not_pending", "no supplement was requested")
        return None
    if action == "apologise":
        held_here = [i for i in dossier.open_items() if i.unit == officer.unit]
        if not held_here:
            return Refusal("forbidden", "wrong_unit", "only a unit holding the dossier apologises for it")
        if "unit_head" not in officer.roles and not any(i.role in officer.roles for i in held_here):
            return Refusal("forbidden", "wrong_role", "the officers of the late step, or the unit's head, apologise")
        if dossier.apologised:
            return Refusal("conflict", "already_apologised", "the new date may be set only once")
        return None
    if action == "stop":
        if "one_stop_desk" not in officer.roles or officer.unit != dossier.desk_unit:
            return Refusal("forbidden", "wrong_unit", "only the receiving desk stops a dossier")
        return None
    if action == "cancel":
        if "supervisor" in officer.roles:
            return None
        if "one_stop_desk" not in officer.roles or officer.unit != dossier.desk_unit:
            return Refusal("forbidden", "wrong_role", "only the receiving desk or a supervisor cancels")
        return None
    return Refusal("invalid", "unknown_action", f"unknown action {action}")


def check_open(officer: Officer) -> Refusal | None:
    refusal = _read_only(officer)
    if refusal:
        return refusal
    if "one_stop_desk" not in officer.roles:
        return Refusal("forbidden", "wrong_role", "only the one-stop desk receives dossiers")
    return None


def check_deploy(officer: Officer) -> Refusal | None:
    refusal = _read_only(officer)
    if refusal:
        return refusal
    if "supervisor" not in officer.roles:
        return Refusal("forbidden", "wrong_role", "only supervisors deploy procedures")
    return None


def check_move_to_step(officer: Officer) -> Refusal | None:
    """Moving a dossier out of a procedure incident (engine/runtime/supervision.py): a supervisor, with a
    reason. Not in RULES: it acts on the procedure's defect, not on an officer's step."""
    refusal = _read_only(officer)
    if refusal:
        return refusal
    if "supervisor" not in officer.roles:
        return Refusal("forbidden", "wrong_role", "only supervisors move a dossier out of a procedure incident")
    return None


def check_reason(action: str, reason: str | None) -> Refusal | None:
    if action in REASON_REQUIRED and (reason is None or not reason.strip()):
        return Refusal("invalid", "missing_reason", f"{action.replace('_', ' ')} needs a reason")
    if reason is not None and len(reason) > 4000:
        return Refusal("invalid", "reason_too_long", "the reason is longer than 4000 characters")
    return None
