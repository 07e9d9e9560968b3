"""Procedures: versions, steps with their "6 clear" metadata, validation reports."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import ProblemItemSchema


class FormFieldSchema(Schema):
    name = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(("text", "number", "integer", "bool", "date",
                                                                 "choice")))
    required = fields.Boolean(required=True)
    choices = fields.List(fields.String(), required=True)


class StepSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, allow_none=True)
    sla = fields.String(required=True, allow_none=True, metadata={"description": "working time, ISO 8601"})
    clock = fields.String(required=True, metadata={"description": "run, or paused (time the law excludes)"})
    result = fields.String(required=True, allow_none=True)
    legal_basis = fields.String(required=True, allow_none=True)
    form = fields.List(fields.Nested(FormFieldSchema), required=True)
    signed = fields.Boolean(required=True)


class CallSchema(Schema):
    """A call activity bound, at this version's deploy, to a fragment version (decision 0166)."""

    element = fields.String(required=True, metadata={"description": "the call activity's id"})
    key = fields.String(required=True, metadata={"description": "the fragment called"})
    version = fields.Integer(required=True)
    content_hash = fields.String(required=True)
    name = fields.String(required=True)


class ProcedureSchema(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    sla = fields.String(required=True, allow_none=True, metadata={"description": "statutory limit of a dossier"})
    legal_basis = fields.String(required=True, allow_none=True)
    remote_extension = fields.String(required=True, allow_none=True)
    content_hash = fields.String(required=True)
    deployed_at = fields.AwareDateTime(required=True)
    deployed_by = fields.String(required=True)
    steps = fields.List(fields.Nested(StepSchema), required=True)
    fragment = fields.Boolean(metadata={"description": "a fragment: called from procedures, never opened"})
    calls = fields.List(fields.Nested(CallSchema), metadata={"description": "the fragment versions it runs"})


class VersionSchema(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    content_hash = fields.String(required=True)
    deployed_at = fields.AwareDateTime(required=True)
    deployed_by = fields.String(required=True)
    effective_from = fields.Date(allow_none=True, metadata={"description": "day it takes effect; null: at deploy"})


class DeployedSchema(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    created = fields.Boolean(required=True, metadata={"description": "false: the same file was already deployed"})


class ValidationSchema(Schema):
    ok = fields.Boolean(required=True)
    key = fields.String(required=True, allow_none=True)
    name = fields.String(required=True, allow_none=True)
    problems = fields.List(fields.Nested(ProblemItemSchema), required=True)
    six_clear = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Boolean()),
                            required=True, metadata={"description": "per step: people, work, results, authority, "
                                                                    "progress, responsibility"})
    completeness = fields.Float(required=True, metadata={"description": "share of 6-clear cells satisfied, 0..1"})
    steps = fields.List(fields.Nested(StepSchema), required=True)


BPMN_BODY = {
    "required": True,
    "description": "the BPMN file as the raw body (application/xml), or as the multipart field `file` with any "
                   "number of DMN files in the multipart field `dmn`",
    "content": {
        "application/xml": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "dmn": {"type": "array", "items": {"type": "string", "format": "binary"}},
            },
        }},
    },
}


class DraftSchema(Schema):
    key = fields.String(required=True)
    revision = fields.Integer(required=True)
    name = fields.String(required=True)
    based_on = fields.Integer(required=True, allow_none=True,
                              metadata={"description": "the deployed version it began from"})
    problems = fields.Integer(required=True, metadata={"description": "the check's problems when saved"})
    saved_at = fields.AwareDateTime(required=True)
    revisions = fields.Integer(metadata={"description": "in the list of drafts: how many revisions"})


class PendingSchema(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    effective_from = fields.Date(required=True, metadata={"description": "day (Asia/Ho_Chi_Minh) it takes effect"})
    deployed_at = fields.AwareDateTime(required=True)
    deployed_by = fields.String(required=True)


class DeployArgsSchema(Schema):
    effective_from = fields.Date(load_default=None, metadata={
        "description": "the day (Asia/Ho_Chi_Minh) from which received dossiers use this version; default: at once"})
