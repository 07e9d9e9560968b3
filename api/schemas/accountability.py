"""Reviews of signals (explanation and verdict), absences with a deputy, delay causes."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.accountability import KINDS
from engine.delay_causes import BUCKETS
from engine.reviews import CAUSES, STATES, VERDICTS

from .reports import DAY, UNIT, PeriodArgsSchema

TEXT = validate.Length(max=4000)


class ReviewOpenSchema(Schema):
    dossier = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=1, max=2**63 - 1),
                             metadata={"description": "the signal's dossier; null for a signal of the audit log"})
    seq = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                         metadata={"description": "the signal's event seq (audit log seq when no dossier)"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    note = fields.String(load_default="", validate=TEXT)


class ExplanationSchema(Schema):
    explanation = fields.String(required=True, validate=TEXT)


class VerdictSchema(Schema):
    verdict = fields.String(required=True, validate=validate.OneOf(VERDICTS))
    cause = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CAUSES),
                          metadata={"description": "of a justified signal: " + ", ".join(CAUSES)})
    reason = fields.String(required=True, validate=TEXT)


class ReviewEntrySchema(Schema):
    seq = fields.Integer(required=True, metadata={"description": "audit log seq"})
    type = fields.String(required=True)
    actor = fields.String(required=True)
    at = fields.AwareDateTime(required=True)
    hash = fields.String(required=True)
    payload = fields.Dict(required=True)


class ReviewSchema(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    signal_dossier = fields.Integer(required=True, allow_none=True)
    signal_dossier_code = fields.String(required=True, allow_none=True)
    signal_seq = fields.Integer(required=True)
    signal_kind = fields.String(required=True)
    signal_at = fields.AwareDateTime(required=True)
    officer = fields.String(required=True, allow_none=True, metadata={"description": "the officer concerned"})
    unit = fields.String(required=True, allow_none=True)
    opened_by = fields.String(required=True)
    opened_at = fields.AwareDateTime(required=True)
    explanation_due = fields.AwareDateTime(required=True)
    explained_by = fields.String(required=True, allow_none=True)
    explained_at = fields.AwareDateTime(required=True, allow_none=True)
    explanation = fields.String(required=True, allow_none=True)
    escalated_at = fields.AwareDateTime(required=True, allow_none=True)
    verdict = fields.String(required=True, allow_none=True)
    cause = fields.String(required=True, allow_none=True)
    decided_by = fields.String(required=True, allow_none=True)
    decided_at = fields.AwareDateTime(required=True, allow_none=True)
    verdict_reason = fields.String(required=True, allow_none=True)
    entries = fields.List(fields.Nested(ReviewEntrySchema), metadata={"description": "one review only"})


class ReviewFilterSchema(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    unit = UNIT
    officer = fields.String(validate=validate.Length(min=1, max=80))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=200))


class AbsenceInSchema(Schema):
    officer = fields.String(required=True, validate=validate.Length(min=1, max=80))
    deputy = fields.String(required=True, validate=validate.Length(min=1, max=80))
    from_ = fields.Date(required=True, data_key="from", validate=DAY, metadata={"description": "first day"})
    to = fields.Date(required=True, validate=DAY, metadata={"description": "last day (included)"})
    reason = fields.String(required=True, validate=TEXT)

    @validates_schema
    def _order(self, data: dict[str, date], **_kw: object) -> None:
        if data["to"] < data["from_"]:
            raise ValidationError("`to` must not be before `from`", "to")


class AbsenceSchema(Schema):
    id = fields.Integer(required=True)
    officer = fields.String(required=True)
    deputy = fields.String(required=True)
    unit = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True)
    recorded_by = fields.String(required=True)
    recorded_at = fields.AwareDateTime(required=True)


class DelayArgsSchema(PeriodArgsSchema):
    group_by = fields.String(load_default="officer", validate=validate.OneOf(("officer", "unit")))
    unit = UNIT


class CauseRowSchema(Schema):
    key = fields.String(required=True)
    late_items = fields.Integer(required=True)
    delay_minutes = fields.Integer(required=True, metadata={"description": "working minutes beyond step limits"})

    applicant_minutes = fields.Integer(required=True, metadata={"description": "of the delay: supplement pauses"})
    other_agency_minutes = fields.Integer(required=True, metadata={"description": "paused steps (tax, …)"})
    officer_unit_minutes = fields.Integer(required=True, metadata={"description": "the holder's time beyond the limit"})
    procedure_incident_minutes = fields.Integer(required=True)
    applicant_share = fields.Float(required=True, allow_none=True)
    other_agency_share = fields.Float(required=True, allow_none=True)
    officer_unit_share = fields.Float(required=True, allow_none=True)
    procedure_incident_share = fields.Float(required=True, allow_none=True)


assert {f"{b}_minutes" for b in BUCKETS} <= set(CauseRowSchema._declared_fields)


class DelayReportSchema(Schema):
    group_by = fields.String(required=True)
    from_ = fields.AwareDateTime(required=True, data_key="from")
    to = fields.AwareDateTime(required=True)
    unit = fields.String(required=True, allow_none=True)
    rows = fields.List(fields.Nested(CauseRowSchema), required=True)
