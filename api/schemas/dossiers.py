"""Dossiers, their work items, the actions on them, and their history."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from api.schemas.common import INSTANT, PageArgsSchema
from engine.papers.reception import CHANNELS, FORMS, ID_KINDS, MAX_COUNT

STATUSES = ("new", "in_progress", "awaiting_supplement", "done", "stopped", "cancelled")
ITEM_STATES = ("ready", "claimed", "done", "cancelled")
INT_MAX = 2**31 - 1  # the database column is a 32-bit integer
NAME = fields.String(validate=validate.Length(min=1, max=64))


class RepresentativeSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    id_number = fields.String(validate=validate.Length(max=40))
    address = fields.String(validate=validate.Length(max=400))
    phone = fields.String(validate=validate.Length(max=40))
    email = fields.String(validate=validate.Length(max=200))
    authorisation = fields.String(validate=validate.Length(max=400),
                                  metadata={"description": "the paper that authorises them (văn bản ủy quyền)"})


class NotifySchema(Schema):
    consent = fields.Boolean(required=True, truthy={True}, falsy={False},
                             metadata={"description": "the applicant agrees to be told of their dossier by email "
                                                      "and/or SMS"})
    channels = fields.List(fields.String(validate=validate.OneOf(("email", "sms"))), validate=validate.Length(max=2),
                           metadata={"description": "email (to applicant.email), sms (to applicant.phone); "
                                                    "default: those the applicant gave an address for"})


class ApplicantSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    id_kind = fields.String(validate=validate.OneOf(ID_KINDS),
                            metadata={"description": "cccd (12 digits), passport, other; checks id_number"})
    id_number = fields.String(validate=validate.Length(max=40), metadata={"description": "CCCD / passport"})
    address = fields.String(validate=validate.Length(max=400))
    phone = fields.String(validate=validate.Length(max=40))
    email = fields.String(validate=validate.Length(max=200))
    representative = fields.Nested(RepresentativeSchema, metadata={"description": "an authorised representative"})
    notify = fields.Nested(NotifySchema, metadata={"description": "consent to notifications (docs/notifications.md)"})

    @post_load
    def channels_given(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        """Consent without a list of channels: every channel the applicant gave an address for."""
        notify = data.get("notify")
        if notify is not None and "channels" not in notify:
            notify["channels"] = [c for c, f in (("email", "email"), ("sms", "phone"))
                                  if notify["consent"] and str(data.get(f) or "").strip()]
        return data


class ReceivedPaperSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    form = fields.String(load_default="original", validate=validate.OneOf(FORMS))
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_COUNT))


class ReceptionSchema(Schema):
    channel = fields.String(load_default="in_person", validate=validate.OneOf(CHANNELS))
    papers = fields.List(fields.Nested(ReceivedPaperSchema), load_default=list,
                         metadata={"description": "the papers ticked on the procedure's checklist"})


class OpenDossierSchema(Schema):
    procedure = fields.String(required=True, validate=validate.Length(min=1, max=64))
    commune = fields.String(required=True, allow_none=True, validate=validate.Length(min=1, max=32),
                            metadata={"description": "code of the parcel's ward, commune or special zone, or its "
                                                     "current name (marks and case ignored)"})
    applicant = fields.Nested(ApplicantSchema, required=True)
    parcel = fields.Dict(keys=NAME, values=fields.Raw(allow_none=True), load_default=dict,
                         metadata={"description": "e.g. {sheet, number, area, address}"})
    data = fields.Dict(keys=NAME, values=fields.Raw(allow_none=True), load_default=dict,
                       metadata={"description": "initial procedure data (plain values)"})
    version = fields.Integer(validate=validate.Range(min=1, max=INT_MAX),
                             metadata={"description": "procedure version; default the latest"})
    reception = fields.Nested(ReceptionSchema, metadata={"description": "how it came and the papers received"})


class WorkItemSchema(Schema):
    id = fields.Integer(required=True)
    ordinal = fields.Integer(required=True)
    step = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    unit = fields.String(required=True, allow_none=True)
    assignee = fields.String(required=True, allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(ITEM_STATES))
    due = fields.AwareDateTime(required=True, allow_none=True)
    clock = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    claimed_at = fields.AwareDateTime(required=True, allow_none=True)
    done_at = fields.AwareDateTime(required=True, allow_none=True)
    done_by = fields.String(required=True, allow_none=True)
    outcome = fields.String(required=True, allow_none=True)


class DossierSummarySchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    procedure = fields.String(required=True)
    procedure_version = fields.Integer(required=True)
    version = fields.Integer(required=True, metadata={"description": "the dossier's version (its ETag)"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    outcome = fields.String(required=True, allow_none=True)
    commune = fields.String(required=True, allow_none=True)
    desk_unit = fields.String(required=True)
    applicant_name = fields.String(required=True)
    received_at = fields.AwareDateTime(required=True)
    due = fields.AwareDateTime(required=True, allow_none=True)
    statutory_due = fields.AwareDateTime(required=True, allow_none=True)
    finished_at = fields.AwareDateTime(required=True, allow_none=True)
    late = fields.Boolean(required=True, metadata={"description": "past its due time (or finished after it)"})


class DossierSchema(DossierSummarySchema):
    supplement_count = fields.Integer(required=True)
    apologised = fields.Boolean(required=True)
    remote = fields.Boolean(required=True)
    last_seq = fields.Integer(required=True)
    applicant = fields.Dict(required=True)
    parcel = fields.Dict(required=True)
    work_items = fields.List(fields.Nested(WorkItemSchema), required=True)


class DossierFilterSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    unit = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "touched by this unit"})
    procedure = fields.String(validate=validate.Length(min=1, max=64))
    overdue = fields.Boolean(metadata={"description": "true: in progress and past due"})
    code = fields.String(validate=validate.Length(min=1, max=64))
    applicant = fields.String(validate=validate.Length(min=1, max=200),
                              metadata={"description": "any part of the applicant's name; marks and case ignored"})
    id_number = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "identity number"})
    phone = fields.String(validate=validate.Length(min=1, max=40))
    parcel = fields.String(validate=validate.Length(min=1, max=90),
                           metadata={"description": "map sheet and parcel number as 'sheet/number', e.g. 12/345"})


class WorkSchema(WorkItemSchema):
    dossier = fields.Integer(required=True)
    dossier_code = fields.String(required=True)
    procedure = fields.String(required=True)
    dossier_status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    dossier_due = fields.AwareDateTime(required=True, allow_none=True)
    applicant_name = fields.String(metadata={"description": "the applicant, as the desk recorded the name"})


class WorklistArgsSchema(Schema):
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


# -- action bodies: shape only; the engine decides (and records) whether the action is allowed ---------

REASON = fields.String(load_default=None, validate=validate.Length(max=4000),
                       metadata={"description": "required by return, transfer, supplement requests, apologies, "
                                                "stop and cancel"})


class EmptySchema(Schema):
    pass


class SignatureSchema(Schema):
    signed_at = fields.String(required=True, validate=validate.Length(min=1, max=40),
                              metadata={"description": "ISO-8601 UTC instant chosen by the signer"})
    value = fields.String(required=True, validate=validate.Length(min=1, max=1400),
                          metadata={"description": "base64 signature over the decision document: RSA PKCS#1 v1.5 "
                                                   "or ECDSA (DER) with SHA-256 by the officer's certificate "
                                                   "(Ed25519 as the development option)"})
    document = fields.String(load_default=None, validate=validate.Length(min=1, max=700_000),
                             metadata={"description": "optional: base64 of the bytes that were signed, so a "
                                                      "refusal can say how they differ (another dossier...)"})


class CompleteSchema(Schema):
    data = fields.Dict(keys=NAME, values=fields.Raw(allow_none=True), load_default=dict,
                       metadata={"description": "the step's form fields"})
    signature = fields.Nested(SignatureSchema, load_default=None,
                              metadata={"description": "required by steps marked `signed` (README, 'Digital "
                                                       "signatures of decisions')"})


class ReturnSchema(Schema):
    to_step = fields.String(load_default="", validate=validate.Length(max=100),
                            metadata={"description": "an earlier step of this dossier"})
    reason = REASON


class TransferSchema(Schema):
    reason = REASON
    to_unit = fields.String(load_default=None, validate=validate.Length(max=32))
    to_officer = fields.String(load_default=None, validate=validate.Length(max=80))


class ReasonSchema(Schema):
    reason = REASON


class SupplementReceivedSchema(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=4000))


class ApologySchema(Schema):
    reason = REASON
    new_due = fields.AwareDateTime(required=True, validate=INSTANT,
                                   metadata={"description": "the new appointment, with a zone"})


# -- history ---------------------------------------------------------------------------------------------

class EventSchema(Schema):
    seq = fields.Integer(required=True)
    type = fields.String(required=True)
    actor = fields.String(required=True)
    unit = fields.String(required=True, allow_none=True)
    step = fields.String(required=True, allow_none=True)
    at = fields.AwareDateTime(required=True)
    payload = fields.Dict(required=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class EventArgsSchema(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=INT_MAX),
                           metadata={"description": "events after this seq"})
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=1000))


class ReplayArgsSchema(Schema):
    at = fields.Integer(validate=validate.Range(min=1, max=INT_MAX),
                        metadata={"description": "state right after event N"})


class ReplayedItemSchema(Schema):
    ordinal = fields.Integer(required=True)
    step = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    unit = fields.String(required=True, allow_none=True)
    assignee = fields.String(required=True, allow_none=True)
    state = fields.String(required=True, validate=validate.OneOf(ITEM_STATES))
    due = fields.AwareDateTime(required=True, allow_none=True)
    outcome = fields.String(required=True, allow_none=True)


class ReplayedDossierSchema(Schema):
    code = fields.String(required=True)
    procedure = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    due = fields.AwareDateTime(required=True, allow_none=True)
    statutory_due = fields.AwareDateTime(required=True, allow_none=True)
    paused_at = fields.AwareDateTime(required=True, allow_none=True)
    supplement_since = fields.AwareDateTime(required=True, allow_none=True)
    work_items = fields.List(fields.Nested(ReplayedItemSchema), required=True)


class ReplaySchema(Schema):
    dossier = fields.Integer(required=True)
    as_of_seq = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True, allow_none=True, metadata={"description": "time of that event"})
    state = fields.Nested(ReplayedDossierSchema, required=True)
    problems = fields.List(fields.String(), required=True)


class VerifySchema(Schema):
    ok = fields.Boolean(required=True)
    events = fields.Integer(required=True)
    chain_ok = fields.Boolean(required=True)
    replay_ok = fields.Boolean(required=True)
    first_bad_seq = fields.Integer(required=True, allow_none=True)
    problems = fields.List(fields.String(), required=True)
