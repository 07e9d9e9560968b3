"""Units of the organisation."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from config.organisation import UNIT_TYPES


class UnitSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(UNIT_TYPES))
    parent = fields.String(required=True, allow_none=True)
    remote = fields.Boolean(required=True, metadata={"description": "mountain/island/remote: +10 working days"})
    agency_code = fields.String(required=True, allow_none=True)


class UnitFilterSchema(Schema):
    type = fields.String(validate=validate.OneOf(UNIT_TYPES))
