"""KPI and "6 clear" reports; the organisation-wide audit (verify, export, checkpoints); decision documents."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.definitions.lint import CLEAR
from engine.kpi import GROUPS, LEVELS

from .common import PageArgsSchema

# Reports cover days of this century: a date outside it is a typo, and would overflow time zones.
DAY = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))
RATINGS = (*LEVELS, "not_completed", "not_rated")
UNIT = fields.String(validate=validate.Length(min=1, max=32))


class PeriodArgsSchema(Schema):
    """A period of local days: [from 00:00, to 00:00) in the working calendar's time zone."""

    from_ = fields.Date(data_key="from", validate=DAY,
                        metadata={"description": "first day (local); default 1 January of this year"})
    to = fields.Date(validate=DAY, metadata={"description": "the day after the last (local); default tomorrow"})

    @validates_schema
    def _order(self, data: dict[str, date], **_kw: object) -> None:
        if "from_" in data and "to" in data and data["to"] <= data["from_"]:
            raise ValidationError("`to` must be after `from`", "to")


class KpiArgsSchema(PeriodArgsSchema):
    group_by = fields.String(load_default="officer", validate=validate.OneOf(GROUPS))
    unit = UNIT
    format = fields.String(validate=validate.OneOf(("json", "csv")),
                           metadata={"description": "csv: text/csv (also chosen by `Accept: text/csv`)"})
    table = fields.String(load_default="rows", validate=validate.OneOf(("rows", "dossiers")),
                          metadata={"description": "which table the CSV holds: the KPI rows, or the dossier level"})


class KpiRowSchema(Schema):
    key = fields.String(required=True, metadata={"description": "officer, unit or procedure; '-' for none"})
    handled = fields.Integer(required=True)
    on_time = fields.Integer(required=True)
    on_time_rate = fields.Float(required=True, allow_none=True)
    used_minutes = fields.Integer(required=True, metadata={"description": "working minutes used by handled items"})
    allowed_minutes = fields.Integer(required=True, metadata={"description": "working minutes they were given"})
    sla_use = fields.Float(required=True, allow_none=True, metadata={"description": "used / allowed"})
    overdue_open = fields.Integer(required=True)
    returns = fields.Integer(required=True)
    reroutes = fields.Integer(required=True)
    ping_pongs = fields.Integer(required=True)
    repeat_supplements = fields.Integer(required=True)
    refused_attempts = fields.Integer(required=True)
    idle_claims = fields.Integer(required=True)
    apologies = fields.Integer(required=True)
    escalations = fields.Integer(required=True)
    confirmed_shirking = fields.Integer(required=True, metadata={
        "description": "signals of the period a review confirmed as shirking (the counts above are raw signals)"})
    justified = fields.Integer(required=True, metadata={"description": "signals of the period a review justified"})
    rating = fields.String(required=True, validate=validate.OneOf(RATINGS))


class DossierKpiSchema(Schema):
    key = fields.String(required=True, metadata={"description": "procedure or receiving desk; 'all'"})
    to_process = fields.Integer(required=True)
    done = fields.Integer(required=True)
    done_on_time = fields.Integer(required=True)
    late_done = fields.Integer(required=True)
    late_in_progress = fields.Integer(required=True)
    late_rate = fields.Float(required=True, allow_none=True)
    on_time_share = fields.Float(required=True, allow_none=True)
    points_766 = fields.Float(required=True, allow_none=True)


class KpiReportSchema(Schema):
    group_by = fields.String(required=True, validate=validate.OneOf(GROUPS))
    from_ = fields.AwareDateTime(required=True, data_key="from")
    to = fields.AwareDateTime(required=True)
    unit = fields.String(required=True, allow_none=True, metadata={"description": "the report is limited to it"})
    generated_at = fields.AwareDateTime(required=True)
    rows = fields.List(fields.Nested(KpiRowSchema), required=True)
    dossiers = fields.List(fields.Nested(DossierKpiSchema), required=True,
                           metadata={"description": "per procedure or receiving desk (group_by procedure or "
                                                    "unit), then 'all'"})
    late_rate = fields.Float(required=True, allow_none=True,
                             metadata={"description": "(late in progress + late done) / to process"})
    points_766 = fields.Float(required=True, allow_none=True,
                              metadata={"description": "20 × done on time / done (Decision 766/QĐ-TTg)"})


SixClearCellsSchema = Schema.from_dict({c: fields.Boolean(required=True) for c in CLEAR}, name="SixClearCells")


class SixClearSchema(Schema):
    procedure = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    completeness = fields.Float(required=True, metadata={"description": "share of (step, clear) cells met, 0..1"})
    missing = fields.List(fields.String(), required=True, metadata={"description": "`step.clear` cells not met"})
    steps = fields.Dict(keys=fields.String(), values=fields.Nested(SixClearCellsSchema), required=True)


# -- the organisation-wide audit ------------------------------------------------------------------------

class VerifyArgsSchema(PageArgsSchema):
    dossier = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1),
                             metadata={"description": "check this dossier only (with the heads checkpoints "
                                                      "signed of it)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "dossiers per page, at most 1000"})


class FindingSchema(Schema):
    layer = fields.String(required=True, validate=validate.OneOf(("chain", "replay", "audit_log", "checkpoint")))
    dossier = fields.Integer(allow_none=True)
    seq = fields.Integer(allow_none=True)
    checkpoint = fields.Integer(allow_none=True)
    message = fields.String(required=True)


class IntegritySchema(Schema):
    ok = fields.Boolean(required=True, metadata={"description": "no finding on this page"})
    scope = fields.String(required=True, validate=validate.OneOf(("dossier", "page")))
    dossiers = fields.Integer(required=True, metadata={"description": "dossiers checked by this request"})
    first_dossier = fields.Integer(required=True, allow_none=True)
    last_dossier = fields.Integer(required=True, allow_none=True)
    organisation_checked = fields.Boolean(required=True,
                                          metadata={"description": "the audit log and every checkpoint were "
                                                                   "checked (the first page only)"})
    checkpoints = fields.Integer(required=True, metadata={"description": "checkpoints checked (or, for one "
                                                                         "dossier, that signed a head of it)"})
    first = fields.Nested(FindingSchema, required=True, allow_none=True,
                          metadata={"description": "the first inconsistency of this response"})
    findings = fields.List(fields.Nested(FindingSchema), required=True)


class ExportArgsSchema(PeriodArgsSchema):
    # a procedure key is a BPMN id; it goes into the file name of Content-Disposition (no CR/LF, no quote)
    procedure = fields.String(validate=[validate.Length(min=1, max=64), validate.Regexp(r"^[A-Za-z_][\w.\-]*\Z")])


class CheckpointSchema(Schema):
    id = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    events = fields.Integer(required=True)
    dossiers = fields.Integer(required=True)
    root = fields.String(required=True, metadata={"description": "Merkle root over every dossier's head"})
    prev = fields.String(required=True, metadata={"description": "hash of the checkpoint before it"})
    audit_seq = fields.Integer(required=True)
    record = fields.String(required=True, metadata={"description": "the signed record (canonical JSON)"})
    signature = fields.String(required=True, metadata={"description": "base64 Ed25519 signature of `record`"})
    key_id = fields.String(required=True, metadata={"description": "SHA-256 of the public key text"})
    verified = fields.Boolean(required=True, allow_none=True,
                              metadata={"description": "signature, columns and link to its predecessor check "
                                                       "with the key file; null: the key file is missing"})
    problem = fields.String(required=True, allow_none=True)


# -- decision documents ----------------------------------------------------------------------------------

class DecisionQuerySchema(Schema):
    data = fields.String(load_default="{}", validate=validate.Length(max=7_000),
                         metadata={"description": "the form data as a JSON object, e.g. {\"eligible\": true}; "
                                                  "a URL over 8000 characters is refused (414): POST larger forms"})
    signed_at = fields.String(validate=validate.Length(min=1, max=40),
                              metadata={"description": "the instant you will sign at, like "
                                                       "2026-02-05T02:00:00.000000Z; default now"})


class DecisionBodySchema(Schema):
    data = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                       values=fields.Raw(allow_none=True), load_default=dict,
                       metadata={"description": "the step's form fields, as you will send them to complete"})
    signed_at = fields.String(validate=validate.Length(min=1, max=40),
                              metadata={"description": "the instant you will sign at; default now"})


class DecisionSchema(Schema):
    dossier = fields.Integer(required=True)
    dossier_code = fields.String(required=True)
    item = fields.Integer(required=True, metadata={"description": "the work item's ordinal in its dossier"})
    work_item = fields.Integer(required=True)
    step = fields.String(required=True)
    step_name = fields.String(required=True)
    signed = fields.Boolean(required=True, metadata={"description": "false: the step needs no signature"})
    officer = fields.String(required=True)
    public_key = fields.String(required=True, allow_none=True,
                               metadata={"description": "your registered certificate (PEM with its chain; "
                                                       "ed25519:… as the development option); null: register "
                                                       "one first (PUT /me/certificate)"})
    signed_at = fields.String(required=True)
    valid_until = fields.AwareDateTime(required=True,
                                       metadata={"description": "complete before this, or sign again"})
    data = fields.Dict(required=True, metadata={"description": "the form data as the engine normalises it"})
    document = fields.String(required=True,
                             metadata={"description": "canonical JSON: sign its UTF-8 bytes with your "
                                                      "certificate's key (on your token)"})
    sha256 = fields.String(required=True)
