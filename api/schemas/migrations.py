"""Migration of running dossiers between versions of a procedure (engine/migration/)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.migration.plan import CANNOT, DEADLINE_RULES, MOVES, NEEDS_MAPPING

STEP = fields.String(validate=validate.Length(min=1, max=100))


class MigrationRequestSchema(Schema):
    from_version = fields.Integer(required=True, validate=validate.Range(min=1, max=1_000_000))
    to_version = fields.Integer(required=True, validate=validate.Range(min=1, max=1_000_000))
    mapping = fields.Dict(keys=STEP, values=STEP, load_default=dict,
                          metadata={"description": "{old step: new step} for open steps the new version lacks"})
    deadlines = fields.String(load_default="keep", validate=validate.OneOf(DEADLINE_RULES),
                              metadata={"description": "keep the items' due times, or recompute them from the "
                                                       "new limits counted from when each item became ready"})
    seen = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[0-9]{1,12}$")),
                       values=fields.Integer(validate=validate.Range(min=0, max=2**62)), load_default=None,
                       metadata={"description": "starting a run: {dossier id: version} of the dry run read; only "
                                                "those move, and one changed since is skipped as stale"})


class ItemMoveSchema(Schema):
    item = fields.Integer(required=True)
    from_step = fields.String(required=True)
    to_step = fields.String(required=True)
    role_changed = fields.Boolean(required=True)


class DossierPlanSchema(Schema):
    dossier_id = fields.Integer(required=True)
    code = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf((MOVES, NEEDS_MAPPING, CANNOT)))
    state_version = fields.Integer(required=True)
    reason = fields.String(allow_none=True)
    detail = fields.String()
    suggestion = fields.String(allow_none=True, metadata={"description": "a new step with the removed one's name"})
    moves = fields.List(fields.Nested(ItemMoveSchema))


class PlanSchema(Schema):
    procedure = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String())
    deadlines = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    problems = fields.List(fields.String())
    dossiers = fields.List(fields.Nested(DossierPlanSchema))


class BatchSchema(Schema):
    size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=500))


class RunSchema(Schema):
    id = fields.Integer(required=True)
    procedure = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    mapping = fields.Dict(keys=fields.String(), values=fields.String())
    deadlines = fields.String()
    total = fields.Integer(required=True)
    position = fields.Integer(required=True)
    moved = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    finished = fields.Boolean(required=True)
    percent = fields.Integer(required=True)
    report = fields.List(fields.Dict(), metadata={"description": "dossiers not moved, and why"})
    created_by = fields.String()
