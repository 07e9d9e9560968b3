"""The supervisor's pages: procedures and versions, checking an upload (lint, diagram, diff against the
version in force), deploying it, comparing two versions, downloading a version's BPMN.

Checking stores nothing. The check page carries the checked file in a hidden field of its "deploy"
form, so the supervisor deploys what they just saw without choosing the file again; the server
checks it again at deploy (the engine refuses a file with any problem, and records the attempt), so
the hidden copy cannot smuggle anything in. Everyone signed in may read procedures (as in the API);
checking is for supervisors; a deploy by anyone else is refused by the engine, which records it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from engine import queries
from engine.definitions import DefinitionRefused
from engine.definitions.diff import ProcedureDiff, diff
from engine.definitions.fragment_store import database_fragments
from engine.definitions.lint import CLEAR, LintReport, lint
from engine.definitions.model import ProcedureMeta
from engine.definitions.reader import read
from engine.definitions.versions import local_day, pending_versions, version_in_force
from engine.definitions.xmlsafe import parse_xml
from engine.policy import check_validate
from engine.runtime import CommandRefused
from engine.store import ProcedureVersionRow

from ..disposition import content_disposition
from ..problems import status_of
from . import fragment_marks
from .common import directory, draw, lf, refusal_message, role_name, say
from .diagram import Highlight
from .i18n import when
from .labels import CLOCK, field_label, label
from .lint_messages import problem_text
from .messages import duration_phrase
from .pages import blueprint
from .session import redirect_to, signed_in, signed_in_account
from .stepforms import file_labels
from .tables import Column, Table, answer_csv

bp = blueprint("web_procedures", __name__)
KEY = "string(maxlength=64)"


FORM_ITEM = re.compile(r"(\w+):(\w+)(?:\([^)]*\))?(!?)")
DURATION = re.compile(r"(?<![\w/])P(?:\d+[WD])*(?:T(?:\d+[HM])+)?(?![\w/])")


def form_words(dsl: str | None, labels: Mapping[str, str] | None = None) -> str:
    """A form in the `form` property's syntax (`decision:choice!; refusal_reason:text`) as its fields' labels
    (`labels`: the file's own, which win over the catalogue's)."""
    own = labels or {}
    return "; ".join((own.get(name) or field_label(name)) + (" " + _("(required)") if required else "")
                     for name, _type, required in FORM_ITEM.findall(dsl or ""))


def plain(text: str | None, kind: str = "") -> str:
    """A value of a procedure (or of a change of `kind`) with ISO durations, clocks and forms in words."""
    if not text:
        return ""
    if kind == "clock_changed":
        return label(CLOCK, text)
    if kind == "form_changed":
        return form_words(text)
    day = lf().calendar.day_minutes
    return DURATION.sub(lambda m: duration_phrase(m.group(0), day) if len(m.group(0)) > 1 else m.group(0), text)


def _steps_table(meta: ProcedureMeta, name: str = "steps") -> Table:
    rows = [{"id": s.id, "name": s.name, "role": s.role, "sla": s.sla, "clock": s.clock, "result": s.result,
             "legal_basis": s.legal_basis, "form": "; ".join(f"{f.name}:{f.type}{'!' if f.required else ''}"
                                                                for f in s.form), "signed": s.signed}
            for s in meta.steps.values()]
    return Table(name, _("Steps"), [
        Column("id", _("Step id")), Column("name", _("Step")),
        Column("role", _("Owner (role)"), text=lambda v: f"{role_name(v)} ({v})" if v else ""),
        Column("sla", _("Time limit"), show=lambda v, r: plain(v)),
        Column("clock", _("Clock"), show=lambda v, r: label(CLOCK, v)), Column("result", _("Result")),
        Column("legal_basis", _("Legal basis")),
        Column("form", _("Form"), show=lambda v, r: Markup('<span title="{}">{}</span>').format(
            v, form_words(v, file_labels(meta, r["id"])))),
        Column("signed", _("Signed"), text=lambda v: _("yes") if v else ""),
    ], rows)


def _meta_of(bpmn: bytes) -> ProcedureMeta | None:
    root, _problems = parse_xml(bpmn, "bpmn", lf().settings.max_bpmn_bytes)
    return read(root).meta if root is not None else None


def _latest(key: str) -> queries.ProcedureView | None:
    versions = queries.procedure_versions(lf().db, key)
    return versions[-1] if versions else None


def _in_force(key: str) -> queries.ProcedureView | None:
    """The version a dossier received now would use (effective dates honoured): what a candidate is
    compared with. The latest version may still be waiting for its day."""
    engine = lf()
    with engine.db.read() as s:
        vid = version_in_force(s, key, engine.clock.now())
        row = s.get(ProcedureVersionRow, vid) if vid is not None else None
        version = row.version if row is not None else None
    if version is None:
        return None
    return next((v for v in queries.procedure_versions(engine.db, key) if v.version == version), None)


def _changed(d: ProcedureDiff) -> Highlight:
    """The elements a diff touches, marked on the new version's diagram."""
    hl = Highlight()
    for c in d.changes:
        if c.kind.startswith(("flow_", "condition_")):
            hl.flows.add(c.element)
        elif c.kind != "procedure_changed":
            hl.current.add(c.element)
    return hl


@bp.get("/procedures")
@signed_in()
def index() -> Any:
    rows = []
    for p in queries.latest_procedures(lf().db):
        meta = ProcedureMeta.from_dict(p.meta)
        report = LintReport(p.key, p.name, [], meta.six_clear())
        rows.append({"key": p.key, "name": p.name, "version": p.version, "sla": meta.sla, "steps": len(meta.steps),
                     "six_clear": report.completeness, "deployed_at": p.deployed_at, "deployed_by": p.deployed_by,
                     "effective_from": p.effective_from})
    table = Table("procedures", _("Procedures in force"), [
        Column("key", _("Key"), show=lambda v, r: Markup('<a href="{}">{}</a>').format(
            url_for("web_procedures.procedure", key=v), v)),
        Column("name", _("Name")), Column("version", _("Version"), numeric=True),
        Column("sla", _("Statutory limit"), show=lambda v, r: plain(v)),
        Column("steps", _("Steps"), numeric=True),
        Column("six_clear", _("“6 clear”"), text=lambda v: f"{v:.0%}", numeric=True),
        Column("deployed_at", _("Deployed"), show=lambda v, r: when(v)), Column("deployed_by", _("By")),
        Column("effective_from", _("Takes effect on"), show=lambda v, r: v.strftime("%d/%m/%Y") if v else "",
               text=lambda v: v.isoformat() if v else ""),
    ], rows)
    pending = _pending_table()
    return answer_csv([table, pending]) or render_template("procedures.html", table=table, pending=pending)


def _pending_table() -> Table:
    """Versions deployed to take effect on a later day (the decree's): until then, dossiers use the one before."""
    engine = lf()
    with engine.db.read() as s:
        rows = [p.as_dict() for p in pending_versions(s, engine.clock.now())]
    return Table("pending", _("Versions awaiting their effective date"), [
        Column("key", _("Key")), Column("name", _("Name")), Column("version", _("Version"), numeric=True),
        Column("effective_from", _("Takes effect on"), show=lambda v, r: v.strftime("%d/%m/%Y"),
               text=lambda v: v.isoformat()),
        Column("deployed_at", _("Deployed"), show=lambda v, r: when(v)), Column("deployed_by", _("By")),
    ], rows, _("No version is waiting for its effective date."))


def _effective_from() -> tuple[date | None, str | None]:
    """The deploy form's effective date (yyyy-mm-dd from the date field): none, a day, or why it is refused."""
    raw = request.form.get("effective_from", "").strip()
    if not raw:
        return None, None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, _("The effective date is not a date.")
    if day < local_day(lf().clock.now()):
        return None, _("The effective date is in the past: leave it empty to deploy with effect from now.")
    return day, None


@bp.get(f"/procedures/<{KEY}:key>")
@signed_in()
def procedure(key: str) -> Any:
    versions = queries.procedure_versions(lf().db, key)
    if not versions:
        abort(404)
    try:
        shown = int(request.args.get("v", versions[-1].version))
    except ValueError:
        shown = versions[-1].version
    if shown not in {v.version for v in versions}:  # also a number too large for the database's column
        abort(404)
    found = queries.procedure_source(lf().db, key, shown)
    if found is None:
        abort(404)
    view, bpmn, _dmns = found
    meta = ProcedureMeta.from_dict(view.meta)
    svg = draw(bpmn, uid="proc", captions=fragment_marks.captions(meta),
               title=_("Procedure %(name)s, version %(version)s", name=view.name, version=view.version))
    table = Table("versions", _("Versions"), [
        Column("version", _("Version"), show=lambda v, r: Markup('<a href="{}">v{}</a>').format(
            url_for("web_procedures.procedure", key=key, v=v), v)),
        Column("deployed_at", _("Deployed"), show=lambda v, r: when(v)), Column("deployed_by", _("By")),
        Column("content_hash", _("Content hash (SHA-256)"),
               show=lambda v, r: Markup("<code>{}…</code>").format(v[:16])),
    ], [{"version": v.version, "deployed_at": v.deployed_at, "deployed_by": v.deployed_by,
         "content_hash": v.content_hash} for v in reversed(versions)])
    steps = _steps_table(meta)
    return answer_csv([table, steps]) or render_template(
        "procedure.html", view=view, meta=meta, svg=svg, versions=versions, table=table, steps=steps)


@bp.get(f"/procedures/<{KEY}:key>/v<int:version>.bpmn")
@signed_in()
def download(key: str, version: int) -> Response:
    found = queries.procedure_source(lf().db, key, version)
    if found is None:
        abort(404)
    return Response(found[1], mimetype="application/xml",
                    headers={"Content-Disposition": content_disposition(f"{key}.v{version}.bpmn")})


def diff_tables(d: ProcedureDiff) -> list[Table]:
    def rows(group: str) -> list[dict[str, Any]]:
        return [c.as_dict() for c in d.group(group)]

    def cols(*extra: Column) -> list[Column]:
        return [Column("element", _("Element")), Column("name", _("Name")), *extra]

    kind = Column("kind", _("Change"), text=lambda v: _kind_label(v))
    before = Column("before", _("Before"), show=lambda v, r: plain(v, r.get("kind", "")))
    after = Column("after", _("After"), show=lambda v, r: plain(v, r.get("kind", "")))
    return [
        Table("added", _("Steps added"), cols(Column("after", _("Owner · limit"), show=lambda v, r: _summary(v))),
              rows("added"), _("None.")),
        Table("removed", _("Steps removed"),
              cols(Column("before", _("Owner · limit"), show=lambda v, r: _summary(v))), rows("removed"), _("None.")),
        Table("role", _("Moved to another role"), cols(
            Column("before", _("Before"), text=_role), Column("after", _("After"), text=_role)), rows("role"),
              _("None.")),
        Table("sla", _("Time limits changed"), cols(kind, before, after), rows("sla"), _("None.")),
        Table("conditions", _("Conditions and flows changed"),
              cols(kind, Column("detail", _("From → to")), before, after), rows("conditions"), _("None.")),
        Table("other", _("Other changes"), cols(kind, Column("detail", _("Property")), before, after), rows("other"),
              _("None.")),
    ]


def _summary(text: str | None) -> str:
    """`registration_branch · P3D` → the role's name and the limit in working time."""
    role, _sep, limit = (text or "").partition(" · ")
    return f"{_role(role)} · {plain(limit)}" if limit else plain(text)


def _role(code: str | None) -> str:
    return f"{role_name(code)} ({code})" if code else ""


def _kind_label(kind: str) -> str:
    names = {
        "sla_changed": _("time limit"), "clock_changed": _("clock"), "condition_changed": _("condition"),
        "flow_added": _("flow added"), "flow_removed": _("flow removed"), "flow_redirected": _("flow redirected"),
        "step_renamed": _("renamed"), "form_changed": _("form"), "result_changed": _("result"),
        "legal_basis_changed": _("legal basis"), "signed_changed": _("signed"), "node_added": _("element added"),
        "node_removed": _("element removed"), "node_renamed": _("element renamed"),
        "procedure_changed": _("procedure property"),
    }
    return names.get(kind, kind)


@bp.get(f"/procedures/<{KEY}:key>/diff")
@signed_in()
def compare(key: str) -> Any:
    versions = queries.procedure_versions(lf().db, key)
    if not versions:
        abort(404)
    numbers = [v.version for v in versions]
    try:
        old_v = int(request.args.get("from", numbers[-2] if len(numbers) > 1 else numbers[-1]))
        new_v = int(request.args.get("to", numbers[-1]))
    except ValueError:
        abort(404)
    if old_v not in numbers or new_v not in numbers:  # also a number too large for the database's column
        abort(404)
    old, new = queries.procedure_source(lf().db, key, old_v), queries.procedure_source(lf().db, key, new_v)
    if old is None or new is None:
        abort(404)
    d = diff(ProcedureMeta.from_dict(old[0].meta), ProcedureMeta.from_dict(new[0].meta))
    tables = diff_tables(d)
    svg = draw(new[1], highlight=_changed(d), uid="diff",
               title=_("Version %(new)s of %(name)s, changes against version %(old)s marked", new=new_v,
                       name=new[0].name, old=old_v))
    return answer_csv(tables) or render_template("diff.html", key=key, name=new[0].name, old_v=old_v, new_v=new_v,
                                                 numbers=numbers, tables=tables, diff=d, svg=svg)


# -- checking and deploying an upload (supervisors) ---------------------------------------------------

def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _uploaded() -> tuple[bytes, list[bytes]]:
    """The files from the upload form, or (exact bytes, base64 in hidden fields) from a check page's
    deploy form: a browser rewrites line breaks in text fields, which would change the content hash."""
    if "bpmn_b64" in request.form:
        return _b64(request.form["bpmn_b64"]), [_b64(t) for t in request.form.getlist("dmn_b64") if t]
    file = request.files.get("bpmn")
    bpmn = file.read() if file is not None and file.filename else b""
    dmns = [f.read() for f in request.files.getlist("dmn") if f.filename]
    return bpmn, dmns


def _six_clear_table(report: LintReport) -> Table:
    names = {s["id"]: s["name"] for s in report.steps}
    rows = [{"step": sid, "name": names.get(sid, ""), **cells} for sid, cells in report.six_clear.items()]
    labels = {"people": _("People"), "work": _("Work"), "results": _("Results"), "authority": _("Authority"),
              "progress": _("Progress"), "responsibility": _("Responsibility")}

    def mark(v: Any, r: Any) -> Markup:
        return Markup('<span class="ok">✓</span>') if v else Markup('<span class="bad">✗ {}</span>').format(
            _("missing"))

    return Table("six-clear", _("“6 clear” of every step"), [
        Column("step", _("Step id")), Column("name", _("Step")),
        *[Column(c, labels[c], show=mark, text=lambda v: "yes" if v else "no") for c in CLEAR]], rows)


def _check_page(bpmn: bytes, dmns: list[bytes], problems: list[Any] | None = None, status: int = 200) -> Any:
    engine = lf()
    with engine.db.read() as s:
        report = lint(bpmn, dmns, directory().step_roles(), engine.settings.max_bpmn_bytes,
                      database_fragments(s, engine.clock.now()))
    if problems is not None:  # the deploy's own findings win (they are what was refused)
        report.problems = problems
    problem_table = Table("problems", _("Problems"), [
        Column("element", _("Element")), Column("rule", _("Rule")), Column("message", _("Message"))],
        [{**p.as_dict(), "message": problem_text(p)} for p in report.problems], _("No problems."))
    six = _six_clear_table(report)
    meta = _meta_of(bpmn)
    latest = _latest(meta.key) if meta is not None and meta.key else None
    current = (_in_force(latest.key) or latest) if latest is not None else None  # none in force yet: the latest
    with engine.db.read() as s:
        pending = pending_versions(s, engine.clock.now(), latest.key) if latest is not None else []
    in_force = current is not None and all(p.version != current.version for p in pending)
    d = None
    tables: list[Table] = []
    if meta is not None and current is not None:
        d = diff(ProcedureMeta.from_dict(current.meta), meta)
        tables = diff_tables(d)
    svg = draw(bpmn, highlight=_changed(d) if d is not None else None, uid="upload",
               title=_("The uploaded diagram")) if bpmn else None
    return render_template("check.html", report=report, problems=problem_table, six=six, svg=svg, current=current,
                           latest=latest, pending=pending, in_force=in_force, diff=d, tables=tables,
                           bpmn_b64=base64.b64encode(bpmn).decode(),
                           dmn_b64=[base64.b64encode(x).decode() for x in dmns]), status


@bp.route("/procedures/check", methods=["GET", "POST"])
@signed_in()
def check() -> Any:
    """Supervisors check a file here; anyone else asking to check one is refused by the engine, which
    records the attempt (checking a 2 MB file is work any signed-in account could otherwise ask for)."""
    account = signed_in_account()
    if request.method == "GET":
        if "supervisor" not in account.roles:
            abort(403)
        return render_template("upload.html")
    deploying = request.form.get("intent") == "deploy"
    if not deploying and check_validate(account.officer()) is not None:
        try:
            lf().runtime.validate(account.officer(), b"")
        except CommandRefused as err:
            return render_template("error.html", status=status_of(err), message=refusal_message(err)), status_of(err)
    bpmn, dmns = _uploaded()
    if not bpmn.strip():
        say(_("Choose a BPMN file to check."), "error")
        return render_template("upload.html"), 422
    if deploying:
        return deploy()
    return _check_page(bpmn, dmns)


@bp.post("/procedures/deploy")
@signed_in()
def deploy() -> Any:
    """Anyone signed in may ask; the engine decides (supervisors only) and records a refusal."""
    account = signed_in_account()
    engine = lf()
    bpmn, dmns = _uploaded()
    before = None
    meta = _meta_of(bpmn)
    if meta is not None and meta.key:
        before = _latest(meta.key)
    effective, bad = _effective_from()
    if bad is not None:
        say(bad, "error")
        return _check_page(bpmn, dmns, None, 422)
    try:
        result = engine.runtime.deploy(account.officer(), bpmn, dmns, engine.settings.max_bpmn_bytes, effective)
    except DefinitionRefused as err:
        say(_("The file has %(n)s problem(s); nothing was deployed.", n=len(err.problems)), "error")
        return _check_page(bpmn, dmns, err.problems, 422)
    except CommandRefused as err:
        return render_template("error.html", status=status_of(err), message=refusal_message(err)), status_of(err)
    if not result.created:
        say(_("This file is already deployed as version %(v)s: nothing changed.", v=result.version), "info")
        return redirect_to("web_procedures.procedure", key=result.key)
    if effective is not None:
        say(_("Version %(v)s of %(key)s is deployed and takes effect on %(day)s: dossiers received from that day use "
              "it, those received before use the version in force; open dossiers stay on their version.",
              v=result.version, key=result.key, day=effective.strftime("%d/%m/%Y")), "success")
    else:
        say(_("Version %(v)s of %(key)s is deployed. New dossiers use it; open dossiers stay on their version.",
              v=result.version, key=result.key), "success")
    if before is not None:
        return redirect_to("web_procedures.compare", key=result.key, **{"from": before.version, "to": result.version})
    return redirect_to("web_procedures.procedure", key=result.key)
