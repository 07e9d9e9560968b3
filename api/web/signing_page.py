"""The preview of a decision before it is signed, and the signing on the officer's own PC.

A signed step's form goes here first: the engine prepares the exact decision document it will check
(`prepare_decision`: same policy, same form check; a refusal is recorded as for `complete`), and the
page shows it in words (the dossier, the procedure, the step, the officer, the instant, every field
with its value) with its SHA-256 and the exact bytes. The officer then signs:

- with their USB token, through the local signing agent (`landflow signer-agent`, or a CA's plugin
  speaking the same two calls) at LANDFLOW_SIGNER_AGENT_URL: the page's script sends the bytes, gets
  the signature and posts it with the completion; the key never leaves the token (this page's
  Content-Security-Policy lets it reach that one local address, nothing else);
- in demo mode only, with the demo certificate (made by `landflow init`), or a pasted key.
Production refuses a pasted key (api/web/actions.py). Record 0126.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine import accounts, certificates
from engine.jsoncanon import parse_iso
from engine.runtime import CommandRefused
from engine.signatures import register_certificate

from ..slips.decision import vietnamese_labels
from ..unseen import unseen
from . import csrf, headers, stepforms
from .actions import _refused, _target_item, _version
from .common import lf, say
from .labels import REFUSAL, field_label
from .session import redirect_to, signed_in, signed_in_account

bp = Blueprint("web_signing", __name__, template_folder="templates")
bp.before_request(csrf.check)


def agent_origin(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


@bp.after_request
def _headers(resp: Response) -> Response:
    headers.apply(resp)
    origin = agent_origin(lf().settings.signer_agent_url)
    if origin:  # the one extra address this page's script may reach: the agent on the officer's PC
        resp.headers["Content-Security-Policy"] = headers.CSP.replace("connect-src 'self'",
                                                                      f"connect-src 'self' {origin}")
    return resp




@bp.post("/dossiers/<id:dossier_id>/items/<id:item_id>/preview")
@signed_in()
def preview(dossier_id: int, item_id: int) -> Any:
    account = signed_in_account()
    officer = account.officer()
    if unseen(officer, "dossier", dossier_id, "prepare_decision") is not None:
        abort(404)
    d, item, meta = _target_item(dossier_id, item_id)
    step = meta.steps.get(item.step)
    form = step.form if step is not None else ()
    data = stepforms.submission(form, request.form)
    try:
        draft = lf().runtime.prepare_decision(officer, item_id, data)
    except CommandRefused as err:
        return _refused(account, dossier_id, err, f"complete:{item_id}")
    tz = lf().calendar.tz
    words = [vietnamese_labels(k, v) for k, v in draft.data.items()]
    posted = [(f.input_name, f.value) for f in stepforms.fields(form, request.form)]
    demo = lf().settings.demo and account.demo
    return render_template(
        "sign.html", d=d, item=item, step_name=draft.step_name, draft=draft, words=words, posted=posted,
        signed_at_local=parse_iso(draft.signed_at).astimezone(tz).strftime("%H:%M:%S ngày %d/%m/%Y"),
        valid_until_local=draft.valid_until.astimezone(tz).strftime("%H:%M:%S ngày %d/%m/%Y"),
        document_b64=base64.b64encode(draft.document.encode("utf-8")).decode(), version=_version(),
        agent_url=lf().settings.signer_agent_url.rstrip("/"), demo=demo, officer_name=account.name,
        procedure_name=meta.name, field_label=field_label)


def refusal_words(code: str) -> str:
    found = REFUSAL.get(code)
    return str(found) if found is not None else code


@bp.route("/me/certificate", methods=["GET", "POST"])
@signed_in()
def my_certificate() -> Any:
    """The officer's own signing certificate: see it, or upload a new one (the certificate only)."""
    account = signed_in_account()
    error = None
    if request.method == "POST":
        upload = request.files.get("certificate")
        data = upload.read(certificates.MAX_BUNDLE + 1) if upload is not None and upload.filename else b""
        try:
            register_certificate(lf().db, account.officer(), data, lf().runtime.settings.trust, lf().clock.now())
        except CommandRefused as err:
            error = refusal_words(err.code)
        else:
            lf().directory.refresh()
            say(_("Your signing certificate is registered."), "success")
            return redirect_to("web_signing.my_certificate")
    current = accounts.get_account(lf().db, account.username)
    key = current.public_key if current is not None else None
    info = certificates.describe(key) if key and certificates.is_certificate(key) else None
    return render_template("certificate.html", info=info, dev_key=bool(key) and info is None, error=error), \
        (422 if error else 200)
