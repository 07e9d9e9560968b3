"""Turning engine read models into response dicts, and the ETag / If-Match of a dossier."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from datetime import datetime
from typing import Any

from flask import Response, current_app, request

from engine import queries
from engine.runtime import CommandRefused

from ..auth import current_officer, engine
from ..problems import ApiProblem

_TAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
_ETAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\U0010ffff]*"'  # RFC 9110 entity-tag (obs-text as decoded by WSGI)
_ENTITY_TAGS = re.compile(rf"^[ \t]*{_ETAG}(?:[ \t]*,[ \t]*{_ETAG})*[ \t]*$")


_ITEM_FIELDS = tuple(f.name for f in fields(queries.ItemView))


def item_dict(i: queries.ItemView) -> dict[str, Any]:
    # not dataclasses.asdict: it deep-copies every value, which cost more than the query
    return {name: getattr(i, name) for name in _ITEM_FIELDS}


def summary_dict(d: queries.DossierView, now: datetime) -> dict[str, Any]:
    return {
        "id": d.id, "code": d.code, "procedure": d.procedure, "procedure_version": d.procedure_version,
        "version": d.version, "status": d.status, "outcome": d.outcome, "commune": d.commune,
        "desk_unit": d.desk_unit, "applicant_name": str(d.applicant.get("name", "")), "received_at": d.received_at,
        "due": d.due, "statutory_due": d.statutory_due, "finished_at": d.finished_at, "late": d.late(now),
    }


def dossier_dict(d: queries.DossierView, now: datetime) -> dict[str, Any]:
    out = summary_dict(d, now)
    out.update(supplement_count=d.supplement_count, apologised=d.apologised, remote=d.remote, last_seq=d.last_seq,
               applicant=d.applicant, parcel=d.parcel, work_items=[item_dict(i) for i in d.work_items])
    return out


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def expected_version() -> int | None:
    """The version named by If-Match; None when absent or `*`. A well-formed tag that is not a version we
    gave out can never match: it becomes -1, which the engine refuses (and records) as stale (412). A
    header that is no entity tag at all is a malformed request: 400, nothing recorded."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    m = _TAG.match(header)
    if m:
        return int(m[1])
    if _ENTITY_TAGS.match(header):
        return -1
    raise ApiProblem(400, "invalid_if_match", 'If-Match must be an entity tag as sent in ETag, e.g. "12", or *')


def visible_dossier(dossier_id: int) -> queries.DossierView:
    """The dossier if it exists and the caller may read it; otherwise 404 (out of scope looks absent)."""
    lf = engine()
    view = queries.dossier(lf.db, queries.Scope.of(current_officer()), dossier_id)
    if view is None:
        raise ApiProblem(404, "not_found", f"dossier {dossier_id} does not exist or is not yours to read")
    return view


def report_unit(report: str, action: str, unit: str | None = None) -> str | None:
    """May the caller read this report (engine.queries.report_unit)? The unit it is limited to, or the
    refusal — recorded in the audit log like a refused command (`action_refused`, signal
    `unauthorised_attempt`), then answered 403."""
    lf = engine()
    officer = current_officer()
    try:
        return queries.report_unit(officer, report, unit)
    except CommandRefused as err:
        lf.runtime.record_refusal(action, officer, err)
        raise


def after_command(dossier_id: int) -> tuple[Response, dict[str, str]]:
    """The dossier as it stands after a command its caller just ran (they may read what they touched)."""
    lf = engine()
    view = queries.dossier(lf.db, queries.Scope(None, ""), dossier_id)
    assert view is not None
    return dossier_response(view, lf.clock.now()), etag(view.version)


def _instant(value: Any) -> str:
    """json.dumps's `default`: called only for what JSON has no type for, here the instants."""
    if isinstance(value, datetime):
        return value.isoformat()  # what marshmallow's AwareDateTime dumps
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dossier_response(d: queries.DossierView, now: datetime) -> Response:
    """DossierSchema's JSON, written directly: every action answers with it, and marshmallow's dump of
    a dossier and its work items cost as much as the engine's whole step. The schema still documents
    the response; tests/api/test_fast_responses.py checks that both write the same document."""
    body = json.dumps(dossier_dict(d, now), ensure_ascii=False, separators=(",", ":"), default=_instant)
    return current_app.response_class(body, mimetype="application/json")


IF_MATCH = {"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
            "description": 'the dossier version you last read (its ETag, e.g. "7"); 412 when it has changed, '
                           "400 when it is no entity tag"}
