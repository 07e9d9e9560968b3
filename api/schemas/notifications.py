"""Notifications to applicants that the desk must know about: failed, or late (engine/notifications)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.notifications.texts import KINDS


class NotificationTroubleSchema(Schema):
    id = fields.Integer(required=True)
    dossier = fields.Integer(required=True)
    dossier_code = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    channel = fields.String(required=True, validate=validate.OneOf(("email", "sms")))
    state = fields.String(required=True, metadata={"description": "failed; or pending/sending for longer than "
                                                                  "LANDFLOW_NOTIFY_LATE_MINUTES (late)"})
    attempts = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True, metadata={"description": "when the event that caused it "
                                                                            "happened"})
    error = fields.String(required=True, metadata={"description": "the last error, `code: detail`"})


class NotificationFilterSchema(Schema):
    unit = fields.String(validate=validate.Length(min=1, max=32),
                         metadata={"description": "the receiving desk (supervisors and auditors; a desk officer "
                                                  "sees only their own)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=200))
