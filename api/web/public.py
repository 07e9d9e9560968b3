"""The citizen's lookup page (`/tra-cuu`, also `/lookup`): no sign-in, readable on a phone, no JavaScript.

By the dossier code and the last four digits of the identity number, or straight from the receipt's QR
code (`?ma=…&t=…`). A wrong code and wrong digits get the same page and words. After the hand-back, the
applicant rates the service once from here. Limited per client address (api/limits.py).
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.lookup import PublicStatus, find, status
from engine.ratings import RATINGS, RatingRefused, rate

from ..lookup_key import lookup_key
from .common import lf
from .pages import blueprint
from .proof import paper_name

bp = blueprint("web_public", __name__)
STATE_WORDS = {
    "processing": _l("Being processed"), "awaiting_supplement": _l("Waiting for your papers"),
    "result_ready": _l("Result ready: please collect it"), "handed_back": _l("Result handed back"),
    "refused": _l("Not accepted"), "stopped": _l("Stopped at your request"), "cancelled": _l("Cancelled"),
}
RATING_WORDS = {"very_satisfied": _l("Very satisfied"), "satisfied": _l("Satisfied"),
                "not_satisfied": _l("Not satisfied")}


def _lookup(code: str, digits: str, token: str) -> PublicStatus | None:
    engine = lf()
    with engine.db.read() as s:
        row = find(s, code, digits or None, token or None, lookup_key(engine.settings))
        return status(s, row, engine.directory.get(), engine.clock.now()) if row is not None else None


@bp.get("/lookup")
def lookup_alias() -> Any:
    args: dict[str, Any] = dict(request.args)
    return redirect(url_for("web_public.lookup", **args), 301)


@bp.get("/tra-cuu")
def lookup() -> Any:
    code = (request.args.get("ma") or "").strip()[:64]
    digits = (request.args.get("so") or "").strip()[:8]
    token = (request.args.get("t") or "").strip()[:32]
    found = _lookup(code, digits, token) if code and (digits or token) else None
    asked = bool(code and (digits or token))
    resp = render_template("public_lookup.html", code=code, digits=digits, token=token, found=found, asked=asked,
                           state_words=lambda s: str(STATE_WORDS.get(s, s)), ratings=RATINGS,
                           rating_words=lambda r: str(RATING_WORDS.get(r, r)), paper_name=paper_name)
    return resp, (404 if asked and found is None else 200)


@bp.post("/tra-cuu/danh-gia")
def rate_page() -> Any:
    code = (request.form.get("ma") or "").strip()[:64]
    digits = (request.form.get("so") or "").strip()[:8]
    token = (request.form.get("t") or "").strip()[:32]
    engine = lf()
    with engine.db.read() as s:
        row = find(s, code, digits or None, token or None, lookup_key(engine.settings))
        found = status(s, row, engine.directory.get(), engine.clock.now()) if row is not None else None
    message, ok = "", False
    if row is None or found is None:
        message = _("No dossier matches this code and these digits.")
    elif not found.can_rate:
        message = _("This dossier can be rated once, after its result was handed back.")
    else:
        try:
            rate(engine.runtime, row.id, row.desk_unit, request.form.get("rating", ""), request.form.get("reason"))
            ok = True
            message = _("Thank you: your rating was recorded.")
        except RatingRefused as err:
            message = {"missing_reason": _("Please say why you are not satisfied.")}.get(
                err.code, _("Choose one of the ratings."))
    found = _lookup(code, digits, token) if row is not None else None
    return render_template("public_lookup.html", code=code, digits=digits, token=token, found=found, asked=True,
                           message=message, ok=ok, state_words=lambda s: str(STATE_WORDS.get(s, s)),
                           ratings=RATINGS, rating_words=lambda r: str(RATING_WORDS.get(r, r)),
                           paper_name=paper_name), (200 if ok else 422)
