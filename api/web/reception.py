"""The one-stop desk receives a dossier on a page: procedure, commune by name, applicant, parcel, how it
came, the procedure's checklist of papers (each ticked with its form and count, its scan attached), and
the reception step's own form.

One submit opens the dossier (one engine command, the papers ticked recorded in its `opened` event),
attaches each scan (`document_added`, after the open, each its own recorded act), and completes the
reception step with its form when the desk filled it in (accept, or refuse with a reason: the refusal
slip is then offered). Decision record docs/decisions (reception): the reception step stays a step of
its own in the history so that a refusal at the desk is an act of the desk officer like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import queries
from engine.communes import CommuneMatch, exact_commune, find_communes
from engine.definitions.fragments import is_fragment
from engine.definitions.model import ProcedureMeta, StepMeta
from engine.papers.documents import Upload, UploadRefused, add_document
from engine.papers.reception import CHANNELS, FORMS, ID_KINDS
from engine.runtime import CommandRefused

from ..problems import status_of
from . import stepforms
from .common import directory, lf, refusal_message, say
from .i18n import working_phrase
from .pages import blueprint
from .session import redirect_to, signed_in, signed_in_account

bp = blueprint("web_reception", __name__)
ID_KIND_WORDS = {"cccd": _l("Citizen ID card (CCCD, 12 digits)"), "passport": _l("Passport"),
                 "other": _l("Other identity paper")}
CHANNEL_WORDS = {"in_person": _l("In person at the desk"), "post": _l("By post"), "online": _l("Online")}
FORM_WORDS = {"original": _l("original"), "certified_copy": _l("certified copy"), "copy": _l("copy")}
APPLICANT = ("name", "id_kind", "id_number", "address", "phone", "email")
REPRESENTATIVE = ("name", "id_number", "phone", "authorisation")
PARCEL = ("sheet", "number", "address", "area")


@dataclass(frozen=True)
class ProcedureChoice:
    key: str
    name: str
    limit: str
    papers: int
    required: int


def reception_step(meta: ProcedureMeta) -> StepMeta | None:
    """The desk's step that opens right after the start event (its form is filled in at reception)."""
    starts = {n for n, node in meta.nodes.items() if node.kind == "startEvent" and n not in meta.parents}
    for flow in meta.flows.values():
        if flow.source in starts and flow.target in meta.steps:
            step = meta.steps[flow.target]
            return step if step.role == "one_stop_desk" else None
    return None


def _procedures() -> list[tuple[ProcedureChoice, ProcedureMeta]]:
    cal = lf().calendar
    out = []
    for p in queries.latest_procedures(lf().db):
        meta = ProcedureMeta.from_dict(p.meta)
        if meta.properties.get("jurisdiction_from"):
            continue  # a transitional hand-over is received on its own path (district_handover)
        if is_fragment(meta):
            continue  # called from procedures, never received (decision 0166)
        papers = meta.papers()
        limit = working_phrase(cal.minutes(meta.sla), cal.day_minutes) if meta.sla else ""
        out.append((ProcedureChoice(p.key, p.name, limit, len(papers),
                                    sum(1 for x in papers if x.required)), meta))
    return sorted(out, key=lambda t: t[0].name)


def _communes(query: str) -> list[CommuneMatch]:
    engine = lf()
    localities = engine.runtime.successors.localities() if engine.runtime.successors else None
    return find_communes(query, directory(), localities) if query.strip() else []


@bp.get("/reception")
@signed_in("one_stop_desk")
def start() -> Any:
    procedures = _procedures()
    key = request.args.get("procedure") or ""
    query = (request.args.get("commune_q") or "").strip()[:100]
    chosen = next(((c, m) for c, m in procedures if c.key == key), None)
    matches = _communes(query)
    if chosen is None or not matches:
        return render_template("reception_start.html", procedures=[c for c, _m in procedures], key=key, query=query,
                               searched=bool(query), matches=matches)
    return _form(chosen[0], chosen[1], query, matches, request.args)


def _form(choice: ProcedureChoice, meta: ProcedureMeta, query: str, matches: list[CommuneMatch],
          values: Any, error: str | None = None, problems: list[str] | None = None, status: int = 200) -> Any:
    step = reception_step(meta)
    exact = exact_commune(query, directory()) if query else None
    picked = values.get("commune") or exact or (matches[0].code if len(matches) == 1 else "")
    submitted = {k: v for k, v in values.items()} if hasattr(values, "items") else {}
    return render_template(
        "reception.html", choice=choice, meta=meta, papers=meta.papers(), query=query, matches=matches,
        picked=picked, step=step, fields=stepforms.fields(
            step.form if step else (), submitted if error else None,
            labels=stepforms.file_labels(meta, step.id) if step else None),
        channels=CHANNELS, forms=FORMS, id_kinds=ID_KINDS, v=submitted, error=error, problems=problems or [],
        id_kind_label=lambda k: str(ID_KIND_WORDS.get(k, k)), channel_label=lambda k: str(CHANNEL_WORDS.get(k, k)),
        form_label=lambda k: str(FORM_WORDS.get(k, k)),
    ), status


def _posted_applicant(form: Any) -> dict[str, Any]:
    applicant = {k: form.get(f"applicant_{k}", "").strip() for k in APPLICANT}
    applicant = {k: v for k, v in applicant.items() if v}
    rep = {k: form.get(f"rep_{k}", "").strip() for k in REPRESENTATIVE}
    rep = {k: v for k, v in rep.items() if v}
    if rep:
        applicant["representative"] = rep
    if form.get("notify_consent") == "on":  # recorded with the applicant in the `opened` event
        applicant["notify"] = {"consent": True, "channels": [c for c, f in (("email", "email"), ("sms", "phone"))
                                                             if applicant.get(f)]}
    return applicant


def _posted_parcel(form: Any) -> dict[str, Any]:
    parcel: dict[str, Any] = {}
    for k in PARCEL:
        value = form.get(f"parcel_{k}", "").strip()
        if value:
            parcel[k] = value
    return parcel


def _posted_papers(form: Any, meta: ProcedureMeta) -> list[dict[str, Any]]:
    out = []
    for paper in meta.papers():
        if form.get(f"paper_{paper.code}") != "on":
            continue
        try:
            count = int(form.get(f"count_{paper.code}", "1") or "1")
        except ValueError:
            count = 0  # the engine refuses it with the paper named
        out.append({"code": paper.code, "form": form.get(f"form_{paper.code}", "original"), "count": count})
    return out


@bp.post("/reception/<key>")
@signed_in("one_stop_desk")
def receive(key: str) -> Any:
    account = signed_in_account()
    engine = lf()
    chosen = next(((c, m) for c, m in _procedures() if c.key == key), None)
    if chosen is None:
        abort(404)
    choice, meta = chosen
    form = request.form
    query = form.get("commune_q", "")
    matches = _communes(query)
    commune = form.get("commune") or ""
    if commune not in {m.code for m in matches} and commune not in directory().units:
        return _form(choice, meta, query, matches, form, _("Choose the ward, commune or special zone of the parcel."),
                     status=422)
    uploads: list[tuple[str, Upload]] = []
    for paper in meta.papers():
        storage = request.files.get(f"file_{paper.code}")
        if storage is None or not storage.filename:
            continue
        try:
            uploads.append((paper.code, Upload.of(storage.read(engine.settings.max_upload_bytes + 1), storage.filename,
                                                  engine.settings.max_upload_bytes)))
        except UploadRefused as err:
            return _form(choice, meta, query, matches, form, _("The file for \"%(paper)s\" was refused: %(why)s",
                                                               paper=paper.name, why=upload_words(err.code)),
                         status=413 if err.code == "file_too_large" else 422)
    officer = account.officer()
    reception = {"channel": form.get("channel", "in_person"), "papers": _posted_papers(form, meta)}
    try:
        state = engine.runtime.open(officer, key, commune, _posted_applicant(form), _posted_parcel(form), {},
                                    reception=reception)
    except CommandRefused as err:
        return _form(choice, meta, query, matches, form, refusal_message(err), list(err.problems), status_of(err))
    for code, upload in uploads:
        add_document(engine.runtime, officer, state.id, upload, engine.blobs, paper=code)
    step = reception_step(meta)
    first = next((i for i in state.open_items() if step is not None and i.step == step.id), None)
    data = stepforms.submission(step.form, form) if step is not None else {}
    if first is not None and data:
        try:
            engine.runtime.complete(officer, first.id or 0, data)
        except CommandRefused as err:
            say(_("The dossier %(code)s was received, but its reception step was not completed: %(why)s",
                  code=state.code, why=refusal_message(err)), "error")
            return redirect_to("web_officer.dossier", dossier_id=state.id)
    say(_("Dossier %(code)s received. Print the receipt for the applicant.", code=state.code), "success")
    return redirect_to("web_officer.dossier", dossier_id=state.id, received=1)


def upload_words(code: str) -> str:
    return {"empty_file": _("the file is empty"),
            "file_too_large": _("the file is larger than allowed"),
            "unsupported_type": _("only PDF, JPEG and PNG scans are accepted (judged by the file's content)")}.get(
        code, code)

