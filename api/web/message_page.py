"""The page on which another agency's officer records its answer to a dossier (e.g. the tax office's
notice of financial obligations): the dossier's code, then the form of each message the dossier waits
for from the officer's unit. Posting it is the same engine command as `POST /api/v1/messages`
(engine/runtime/messages.py): the engine decides and records every refusal.

The form carries an idempotency key made when it is shown, so a second click (or a resent form)
records the notice once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from engine.accounts import Account
from engine.definitions.forms import FormError, FormField, parse_form
from engine.org import UnresolvedOwner
from engine.runtime import CommandRefused
from engine.runtime.awaiting import has_messages
from engine.runtime.messages import message_nodes
from engine.store import DossierRow

from . import stepforms
from .common import directory, lf, refusal_message, say, unit_name
from .pages import blueprint
from .session import redirect_to, signed_in, signed_in_account

bp = blueprint("web_messages", __name__)


@dataclass
class Awaited:
    message: str
    name: str
    form: tuple[FormField, ...]
    fields: list[stepforms.FieldView]


def awaited_from(account: Account, code: str) -> list[Awaited]:
    """The messages the dossier `code` waits for now that this officer's unit answers; [] for a dossier that
    waits for none of theirs, or does not exist (the two look alike)."""
    engine = lf()
    with engine.db.read() as s:
        row = s.execute(select(DossierRow.awaiting, DossierRow.status, DossierRow.commune, DossierRow.desk_unit,
                               DossierRow.procedure_version_id).where(DossierRow.code == code.strip()[:64])).first()
        if row is None or not row.awaiting or row.status != "in_progress":
            return []
        proc = engine.procedures.get(s, row.procedure_version_id)
    if not has_messages(proc.meta):
        return []
    names = message_nodes(proc.spec)
    out: list[Awaited] = []
    for element in row.awaiting.split(","):
        node = proc.meta.nodes.get(element)
        role = node.properties.get("from_role", "") if node is not None else ""
        if node is None or role not in account.roles:
            continue
        try:
            if directory().owner_unit(role, row.commune, row.desk_unit) != account.unit:
                continue
            form = tuple(parse_form(node.properties.get("form")))
        except (UnresolvedOwner, FormError):
            continue
        out.append(Awaited(names.get(element, element), node.name or element, form,
                           stepforms.fields(form, request.form if request.method == "POST" else None)))
    return out


@bp.get("/messages")
@signed_in()
def index() -> Any:
    account = signed_in_account()
    code = request.args.get("code", "").strip()
    waits = awaited_from(account, code) if code else []
    return render_template("messages_deliver.html", code=code, waits=waits, key=secrets.token_urlsafe(12),
                           unit=unit_name(account.unit))


@bp.post("/messages")
@signed_in()
def deliver() -> Any:
    account = signed_in_account()
    code = request.form.get("code", "").strip()
    message = request.form.get("message", "")
    waits = {w.message: w for w in awaited_from(account, code)}
    shown = waits.get(message)
    data = stepforms.submission(shown.form if shown else (), request.form)
    try:
        lf().runtime.deliver_message(account.officer(), code, message, data, request.form.get("key", ""))
    except CommandRefused as err:
        say(refusal_message(err), "error")
        return render_template("messages_deliver.html", code=code, waits=[shown] if shown else [],
                               key=request.form.get("key", ""), unit=unit_name(account.unit)), 422
    say(_("The answer is recorded in dossier %(code)s.", code=code), "success")
    return redirect_to("web_messages.index")

