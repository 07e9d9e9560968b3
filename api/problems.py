"""Errors as `application/problem+json` (RFC 9457), everywhere, including Flask's and webargs' own.

Every body has `type`, `title`, `status` and `detail`; refusals add the engine's stable `code` and,
where there are several things wrong, `problems: [{element, rule, message}]`. A 500 says only that
something failed and gives an id to find the logged traceback; it never shows the traceback.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from engine.definitions import DefinitionRefused
from engine.errors import CommandRefused, Conflict, Forbidden, Invalid, NotFound, Stale

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("landflow.api")
_ELEMENT = re.compile(r"^([A-Za-z_][\w.]*): (.+)$", re.S)


# The one place refusals become HTTP statuses: the engine raises types and knows nothing of HTTP.
STATUS_OF_REFUSAL: dict[type[CommandRefused], int] = {
    Forbidden: 403, NotFound: 404, Conflict: 409, Stale: 412, Invalid: 422,
}


def status_of(err: CommandRefused) -> int:
    """The HTTP status of a refusal (by its type; a subclass such as a procedure incident inherits it)."""
    for cls, status in STATUS_OF_REFUSAL.items():
        if isinstance(err, cls):
            return status
    return 422


class ApiProblem(Exception):
    """A refusal decided by the HTTP layer itself (authentication, read scope, bad cursor)."""

    def __init__(self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = dict(headers or {})


def problem(status: int, detail: str, *, code: str | None = None, problems: Iterable[Mapping[str, str]] = (),
            headers: Mapping[str, str] | None = None, title: str | None = None) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:landflow:problem:{code}" if code else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if code:
        body["code"] = code
    listed = [dict(p) for p in problems]
    if listed:
        body["problems"] = listed
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _text_problems(code: str, texts: Iterable[str]) -> list[dict[str, str]]:
    """The engine's problem strings ("area: required") as {element, rule, message}."""
    out = []
    for text in texts:
        m = _ELEMENT.match(text)
        out.append({"element": m[1] if m else "", "rule": code, "message": m[2] if m else text})
    return out


def _flatten(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """webargs/marshmallow errors {"json": {"reason": ["Not a valid string."]}} as a flat list."""
    out: list[dict[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list | tuple):
        for value in messages:
            out += _flatten(value, prefix)
    else:
        out.append({"element": prefix, "rule": "schema", "message": str(messages)})
    return out


def from_refusal(err: CommandRefused) -> Response:
    return problem(status_of(err), err.message, code=err.code, problems=_text_problems(err.code, err.problems))


def from_definition(err: DefinitionRefused) -> Response:
    return problem(422, f"the procedure file has {len(err.problems)} problem(s); nothing was stored",
                   code="invalid_procedure", problems=[p.as_dict() for p in err.problems])


def from_http(err: HTTPException) -> Response:
    status = err.code or 500
    data = getattr(err, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    if messages:
        return problem(status, "the request does not match the operation's schema", code="invalid_request",
                       problems=_flatten(messages), headers=data.get("headers"))
    headers = {k: v for k, v in err.get_headers() if k.lower() == "allow"}
    detail = data.get("message") or err.description or HTTPStatus(status).phrase
    return problem(status, str(detail), headers=headers)


def from_database(err: Exception) -> Response:
    """The database is down, unreachable, or (SQLite) its write lock was not free within busy_timeout:
    503 with Retry-After, never a 500. The command's transaction did not commit, so nothing changed
    and the client may simply try again (with If-Match, to be sure nothing moved meanwhile)."""
    incident = uuid.uuid4().hex[:12]
    text = str(getattr(err, "orig", None) or err).lower()
    busy = "locked" in text or "busy" in text
    log.warning("database %s (incident %s): %s", "busy" if busy else "unavailable", incident,
                str(err).splitlines()[0][:300] if str(err) else type(err).__name__)
    if busy:
        return problem(503, f"the database is busy; try again in a moment (incident {incident})",
                       code="database_busy", headers={"Retry-After": "1"})
    return problem(503, f"the database is not answering; try again shortly (incident {incident})",
                   code="database_unavailable", headers={"Retry-After": "5"})


def _database_or_internal(err: DBAPIError) -> Response:
    """Other driver errors: a connection lost mid-statement is 503; the rest are defects (500)."""
    if is_unavailable(err):
        return from_database(err)
    return internal_problem(err)


UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def is_unavailable(err: BaseException) -> bool:
    """The database is down, unreachable or locked (503), as opposed to a defect (500)."""
    return isinstance(err, UNAVAILABLE) or (isinstance(err, DBAPIError) and bool(err.connection_invalidated))


def internal_problem(err: Exception) -> Response:
    """A 500 that names an incident id and logs the traceback under it; never shows the traceback."""
    incident = uuid.uuid4().hex[:12]
    log.exception("unhandled error (incident %s)", incident, exc_info=err)
    return problem(500, f"internal error; the server log has the details under incident {incident}",
                   code="internal_error")


def register(app: Flask) -> None:
    app.register_error_handler(CommandRefused, from_refusal)
    app.register_error_handler(DefinitionRefused, from_definition)
    app.register_error_handler(ApiProblem, lambda e: problem(e.status, e.detail, code=e.code, headers=e.headers))
    app.register_error_handler(HTTPException, from_http)
    for unavailable in UNAVAILABLE:
        app.register_error_handler(unavailable, from_database)
    app.register_error_handler(DBAPIError, _database_or_internal)
    app.register_error_handler(Exception, internal_problem)
