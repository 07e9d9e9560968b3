"""What-if: the query and the side-by-side report (engine/whatif, docs/whatif.md)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.whatif import MAX_MONTHS


class WhatIfArgsSchema(Schema):
    months = fields.Integer(load_default=6, validate=validate.Range(min=1, max=MAX_MONTHS),
                            metadata={"description": "how many months of history to replay, ending now"})
    seed = fields.Integer(load_default=1, validate=validate.Range(min=0, max=2**31 - 1),
                          metadata={"description": "the same seed gives the same report"})
    until = fields.Date(metadata={"description": "the window's last day (default today; not after today)"})


class OutcomeSchema(Schema):
    code = fields.String(required=True)
    received_at = fields.String(required=True)
    due_at = fields.String(required=True, allow_none=True)
    finished_at = fields.String(required=True, allow_none=True, metadata={"description": "predicted"})
    late_minutes = fields.Integer(required=True, metadata={"description": "working minutes past the deadline"})
    problem = fields.String(required=True, allow_none=True,
                            metadata={"description": "why the version could not run this dossier"})


class StepFigureSchema(Schema):
    step = fields.String(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True)
    items = fields.Integer(required=True)
    mean_wait_minutes = fields.Float(required=True, metadata={"description": "working minutes in the unit's queue"})
    mean_work_minutes = fields.Float(required=True)
    longest_wait_minutes = fields.Integer(required=True)
    duration_source = fields.String(required=True, validate=validate.OneOf(
        ("observed", "observed_other_units", "limit", "default")))


class VariantSchema(Schema):
    label = fields.String(required=True, validate=validate.OneOf(("in_force", "candidate")))
    version = fields.Integer(required=True, allow_none=True)
    dossiers = fields.Integer(required=True)
    simulated = fields.Integer(required=True)
    on_time = fields.Integer(required=True)
    on_time_rate = fields.Float(required=True, allow_none=True)
    late = fields.List(fields.Nested(OutcomeSchema), required=True)
    not_simulated = fields.List(fields.Nested(OutcomeSchema), required=True)
    steps = fields.List(fields.Nested(StepFigureSchema), required=True)
    bottlenecks = fields.List(fields.String(), required=True)
    load_ = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                        required=True, data_key="load", attribute="load",
                        metadata={"description": "unit -> ISO week -> work items that reached it"})


class WhatIfSchema(Schema):
    procedure = fields.String(required=True)
    months = fields.Integer(required=True)
    seed = fields.Integer(required=True)
    from_ = fields.String(required=True, data_key="from", attribute="from")
    to = fields.String(required=True)
    capacity = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                           metadata={"description": "unit -> items its officers had in hand at once"})
    officers = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    in_force = fields.Nested(VariantSchema, required=True)
    candidate = fields.Nested(VariantSchema, required=True)
    new_bottlenecks = fields.List(fields.String(), required=True)
