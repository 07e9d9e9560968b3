"""Sign-in and officer accounts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class CredentialsSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=500))


class OfficerBriefSchema(Schema):
    username = fields.String(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)


class TokenSchema(Schema):
    token = fields.String(required=True, metadata={"description": "send as Authorization: Bearer <token>"})
    expires_at = fields.AwareDateTime(required=True)
    officer = fields.Nested(OfficerBriefSchema, required=True)


class RevokeSchema(Schema):
    token = fields.String(validate=validate.Length(min=1, max=200),
                          metadata={"description": "another token of yours to revoke; default: this one"})


class OfficerSchema(OfficerBriefSchema):
    active = fields.Boolean(required=True)
    demo = fields.Boolean(required=True, metadata={"description": "usable only in demo mode"})


class NewOfficerSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=80))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=32))
    roles = fields.List(fields.String(validate=validate.Length(min=1, max=40)), required=True,
                        validate=validate.Length(min=1, max=20))
    password = fields.String(required=True, validate=validate.Length(min=8, max=500))


class PasswordSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(min=8, max=500))


class OfficerFilterSchema(Schema):
    unit = fields.String(validate=validate.Length(min=1, max=32))
