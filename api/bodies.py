"""Request bodies: how big, and how deeply nested.

JSON bodies (sign-in, opening a dossier, every action) are capped at LANDFLOW_MAX_BODY_BYTES; only the
procedure uploads get the larger MAX_CONTENT_LENGTH (4 × LANDFLOW_MAX_BPMN_BYTES, a BPMN with its DMN
files). Both refusals are 413 problem+json decided from the Content-Length header, before a byte of
the body is read or parsed.

JSON nested deeper than MAX_DEPTH is refused with 400 `invalid_json`. Python's JSON parser recurses:
a body of a hundred thousand `[` ended in RecursionError (a 500), and a deep but parseable `parcel`
would have been stored and hashed into a dossier's history for ever. No landflow body needs more than
a few levels.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import RequestURITooLarge

from .problems import ApiProblem

# the API's and the pages' procedure uploads (a BPMN with its DMN files)
UPLOADS = frozenset({"procedures.deploy", "procedures.validate", "web_procedures.check", "web_procedures.deploy"})
# a dossier's papers (one scanned file each): LANDFLOW_MAX_UPLOAD_BYTES plus the multipart envelope
FILE_UPLOADS = frozenset({"documents.add", "web_documents.upload", "web_reception.receive"})
ENVELOPE = 64 * 1024
MAX_DEPTH = 32
# Longest URL (path and query) taken: the longest landflow makes (a decision's form data in `?data=`, a
# Link header's next page) is far shorter. `landflow serve` lets gunicorn read request lines up to its
# maximum, 8190 bytes, so this app answers 414 problem+json (or a page) rather than gunicorn's HTML.
MAX_URL = 8000


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Is `value` nested more than `limit` containers deep? Iterative: it must not recurse itself."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def guard_url() -> None:
    if max(len(request.environ.get("RAW_URI") or ""), len(request.full_path)) > MAX_URL:
        raise RequestURITooLarge(f"the URL is longer than {MAX_URL} characters")


def init_app(app: Flask, max_body_bytes: int, max_upload_bytes: int = 20_000_000) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, guard_url)  # before authentication: 414, not 401

    @app.before_request
    def guard_body() -> None:
        if request.endpoint in FILE_UPLOADS:
            request.max_content_length = max_upload_bytes + ENVELOPE
        elif request.endpoint not in UPLOADS:
            request.max_content_length = max_body_bytes
        if not request.is_json or request.method in ("GET", "HEAD", "OPTIONS"):
            return
        data = request.get_data(cache=True)  # 413 here when the body is over the cap
        if not data:
            return
        try:
            parsed = json.loads(data)
        except RecursionError:
            raise ApiProblem(400, "invalid_json", f"the JSON body is nested more than {MAX_DEPTH} levels deep") \
                from None
        except ValueError:
            return  # not JSON at all: webargs says so in its own words (400 invalid_request)
        if too_deep(parsed):
            raise ApiProblem(400, "invalid_json", f"the JSON body is nested more than {MAX_DEPTH} levels deep")
