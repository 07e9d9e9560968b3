"""Who may do what: pure functions over officer, dossier, work item and action.

The table `RULES` is the policy in words; the functions enforce it; the authorization-matrix tests
are generated from it. A refusal carries a stable code (for the event log and the KPI of refused
attempts) and a kind, the type the engine raises it as (engine/errors.py: Forbidden, Conflict, …);
only the API maps those types to HTTP statuses (api/problems.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .org import Officer
    from .runtime.state import DossierState, ItemState

ITEM_ACTIONS = ("claim", "release", "complete", "return", "transfer", "request_supplement")
DOSSIER_ACTIONS = ("receive_supplement", "apologise", "stop", "cancel", "add_document", "issue_slip")
REASON_REQUIRED = {"return", "transfer", "request_supplement", "apologise", "stop", "cancel", "move_to_step"}
# Roles that may read everything and act on nothing, whatever else the officer holds or wherever their
# unit is: an auditor who could also move a dossier would be auditing their own acts.
# An inspector (Department of Home Affairs) likewise reads every signal, review and KPI and judges
# reviews (engine/reviews.py), but acts on no dossier.
READ_ONLY_ROLES = frozenset({"auditor", "inspector"})
# Acts on no dossier, recorded in the audit log (engine/reviews.py, engine/absences.py).
ACCOUNTABILITY_ACTIONS = ("review_open", "review_explain", "review_decide", "record_absence")

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
                 "head (unit_head); once; with reason and a later date; only within one working day of the "
                 "deadline or after it",
    "stop": "a one_stop_desk officer of the receiving desk, at the applicant's request, with a reason",
    "cancel": "a one_stop_desk officer of the receiving desk or a supervisor, with a reason",
    "deploy": "a supervisor",
    "add_document": "a one_stop_desk officer of the receiving desk, or an officer who may act on an open item of "
                    "the dossier (its role in its unit, or the officer it was transferred to)",
    "issue_slip": "a one_stop_desk officer of the receiving desk (also once the dossier is finished), or an officer "
                  "of a unit holding an open item of the dossier",
    "review_open": "the head (unit_head) of the unit a signal is about, not about themselves, or an inspector; "
                   "one review per signal",
    "review_explain": "the officer the signal is about (for a signal about a unit alone: its head); once; "
                      "before the verdict",
    "review_decide": "the head of the review's unit or an inspector, neither the officer concerned nor who "
                     "explained; after the explanation or its limit; justified with a cause, or shirking "
                     "confirmed; with a reason",
    "record_absence": "the head of the absent officer's unit, or an admin; the deputy of the same unit holds the "
                      "absent officer's step roles",
    "validate": "a supervisor (checking a file stores nothing, but costs the server work)",
}
# Every action above is refused to an auditor (READ_ONLY_ROLES) and to a deactivated account.


# What a refusal says about the officer who tried (docs/decisions/0050-refusal-categories.md). Only
# acting outside one's unit, role or claim is a possible act of shirking (signal `unauthorised_attempt`);
# a typo, a page left open too long or a second click is a refusal of its own category, kept in the
# history, and no signal. The category is recorded in the `action_refused` event (`category`), so a later
# change of this table never changes what an old event meant.
OUT_OF_SCOPE = "out_of_scope"
REFUSAL_CATEGORIES = (OUT_OF_SCOPE, "invalid_input", "stale", "repeated", "procedure")
CATEGORY_OF_CODE: dict[str, str] = {
    # acting outside one's unit, role or claim, or as someone else
    "wrong_unit": OUT_OF_SCOPE, "wrong_role": OUT_OF_SCOPE, "reserved_for_other": OUT_OF_SCOPE,
    "claimed_by_other": OUT_OF_SCOPE, "read_only": OUT_OF_SCOPE, "inactive": OUT_OF_SCOPE,
    "bad_signature": OUT_OF_SCOPE, "bad_key": OUT_OF_SCOPE,
    # what was typed or sent is not acceptable
    "invalid_data": "invalid_input", "missing_reason": "invalid_input", "reason_too_long": "invalid_input",
    "illegal_target": "invalid_input", "unknown_action": "invalid_input", "not_found": "invalid_input",
    "not_a_candidate": "invalid_input", "unknown_procedure": "invalid_input", "signature_required": "invalid_input",
    "signature_expired": "invalid_input", "no_public_key": "invalid_input", "not_late": "invalid_input",
    "exists": "invalid_input", "parallel_instance": "invalid_input",
    # a decision signature refused for its certificate (engine/certificates.py): not the officer's act
    # beyond their scope, except a signature over another dossier's or another decision (as bad_signature)
    "certificate_expired": "invalid_input", "certificate_revoked": "invalid_input",
    "certificate_untrusted": "invalid_input", "certificate_key_usage": "invalid_input",
    "bad_certificate": "invalid_input", "certificate_only": "invalid_input", "key_not_certificate": "invalid_input",
    "revocation_unknown": "invalid_input",
    "signature_other_dossier": OUT_OF_SCOPE, "signature_wrong_document": OUT_OF_SCOPE,
    # the dossier moved on since the officer looked at it
    "stale_version": "stale", "not_ready": "stale", "finished": "stale", "awaiting_supplement": "stale",
    "not_pending": "stale", "not_claimed": "stale", "no_snapshot": "stale",
    # the same act a second time
    "already_apologised": "repeated", "already_claimed": "repeated",
    # the procedure, not the officer (acc-incident: procedure incidents)
    "procedure_error": "procedure", "unknown_step": "procedure", "no_owner": "procedure",
}
# codes not in the table: by the refusal's kind
CATEGORY_OF_KIND = {"forbidden": OUT_OF_SCOPE, "not_found": "invalid_input", "invalid": "invalid_input",
                    "stale": "stale", "conflict": "stale"}


def refusal_category(kind: str | None, code: str | None) -> str:
    """The category of a refusal from its kind and code (the table above)."""
    return CATEGORY_OF_CODE.get(code or "") or CATEGORY_OF_KIND.get(kind or "", "invalid_input")


@dataclass(frozen=True)
class Refusal:
    kind: str  # forbidden | not_found | conflict | stale | invalid
    code: str
    message: str  # English, for the API's `detail`; pages render `code` and `params` (api/web/messages.py)
    params: dict[str, Any] = field(default_factory=dict, compare=False)
    category: str | None = None  # REFUSAL_CATEGORIES; None = from the code (refusal_category)

    @property
    def recorded_category(self) -> str:
        return self.category or refusal_category(self.kind, self.code)


def _may_hold(officer: Officer, item: ItemState) -> Refusal | None:
    """May this officer act on this open item as its owner?"""
    if item.assignee is not None and item.assignee != officer.username:
        if item.state == "claimed":
            return Refusal("conflict", "claimed_by_other", f"the item is claimed by {item.assignee}",
                           {"holder": item.assignee})
        return Refusal("forbidden", "reserved_for_other", f"the item was transferred to {item.assignee}",
                       {"holder": item.assignee})
    if item.assignee == officer.username:
        return None
    if item.role not in officer.roles:
        return Refusal("forbidden", "wrong_role", f"the step needs role {item.role}; you do not hold it",
                       {"role": item.role})
    if item.unit != officer.unit:
        return Refusal("forbidden", "wrong_unit", f"the step belongs to unit {item.unit}, not to {officer.unit}",
                       {"item_unit": item.unit, "officer_unit": officer.unit})
    return None


def _read_only(officer: Officer) -> Refusal | None:
    if not officer.active:
        return Refusal("forbidden", "inactive", "this account is deactivated")
    if officer.roles & READ_ONLY_ROLES:
        return Refusal("forbidden", "read_only", "auditors and inspectors read and verify; they change nothing")
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
    if action == "rate":  # the applicant, after the hand-back (engine/ratings.py); not an officer's act
        return None if "applicant" in officer.roles else Refusal("forbidden", "wrong_role", "only the applicant rates")
    if action == "issue_slip":  # a refusal or stop notice is printed after the dossier has ended
        if "one_stop_desk" in officer.roles and officer.unit == dossier.desk_unit:
            return None
        if any(i.unit == officer.unit for i in dossier.open_items()):
            return None
        return Refusal("forbidden", "wrong_unit", "only the receiving desk or a unit holding the dossier issues slips")
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
    if action == "add_document":
        if "one_stop_desk" in officer.roles and officer.unit == dossier.desk_unit:
            return None
        if any(_may_hold(officer, i) is None for i in dossier.open_items()):
            return None
        return Refusal("forbidden", "wrong_unit",
                       "only the receiving desk or the holder of the current step adds papers")
    return Refusal("invalid", "unknown_action", f"unknown action {action}")


def check_open(officer: Officer) -> Refusal | None:
    refusal = _read_only(officer)
    if refusal:
        return refusal
    if "one_stop_desk" not in officer.roles:
        return Refusal("forbidden", "wrong_role", "only the one-stop desk receives dossiers")
    return None


def _supervisor(officer: Officer, what: str) -> Refusal | None:
    """Acts on procedures, not on an officer's step: supervisors only (an auditor gets `read_only`)."""
    refusal = _read_only(officer)
    if refusal:
        return refusal
    if "supervisor" not in officer.roles:
        return Refusal("forbidden", "wrong_role", f"only supervisors {what}")
    return None


def check_deploy(officer: Officer) -> Refusal | None:
    return _supervisor(officer, "deploy procedures")


def check_validate(officer: Officer) -> Refusal | None:
    """Checking a file is part of deploying one: the same people, and a refusal is recorded the same way."""
    return _supervisor(officer, "check procedure files")


def check_move_to_step(officer: Officer) -> Refusal | None:
    """Moving a dossier out of a procedure incident (engine/runtime/supervision.py): a supervisor, with a
    reason. Not in RULES: it acts on the procedure's defect, not on an officer's step."""
    return _supervisor(officer, "move a dossier out of a procedure incident")


def check_reason(action: str, reason: str | None) -> Refusal | None:
    if action in REASON_REQUIRED and (reason is None or not reason.strip()):
        return Refusal("invalid", "missing_reason", f"{action.replace('_', ' ')} needs a reason")
    if reason is not None and len(reason) > 4000:
        return Refusal("invalid", "reason_too_long", "the reason is longer than 4000 characters")
    return None
