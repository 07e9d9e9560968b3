"""The dossier page's forms: each posts one engine command; the engine decides and records.

Success: a message and a redirect to the dossier page (post/redirect/get). Refusal: the dossier
page again, with the engine's reason in the officer's words, what they typed kept, and the HTTP
status of the refusal (409, 412, 422, ...). Every form carries the dossier version it was shown
with; if anyone acted on the dossier since, the engine refuses (`stale_version`) and the page says
so ("Hồ sơ đã được người khác xử lý trước, vui lòng tải lại") with the dossier as it now stands.
A form posted on a dossier the officer cannot read gets the page a missing dossier gets (404), and
the attempt is recorded in the audit log, not in that dossier's history (api/unseen.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from engine import queries
from engine.accounts import Account
from engine.definitions.forms import clean_submission
from engine.definitions.model import ProcedureMeta
from engine.runtime import CommandRefused

from ..problems import status_of
from ..slips.issuer import issuer
from ..unseen import unseen
from . import dossier_page, signing, stepforms
from .common import lf, refusal_message, say
from .messages import form_problem
from .pages import blueprint
from .session import redirect_to, signed_in, signed_in_account

bp = blueprint("web_actions", __name__)
ITEM_ACTIONS = ("complete", "claim", "release", "return", "transfer", "supplement")
ENGINE_ACTION = {"supplement": "request_supplement"}
DOSSIER_ACTIONS = ("receive_supplement", "apologise", "stop", "cancel")
SIGNING_MESSAGES = {
    "key_missing": _l("Choose or paste your private key file."),
    "key_passphrase": _l("The key file needs its passphrase (or it has none and a passphrase was given)."),
    "key_unreadable": _l("The key file cannot be read: it must be the PEM file that landflow officers keygen wrote."),
    "key_not_ed25519": _l("The key file is not an Ed25519 private key."),
    "demo_key_unavailable": _l("Demo keys are only for demo accounts in demo mode."),
    "key_demo_only": _l("A private key is never sent to the server: sign with your USB token (the signing "
                        "software on your computer). Pasting a key is only for the demo."),
}


def _version() -> int | None:
    raw = request.form.get("version")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1  # never a version the engine gave out: refused (and recorded) as stale


def _reason(name: str = "reason") -> str:
    return request.form.get(name, "")


def _refused(account: Account, dossier_id: int, err: CommandRefused, failed: str) -> Any:
    page = dossier_page.build(account, dossier_id, request.form, failed)
    if page is None:  # refused on a dossier this officer may not read: the reason, nothing more
        return render_template("error.html", status=status_of(err), message=refusal_message(err)), status_of(err)
    page.error = refusal_message(err)
    page.problems = [form_problem(p) for p in err.problems]
    return render_template("dossier.html", **dossier_page.describe(page)), status_of(err)


def _target_item(dossier_id: int, item_id: int) -> tuple[queries.DossierView, queries.ItemView, ProcedureMeta]:
    """The item, checked to belong to the dossier in the URL (read whole: the engine decides who may act)."""
    d = queries.dossier(lf().db, queries.Scope(None, ""), dossier_id)
    item = next((i for i in d.work_items if i.id == item_id), None) if d is not None else None
    if d is None or item is None:
        abort(404)
    found = queries.procedure_source(lf().db, d.procedure, d.procedure_version)
    assert found is not None
    return d, item, ProcedureMeta.from_dict(found[0].meta)


@bp.post("/dossiers/<id:dossier_id>/items/<id:item_id>/<string(length=None):action>")
@signed_in()
def item_action(dossier_id: int, item_id: int, action: str) -> Any:
    if action not in ITEM_ACTIONS:
        abort(404)
    account = signed_in_account()
    officer = account.officer()
    if unseen(officer, "dossier", dossier_id, ENGINE_ACTION.get(action, action)) is not None:
        abort(404)  # out of read scope: as a missing dossier, recorded off its chain (api/unseen.py)
    rt = lf().runtime
    version = _version()
    d, item, meta = _target_item(dossier_id, item_id)
    done: str
    try:
        if action == "claim":
            rt.claim(officer, item_id, expected_version=version)
            done = _("You have claimed the step “%(step)s”.", step=item.name)
        elif action == "release":
            rt.release(officer, item_id, expected_version=version)
            done = _("You have released the step “%(step)s” to your unit.", step=item.name)
        elif action == "return":
            rt.return_(officer, item_id, request.form.get("to_step", ""), _reason(), expected_version=version)
            done = _("The dossier was returned to an earlier step.")
        elif action == "transfer":
            kind, _sep, target = request.form.get("target", "").partition(":")
            rt.transfer(officer, item_id, _reason(), to_unit=target if kind == "unit" and target else None,
                        to_officer=target if kind == "officer" and target else None, expected_version=version)
            done = _("The step was transferred.")
        elif action == "supplement":
            rt.request_supplement(officer, item_id, _reason(), expected_version=version)
            done = _("The supplement request was recorded; the clock is paused until the applicant supplies it.")
        else:
            result = _complete(account, d, item, meta, version)
            if isinstance(result, str):
                page = dossier_page.build(account, dossier_id, request.form, f"complete:{item_id}")
                if page is None:
                    abort(404)
                page.error = result
                return render_template("dossier.html", **dossier_page.describe(page)), 422
            done = _("The step “%(step)s” is completed.", step=item.name)
    except CommandRefused as err:
        return _refused(account, dossier_id, err, f"{action}:{item_id}")
    say(done, "success")
    return redirect_to("web_officer.dossier", dossier_id=dossier_id)


def _complete(account: Account, d: queries.DossierView, item: queries.ItemView, meta: ProcedureMeta,
              version: int | None) -> str | None:
    """Complete with the step's form; for a signed step, sign first. A signing problem is returned as the
    message to show (the engine never saw a signature); every other refusal is the engine's."""
    step = meta.steps.get(item.step)
    form = step.form if step is not None else ()
    data = stepforms.submission(form, request.form)
    if stepforms.is_handback(meta, item.step) and not all(data.get(k) for k in stepforms.HANDBACK_FIELDS):
        return _("Write who collects the result and their identity number before handing it back.")
    officer = account.officer()
    signature = None
    if step is not None and step.signed:
        value = request.form.get("signature_value", "").strip()
        if value:  # signed on the officer's PC (the local agent or a CA plugin): the engine checks it
            signature = {"signed_at": request.form.get("signed_at", ""), "value": value}
            document = request.form.get("signature_document")
            if document:
                signature["document"] = document
            lf().runtime.complete(officer, item.id, data, expected_version=version, signature=signature)
            issuer().submit(d.id, item.step)
            return None
        method = request.form.get("sign_with", "key")
        upload = request.files.get("key_file")
        pem = upload.read(signing.MAX_KEY_BYTES + 1) if upload is not None and upload.filename else b""
        pem = pem or request.form.get("key_text", "").encode("utf-8", "replace")
        if method != "demo" and pem.strip() and not signing.demo_signing(lf(), account):
            return str(SIGNING_MESSAGES["key_demo_only"])  # a private key never belongs on the server
        clean, problems = clean_submission(list(form), dict(data))
        if not problems and (method == "demo" or pem.strip()):
            try:
                officer, signature = signing.sign(lf(), account, officer, method, pem,
                                                  request.form.get("passphrase") or None, d.code, item.step,
                                                  item.ordinal, clean)
            except signing.SigningProblem as err:
                return str(SIGNING_MESSAGES[err.code])
    lf().runtime.complete(officer, item.id, data, expected_version=version, signature=signature)
    if signature is not None:
        issuer().submit(d.id, item.step)
    return None


def _new_due(text: str) -> datetime | None:
    """A new appointment date (local day) at the end of the office day; None when it is not a date."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    cal = lf().calendar
    return datetime.combine(day, cal.office_hours[-1][1], cal.tz)


@bp.post("/dossiers/<id:dossier_id>/do/<string(length=None):action>")
@signed_in()
def dossier_action(dossier_id: int, action: str) -> Any:
    if action not in DOSSIER_ACTIONS:
        abort(404)
    account = signed_in_account()
    officer = account.officer()
    rt = lf().runtime
    version = _version()
    commands: dict[str, tuple[Callable[[], Any], str]] = {
        "receive_supplement": (lambda: rt.receive_supplement(officer, dossier_id, request.form.get("note", ""),
                                                             expected_version=version),
                               _("The supplement was received; the clock runs again.")),
        # the runtime refuses a missing date (recorded); its signature says datetime until cmd-path lands
        "apologise": (lambda: rt.apologise(officer, dossier_id, _reason(),
                                           _new_due(request.form.get("new_date", "")),  # type: ignore[arg-type]
                                           expected_version=version),
                      _("The apology and the new date were recorded.")),
        "stop": (lambda: rt.stop(officer, dossier_id, _reason(), expected_version=version),
                 _("The dossier was stopped at the applicant's request.")),
        "cancel": (lambda: rt.cancel(officer, dossier_id, _reason(), expected_version=version),
                   _("The dossier was cancelled.")),
    }
    if unseen(officer, "dossier", dossier_id, action) is not None:
        abort(404)  # out of read scope: as a missing dossier, recorded off its chain (api/unseen.py)
    command, done = commands[action]
    try:
        command()
    except CommandRefused as err:
        return _refused(account, dossier_id, err, f"{action}:")
    say(done, "success")
    resp: Response = redirect_to("web_officer.dossier", dossier_id=dossier_id)
    return resp
