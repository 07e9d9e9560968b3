"""The auditor's dossier pages: search, and a dossier's history with step-by-step replay.

The timeline lists every event with its hash and the previous hash; a slider (an `<input
type=range>` in a GET form: it works without JavaScript; api/web/static/replay.js makes it live)
picks event N, and the page shows the dossier rebuilt from its events up to N (engine.history.replay):
its diagram with the steps done, open and the path taken at that moment, its status and work items.
The verify badge is engine.history.verify: the hash chain, and the replay against the stored state.

Read scopes are the API's (engine/queries.py): auditors and supervisors read every dossier, other
officers those their unit touched; a dossier out of scope is "not found".
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from engine import events as ev
from engine import queries
from engine.definitions.model import ProcedureMeta
from engine.events import parse_shown, reason_of
from engine.history import replay, verify
from engine.waiting import awaiting_of

from . import fragment_marks
from .collation import vi_key
from .common import directory, draw, lf, names, officer_name, unit_name
from .i18n import number, when
from .labels import CHOICE, EVENT, ITEM_STATE, OUTCOME, STATUS, field_label, label
from .messages import OFFICER_REASONS, english, notice, refused_event
from .pages import blueprint
from .session import signed_in, signed_in_account
from .stepforms import file_labels
from .tables import Column, Table, answer_csv
from .trace import highlight, step_states

bp = blueprint("web_audit", __name__)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PAGE = 50


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
OUT_OF_RANGE = "out_of_range"  # the 400's description: the error page says which values are taken


def parse_day(text: str | None) -> date | None:
    """A filter's day; None when it is no date. A date beyond this century and the next (0001-01-01,
    9999-12-31) is a 400 page: the period arithmetic around it would overflow."""
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        abort(400, description=OUT_OF_RANGE)
    return day


def parse_before(text: str | None) -> int | None:
    """The `before=` id of the next page; a number no database id can be (>= 2**63) is a 400 page."""
    try:
        before = int(text) if text else None
    except ValueError:
        return None
    if before is not None and not 1 <= before <= 2**63 - 1:
        abort(400, description=OUT_OF_RANGE)
    return before


def local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), lf().calendar.tz)


@bp.get("/audit/dossiers")
@signed_in()
def search() -> Any:
    account = signed_in_account()
    engine = lf()
    args = request.args
    names = {p.key: p.name for p in queries.latest_procedures(engine.db)}
    procedure = args.get("procedure") if args.get("procedure") in names else None
    status = args.get("status") if args.get("status") in STATUS else None
    unit = args.get("unit") if args.get("unit") in directory().units else None
    first, last = parse_day(args.get("from")), parse_day(args.get("to"))
    code = (args.get("code") or "").strip()[:60] or None
    before = parse_before(args.get("before"))

    def wanted(name: str) -> str | None:
        return (args.get(name) or "").strip()[:200] or None

    page = queries.dossiers(
        engine.db, queries.Scope.of(account.officer()), engine.clock.now(), status=status, unit=unit,
        procedure=procedure, code_contains=code, before_id=before, limit=PAGE,
        received_from=local_start(first) if first else None,
        received_before=local_start(last + timedelta(days=1)) if last else None,
        applicant=wanted("applicant"), id_number=wanted("id_number"), phone=wanted("phone"), parcel=wanted("parcel"))
    awaiting = awaiting_of(engine.db, [d.id for d in page.rows])
    rows = [{"id": d.id, "code": d.code, "procedure": names.get(d.procedure, d.procedure),
             "version": d.procedure_version,
             "status": d.status, "commune": unit_name(d.commune), "desk": unit_name(d.desk_unit),
             "applicant": d.applicant.get("name", ""), "received_at": d.received_at, "due": d.due,
             "finished_at": d.finished_at, "late": d.late(engine.clock.now())} for d in page.rows]
    for row in rows:  # waiting for another agency's answer (the tax notice): said beside the status
        row["awaiting"] = row["id"] in awaiting
    table = Table("dossiers", _("Dossiers"), [
        Column("code", _("Code"), show=lambda v, r: Markup('<a href="{}">{}</a>').format(
            url_for("web_audit.timeline", dossier_id=r["id"]), v)),
        Column("procedure", _("Procedure")), Column("version", _("Version"), numeric=True),
        Column("status", _("Status"), text=lambda v: label(STATUS, v), show=lambda v, r: str(label(STATUS, v)) + (
            " · " + _("waiting for another agency") if r["awaiting"] else "")),
        Column("commune", _("Commune")), Column("desk", _("Received at")), Column("applicant", _("Applicant")),
        Column("received_at", _("Received"), show=lambda v, r: when(v)),
        Column("due", _("Appointment"), show=lambda v, r: when(v)),
        Column("finished_at", _("Finished"), show=lambda v, r: when(v)),
        Column("late", _("Late"), text=lambda v: _("late") if v else ""),
    ], rows, _("No dossier matches."))
    csv = answer_csv([table])
    if csv is not None:
        return csv
    more = None
    if page.more and page.rows:
        kept: dict[str, Any] = {k: v for k, v in args.items() if k != "before"}
        more = url_for("web_audit.search", **kept, before=page.rows[-1].id)
    units = sorted(((u.code, u.name) for u in directory().units.values()), key=lambda x: vi_key(x[1]))
    return render_template("search.html", table=table, names=names, units=units, more=more, args=args)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, str) and v in CHOICE:
        return label(CHOICE, v)
    if isinstance(v, str) and ISO_DATE.fullmatch(v):
        return date.fromisoformat(v).strftime("%d/%m/%Y")
    if isinstance(v, int | float):
        return number(v, 0 if float(v).is_integer() else 2)
    return str(v)


def summary(etype: str, payload: dict[str, Any], meta: ProcedureMeta | None, step: str | None = None) -> str:
    """One line saying what an event did, for the timeline, from its codes and parameters."""
    def step_name(step: str | None) -> str:
        return meta.steps[step].name if meta is not None and step in meta.steps else (step or "")

    named = names(step_name)
    worded = notice(etype, payload, step, named)
    if worded is not None:  # the scheduler's notices: their stored reason is the engine's English
        return worded
    event = parse_shown(etype, payload)
    reason = reason_of(event) if etype in OFFICER_REASONS or english() else None
    parts: list[str] = []
    match event:
        case ev.Opened():
            parts.append(_("commune %(c)s", c=unit_name(event.effects.get("dossier", {}).get("commune"))))
        case ev.Completed():
            own = file_labels(meta, step) if meta is not None and step else {}  # the file's labels first
            parts += [f"{own.get(k) or field_label(k)}: {_value(v)}" for k, v in event.data.items()]
            if event.signature:
                parts.append(_("signed"))
            if event.refused:
                parts.append(_("refusal"))
        case ev.Returned():
            parts.append(_("back to %(step)s", step=step_name(event.to_step)))
        case ev.Transferred():
            target = officer_name(event.to_officer) or unit_name(event.to_unit)
            parts.append(f"{unit_name(event.from_unit)} → {target}")
            if event.ping_pong:
                parts.append(_("ping-pong"))
        case ev.SupplementRequested(repeat=True):
            parts.append(_("second request"))
        case ev.SupplementReceived():
            parts.append(event.note)
        case ev.Apologised():
            parts.append(_("new date %(d)s", d=named.instant(event.new_due)))
        case ev.ActionRefused():
            parts.append(refused_event(event, named))
        case ev.Continued():
            parts.append(event.code)
        case ev.TimerFired():
            parts.append(event.node)
    if reason:
        parts.append(_("reason: %(r)s", r=reason))
    return "; ".join(p for p in parts if p)


@bp.get("/audit/dossiers/<id:dossier_id>")
@signed_in()
def timeline(dossier_id: int) -> Any:
    account = signed_in_account()
    engine = lf()
    d = queries.dossier(engine.db, queries.Scope.of(account.officer()), dossier_id)
    if d is None:
        abort(404)
    found = queries.procedure_source(engine.db, d.procedure, d.procedure_version)
    assert found is not None
    proc, bpmn, _dmns = found
    meta = ProcedureMeta.from_dict(proc.meta)
    events = queries.events(engine.db, dossier_id, 0, 100_000).rows
    total = len(events)
    try:
        at = int(request.args.get("at", total))
    except ValueError:
        at = total
    at = max(1, min(total, at))
    with engine.db.read() as s:
        replayed = replay(s, engine.procedures, dossier_id, at)
        check = verify(s, engine.procedures, dossier_id, engine.blobs) if request.args.get("fragment") != "1" else None
    state = replayed.state
    hl = fragment_marks.fold(highlight(state, replayed.workflow, meta), meta)
    event = events[at - 1]
    svg = draw(bpmn, highlight=hl, uid="replay", states=fragment_marks.fold_states(step_states(state), meta),
               captions=fragment_marks.captions(meta),
               title=_("%(code)s as of event %(n)s", code=d.code, n=at),
               description=_("Steps open then: %(steps)s", steps=", ".join(sorted(
                   meta.steps[s].name for s in hl.current if s in meta.steps)) or _("none")))
    items = [{"ordinal": i.ordinal, "step": i.name, "unit": unit_name(i.unit), "assignee": officer_name(i.assignee),
              "state": i.state, "outcome": i.outcome, "due": i.due_at}
             for i in sorted(state.items.values(), key=lambda x: x.ordinal)]
    item_table = Table("items-as-of", _("Work items as of event %(n)s", n=at), [
        Column("ordinal", "#", numeric=True), Column("step", _("Step")), Column("unit", _("Unit")),
        Column("assignee", _("Officer")), Column("state", _("State"), text=lambda v: label(ITEM_STATE, v)),
        Column("outcome", _("Outcome"), text=lambda v: label(OUTCOME, v)),
        Column("due", _("Due"), show=lambda v, r: when(v))], items)
    rows = [{"seq": e.seq, "at": e.at, "type": e.type, "actor": e.actor, "unit": e.unit, "step": e.step,
             "summary": summary(e.type, json.loads(e.payload), meta, e.step), "hash": e.hash, "prev_hash": e.prev_hash}
            for e in events]
    event_table = Table("events", _("Events"), [
        Column("seq", "#", numeric=True, show=lambda v, r: Markup('<a href="{}#replay">{}</a>').format(
            url_for("web_audit.timeline", dossier_id=dossier_id, at=v), v)),
        Column("at", _("Time"), show=lambda v, r: when(v)),
        Column("type", _("Event"), text=lambda v: label(EVENT, v)),
        Column("actor", _("By"), text=officer_name), Column("unit", _("Unit"), text=unit_name),
        Column("step", _("Step"), text=lambda v: meta.steps[v].name if v in meta.steps else (v or "")),
        Column("summary", _("What")),
        Column("hash", _("Hash (SHA-256)"), show=lambda v, r: Markup('<code title="{}">{}…</code>').format(v, v[:12])),
        Column("prev_hash", _("Previous hash"),
               show=lambda v, r: Markup('<code title="{}">{}…</code>').format(v, v[:12])),
    ], rows, mark=lambda r: "current" if r["seq"] == at else "")
    csv = answer_csv([event_table, item_table])
    if csv is not None:
        return csv
    context = {"d": d, "proc": proc, "at": at, "total": total, "event": event, "state": state, "svg": svg,
               "items": item_table, "events": event_table, "check": check, "event_label": label(EVENT, event.type),
               "actor": officer_name(event.actor),
               "state_label": label(STATUS, state.status)}
    if request.args.get("fragment") == "1":
        return render_template("replay_fragment.html", **context)
    return render_template("timeline.html", **context)
