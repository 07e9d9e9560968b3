"""Schemas shared by every resource: problems, pagination."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields, validate

MAX_PAGE = 200
# Instants a client may name (`since`, a new appointment): this century and the next. A date at the edge
# of the calendar (0001-01-01, 9999-12-31T23:59:59-23:59) is a typo, and converting it to UTC overflows.
INSTANT = validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC), max=datetime(2100, 12, 31, tzinfo=UTC),
                         error="must be between 2000-01-01 and 2100-12-31")


class ProblemItemSchema(Schema):
    element = fields.String(required=True, metadata={"description": "element id, field or parameter concerned"})
    rule = fields.String(required=True, metadata={"description": "stable rule code"})
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """application/problem+json (RFC 9457)."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(metadata={"description": "the engine's stable refusal code, e.g. wrong_unit"})
    problems = fields.List(fields.Nested(ProblemItemSchema))


class PageArgsSchema(Schema):
    """Cursor pagination: pass back the `X-Next-Cursor` header (also in the `Link: rel=next` header)."""

    cursor = fields.String(validate=validate.Length(max=200), metadata={"description": "from X-Next-Cursor"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE),
                           metadata={"description": f"page size, at most {MAX_PAGE}"})


PAGE_HEADERS = {
    "X-Next-Cursor": {"description": "cursor of the next page; absent on the last page",
                      "schema": {"type": "string"}},
    "Link": {"description": 'the next page as `<url>; rel="next"`; absent on the last page',
             "schema": {"type": "string"}},
}
ETAG_HEADERS = {"ETag": {"description": "the dossier's version, quoted; send it back in If-Match",
                         "schema": {"type": "string"}}}
