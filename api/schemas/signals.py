"""Accountability signals."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.schemas.common import INSTANT, PageArgsSchema
from engine.accountability import KINDS


class SignalSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    dossier = fields.Integer(required=True, allow_none=True, metadata={"description": "null: an act on no dossier"})
    dossier_code = fields.String(required=True, allow_none=True)
    seq = fields.Integer(required=True, metadata={"description": "event seq (audit log seq when no dossier)"})
    officer = fields.String(required=True, allow_none=True)
    unit = fields.String(required=True, allow_none=True)
    at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True, allow_none=True)


class SignalFilterSchema(PageArgsSchema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    unit = fields.String(validate=validate.Length(min=1, max=32))
    officer = fields.String(validate=validate.Length(min=1, max=80))
    since = fields.AwareDateTime(validate=INSTANT)
    dossier = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
