"""What the engine's codes are called on the pages (translated through the Babel catalogs).

The engine speaks in stable codes (statuses, event types, signal kinds, refusal codes, form field
names of the bundled procedures); officers read them here in their language. A code without a
label is shown as it is, so a new code never breaks a page.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

STATUS = {
    "new": _l("New"), "in_progress": _l("In progress"), "awaiting_supplement": _l("Awaiting supplement"),
    "done": _l("Done"), "stopped": _l("Stopped"), "cancelled": _l("Cancelled"),
}
ITEM_STATE = {"ready": _l("Ready"), "claimed": _l("Claimed"), "done": _l("Closed")}
OUTCOME = {
    "completed": _l("Completed"), "returned": _l("Returned"), "carried_over": _l("Carried over"),
    "cancelled": _l("Closed by the engine"),
    "moved": _l("Moved by a supervisor"),
}
EVENT = {
    "opened": _l("Dossier received"), "claimed": _l("Step claimed"), "released": _l("Step released"),
    "completed": _l("Step completed"), "returned": _l("Returned to an earlier step"),
    "transferred": _l("Transferred"), "supplement_requested": _l("Supplement requested"),
    "supplement_received": _l("Supplement received"), "apologised": _l("Apology, new date"),
    "stopped": _l("Stopped at the applicant's request"), "cancelled": _l("Cancelled"),
    "timer_fired": _l("Timer fired"), "action_refused": _l("Action refused"),
    "continued": _l("Continued as a new dossier"), "step_overdue": _l("Step overdue"),
    "escalated": _l("Escalated to the unit head"), "dossier_overdue": _l("Dossier overdue"),
    "due_soon": _l("Deadline near"), "idle_claim": _l("Claimed but idle"),
    "substituted": _l("Substituted for an absent officer"),
    "document_added": _l("Paper attached"), "slip_issued": _l("Slip issued"), "rated": _l("Rated by the applicant"),
    "incident_raised": _l("Procedure incident"), "moved": _l("Moved to a step by a supervisor"),
    "migrated": _l("Moved to a new version of the procedure"),
    "message_received": _l("Answer received from another agency"),
}
SIGNAL = {
    "returned": _l("Returned"), "rerouted": _l("Re-routed"), "ping_pong": _l("Ping-pong"),
    "repeat_supplement": _l("Repeat supplement request"), "unauthorised_attempt": _l("Refused attempt"),
    "step_overdue": _l("Step overdue"), "dossier_overdue": _l("Dossier overdue"), "escalated": _l("Escalated"),
    "idle_claim": _l("Idle claim"), "due_soon": _l("Deadline near"), "apologised": _l("Apology"),
    "procedure_incident": _l("Procedure incident"),
}
CLOCK = {"run": _l("Counted"), "paused": _l("Not counted (paused)")}
DEADLINE = {"overdue": _l("Overdue"), "due_soon": _l("Due soon"), "on_time": _l("On time"), "none": _l("No deadline")}
RATING = {"excellent": _l("Excellent"), "good": _l("Good"), "completed": _l("Completed the task"),
          "not_completed": _l("Not completed"), "not_rated": _l("Not rated")}
# what the engine's refusal codes mean for the officer who was refused
REFUSAL = {
    "stale_version": _l("The dossier was handled by someone else first; please reload."),
    "wrong_unit": _l("This step belongs to another unit."),
    "wrong_role": _l("You do not hold the role this needs."),
    "claimed_by_other": _l("Another officer has claimed this step."),
    "reserved_for_other": _l("This step was transferred to another officer."),
    "not_ready": _l("This step is no longer waiting for action."),
    "finished": _l("The dossier is already finished."),
    "already_claimed": _l("You already hold this step."),
    "not_claimed": _l("The step is not claimed."),
    "awaiting_supplement": _l("The dossier is waiting for the applicant's supplement."),
    "not_pending": _l("No supplement was requested."),
    "already_apologised": _l("The new date may be set only once."),
    "not_late": _l("An apology with a new date is only for a dossier due within one working day or already late."),
    "not_reviewable": _l("This signal names no officer and no unit."),
    "own_review": _l("Nobody reviews a signal about themselves or that they explained."),
    "already_reviewed": _l("This signal is already under review."),
    "already_explained": _l("The explanation is already recorded."),
    "already_decided": _l("The verdict is already recorded."),
    "explanation_pending": _l("The officer may still explain until the limit; the verdict comes after."),
    "invalid_verdict": _l("Choose a verdict."),
    "invalid_cause": _l("A justified signal names its cause; a confirmed shirking has none."),
    "blob_mismatch": _l("The stored file differs from the one sent; nothing was recorded."),
    "not_handed_back": _l("The result has not been handed back yet."),
    "already_rated": _l("This dossier was already rated."),
    "missing_reason": _l("A reason is required."),
    "reason_too_long": _l("The reason is too long (at most 4000 characters)."),
    "illegal_target": _l("That target is not allowed."),
    "parallel_instance": _l("This step is a consultation of several agencies in parallel: it cannot be returned "
                            "from or returned to."),
    "invalid_data": _l("The form is not filled in correctly."),
    "inactive": _l("This account is deactivated."),
    "signature_required": _l("This decision must be signed."),
    "bad_signature": _l("The signature does not match the decision and your registered key."),
    "signature_expired": _l("The signature is too old; sign again."),
    "no_public_key": _l("You have no registered signing certificate (upload it on the page My signing certificate)."),
    # decision signatures refused for their certificate (docs/signatures.md)
    "certificate_expired": _l("Your certificate was not valid at the signing time (expired or not yet valid)."),
    "certificate_revoked": _l("Your certificate has been revoked by its certification authority."),
    "certificate_untrusted": _l("Your certificate is not issued by a trusted certification authority."),
    "certificate_key_usage": _l("Your certificate may not be used to sign documents."),
    "bad_certificate": _l("The file is not a valid X.509 certificate (RSA or ECDSA)."),
    "certificate_only": _l("Upload the certificate only: never a private key."),
    "key_not_certificate": _l("Ed25519 keys are only for development: register the certificate your CA issued."),
    "revocation_unknown": _l("The certificate revocation list cannot be read; try again later."),
    "signature_other_dossier": _l("The signature is over a decision of another dossier."),
    "signature_wrong_document": _l("The signature is over another version of this decision; check and sign again."),
    "not_found": _l("Not found."),
    "unknown_action": _l("Unknown action."),
    "exists": _l("An officer with this username already exists."),
    "no_owner": _l("No unit owns this step for the dossier's commune."),
    "no_snapshot": _l("The dossier has no workflow state."),
    "not_a_candidate": _l("That unit is not among the possible successor units."),
    "procedure_error": _l("The procedure could not run this step (a fault of the procedure, not of the officer)."),
    "read_only": _l("Auditors read and verify; they change nothing."),
    "unknown_procedure": _l("That procedure is not deployed."),
    "fragment_not_openable": _l("This is a fragment called from procedures: it is never received as a dossier "
                                "of its own."),
    "unknown_step": _l("A step of the procedure has no owner or time limit."),
    "procedure_incident": _l("The procedure cannot go on at this step: a defect of the procedure, not your action. "
                             "The supervisors have been told."),
    "no_incident": _l("The dossier has no open procedure incident."),
    "cannot_migrate": _l("This dossier cannot move to the new version."),
    "bad_migration_plan": _l("The migration plan has problems: check the step mapping."),
    "bad_deadline_rule": _l("Deadlines are either kept or recomputed."),
    "no_such_version": _l("The procedure has no such version."),
    "not_later_version": _l("A dossier moves only to a later version."),
    "other_procedure": _l("That version belongs to another procedure."),
    "not_awaiting": _l("The dossier is not waiting for this message."),
    "unknown_message": _l("The procedure of this dossier waits for no such message."),
    "key_reused": _l("This key was already used for another delivery."),
}
FIELD = {
    "amount": _l("Amount (VND)"),
    "accepted": _l("Accepted"), "area_changed": _l("Area changed"), "current_use": _l("Current land use"),
    "days_spent": _l("Working days already spent"), "decision": _l("Decision"), "dispute": _l("Dispute"),
    "documents": _l("Documents"), "eligible": _l("Eligible"), "error_description": _l("Error description"),
    "former_body": _l("Former body"), "former_competence": _l("Former competence"),
    "jurisdiction": _l("Unit taking over (code)"), "kind": _l("Kind"), "legacy_code": _l("Legacy dossier code"),
    "new_area": _l("New area (m²)"), "note": _l("Note"), "notice_no": _l("Notice number"),
    "objection_note": _l("Objections"), "objections": _l("Objections received"),
    "obligation_amount": _l("Financial obligation (VND)"), "obligations": _l("Financial obligations apply"),
    "old_commune": _l("Old commune"), "old_district": _l("Old district"), "origin": _l("Origin of land use"),
    "parcel_count": _l("Number of parcels"), "payment_date": _l("Payment date"),
    "planning_conform": _l("Conforms to planning"), "reached_step": _l("Step reached"), "reason": _l("Reason"),
    "receipt_no": _l("Receipt number"), "received_date": _l("Date received"), "refusal_reason": _l("Refusal reason"),
    "remeasured": _l("Re-measured"), "return_reason": _l("Reason for returning"),
    "target_procedure": _l("Target procedure"), "total_area": _l("Total area (m²)"),
    "collected_by": _l("Result collected by"), "collector_id_number": _l("Collector's identity number"),
    "collected_via": _l("Collected how"),
}
CHOICE = {
    "accept": _l("Accept"), "refuse": _l("Refuse"), "transfer": _l("Transfer"), "inheritance": _l("Inheritance"),
    "donation": _l("Donation"), "capital_contribution": _l("Capital contribution"), "split": _l("Split"),
    "merge": _l("Merge"), "district": _l("District"), "province": _l("Province"),
    "in_person": _l("In person at the desk"), "post": _l("By post"), "online": _l("Online"),
}
APPLICANT = {"name": _l("Name"), "id_number": _l("ID number")}
PARCEL = {"sheet": _l("Map sheet"), "number": _l("Parcel number"), "area": _l("Area (m²)"), "id": _l("Parcel id"),
          "address": _l("Address")}


def label(table: dict[str, Any], code: str | None) -> str:
    if code is None:
        return ""
    found = table.get(code)
    return str(found) if found is not None else code.replace("_", " ")


def field_label(name: str) -> str:
    found = FIELD.get(name)
    return str(found) if found is not None else name.replace("_", " ").capitalize()
