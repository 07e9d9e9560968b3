"""Procedure incidents (engine/runtime/incidents.py): the open ones, and the supervisor's move."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.runtime.incidents import CAUSES

from .common import PageArgsSchema
from .dossiers import REASON


class IncidentSchema(Schema):
    dossier = fields.Integer(required=True)
    dossier_code = fields.String(required=True)
    procedure = fields.String(required=True)
    procedure_version_id = fields.Integer(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True, metadata={"description": "the dossier's version (If-Match of a move)"})
    element = fields.String(required=True, metadata={"description": "the BPMN element where the procedure failed"})
    cause = fields.String(required=True, allow_none=True, validate=validate.OneOf(CAUSES))
    detail = fields.String(required=True, allow_none=True)
    action = fields.String(required=True, allow_none=True, metadata={"description": "the command that met it"})
    by = fields.String(required=True, allow_none=True, metadata={"description": "who ran it (no blame)"})
    raised_at = fields.AwareDateTime(required=True, allow_none=True)
    seq = fields.Integer(required=True, allow_none=True, metadata={"description": "the incident_raised event"})
    open_steps = fields.List(fields.String(), required=True)


class IncidentFilterSchema(PageArgsSchema):
    pass


class MoveSchema(Schema):
    to_step = fields.String(required=True, validate=validate.Length(min=1, max=100),
                            metadata={"description": "a step (user task) of the dossier's procedure version"})
    reason = REASON
