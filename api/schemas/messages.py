"""Messages another agency delivers to a dossier (engine/runtime/messages.py)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

KEY_PATTERN = r"^[A-Za-z0-9._:/-]{1,100}$"


class MessageSchema(Schema):
    dossier = fields.String(required=True, validate=validate.Length(min=1, max=64),
                            metadata={"description": "the dossier's code (as on the receipt), e.g. "
                                                     "000.01.90.H17-260302-0001"})
    message = fields.String(required=True, validate=validate.Length(min=1, max=100),
                            metadata={"description": "the bpmn:message name the procedure waits for, e.g. tax_notice"})
    data = fields.Dict(keys=fields.String(), load_default=dict,
                       metadata={"description": "the payload, checked against the catch event's form"})
    key = fields.String(required=True, validate=validate.Regexp(KEY_PATTERN),
                        metadata={"description": "idempotency key: the same key again answers the first delivery "
                                                 "and records nothing"})


class DeliverySchema(Schema):
    code = fields.String(required=True, metadata={"description": "the dossier's code"})
    message = fields.String(required=True)
    element = fields.String(required=True, metadata={"description": "the catch event that received it"})
    seq = fields.Integer(required=True, metadata={"description": "the message_received event in the dossier's chain"})
    received_at = fields.String(required=True, metadata={"description": "when it was recorded (ISO 8601, UTC)"})
