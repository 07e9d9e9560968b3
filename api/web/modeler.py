"""The browser modeler (supervisors): bpmn-js's Modeler, served from this server (vendored under
static/vendor/bpmn-js, built by scripts/build-modeler.sh), with landflow's own properties panel
(static/modeler.js). It opens a deployed version or one of the supervisor's drafts; while editing, the
page sends the diagram to `check` (the engine's own lint) and marks each problem on its element; `save`
stores a new draft revision (engine/definitions/drafts.py: per supervisor, versioned, never executed).
Deploying starts from a draft and goes through the ordinary check page (problems, "6 clear", the diff
against the version in force) and its deploy form, where the supervisor may give an effective date.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Response, abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from engine import queries
from engine.definitions import drafts
from engine.definitions.fragments import is_fragment
from engine.definitions.model import ProcedureMeta
from engine.org import Officer
from engine.policy import check_validate
from engine.runtime import CommandRefused
from engine.whatif import MAX_MONTHS

from ..problems import status_of
from .common import directory, lf, refusal_message, role_name, say
from .i18n import when
from .lint_messages import problem_text
from .pages import blueprint
from .session import redirect_to, signed_in, signed_in_account
from .tables import Column, Table

bp = blueprint("web_modeler", __name__)
KEY = "string(maxlength=64)"
REV = "int(max=2147483647)"


def _supervisor() -> Officer:
    """The signed-in supervisor; anyone else is refused by the engine, which records it (CommandRefused)."""
    officer = signed_in_account().officer()
    if check_validate(officer) is not None:
        lf().runtime.validate(officer, b"")
    return officer


def _refused(err: CommandRefused) -> tuple[Response, int]:
    return jsonify({"code": err.code, "message": refusal_message(err)}), status_of(err)


def _bpmn_field() -> bytes:
    return request.form.get("bpmn", "").encode("utf-8")


def texts() -> dict[str, str]:
    """The panel's words, in the reader's language (placeholders such as %(n)s are filled by the script)."""
    return {
        'procedure': _('Procedure'), 'step': _('Step'), 'element': _('Element'), 'name': _('Name'),
        'owner': _('Owner (role)'), 'owner_lane': _('the lane: %(role)s'), 'no_lane': _('no lane'),
        'limit': _('Time limit'), 'days': _('working days'), 'hours': _('working hours'),
        'clock': _('Clock'), 'run': _('runs (counts toward the statutory limit)'),
        'paused': _('paused (excluded by law)'), 'legal_basis': _('Legal basis'), 'result': _('Result'),
        'signed': _('Signed by the officer'), 'refusal': _('Refusal (choice that refuses, e.g. eligible=false)'),
        'refusal_reason': _('Field holding the refusal reason'), 'form': _('Form fields'),
        'field_name': _('Field name'), 'field_label': _('Label'), 'field_type': _('Type'),
        'choices': _('Choices (a|b|c)'), 'required': _('Required'), 'add_field': _('Add a field'),
        'remove': _('Remove'), 'sla': _('Statutory limit'), 'papers': _('Papers the applicant brings'),
        'paper_code': _('Code'), 'paper_when': _('Required, or “conditional: when”'), 'paper_name': _('Paper'),
        'add_paper': _('Add a paper'), 'no_props': _('This element has no landflow properties.'),
        'checking': _('Checking…'), 'clear': _('No problems: this diagram can be deployed.'),
        'n_problems': _('%(n)s problem(s).'), 'six': _('“6 clear” completeness: %(p)s.'),
        'saving': _('Saving…'), 'check_failed': _('The check could not be run.'),
        'open_drafts': _('Check, compare and deploy'), 'open_whatif': _('What-if before deploying'),
        'new_step': _('New step (user task)'), 'step_id': _('Step id'),
        'step_id_hint': _('Named in the history, the KPI and migrations for good: give a new step a readable id. '
                          'Changing a deployed step’s id removes that step and adds another.'),
        'bad_id': _('A step id starts with a letter, has only letters, digits and _ (at most 64), and is not '
                    'used by another element.'),
        'remote_extension': _('Extra time for remote communes'),
        'agencies': _('Agencies consulted at once (one work item each)'),
        'call': _('Call of a fragment'), 'fragment': _('Fragment run here'),
        'no_fragment': _('choose a deployed fragment'), 'fragment_version': _('version %(v)s in force'),
        'call_hint': _('The fragment version in force is bound when this procedure is deployed.'),
        'message_wait': _('Waiting for another agency’s answer'), 'message_name': _('Message name'),
        'message_hint': _('The name the other agency’s system sends with the dossier code (POST /api/v1/messages).'),
        'from_role': _('Sent by (role)'), 'choose_role': _('choose a role'),
        'open_failed': _('The diagram could not be opened (not found, or not yours).'),
    }


def fragments() -> list[dict[str, Any]]:
    """The deployed fragments a call activity may run (decision 0166): code, name, latest version."""
    out = []
    for p in queries.latest_procedures(lf().db):
        if is_fragment(ProcedureMeta.from_dict(p.meta)):
            out.append({"code": p.key, "name": p.name, "version": p.version})
    return sorted(out, key=lambda f: f["name"])


def roles() -> list[dict[str, str]]:
    """The organisation's roles that own steps, for the panel's owner select (code and name)."""
    return sorted(({"code": c, "name": role_name(c)} for c in directory().step_roles()), key=lambda r: r["name"])


@bp.get(f"/procedures/<{KEY}:key>/modeler")
@signed_in()
def modeler(key: str) -> Any:
    """Open a version (`?v=`, default the latest) or a draft revision (`?draft=`) in the modeler."""
    try:
        _supervisor()
    except CommandRefused as err:
        return render_template("error.html", status=status_of(err), message=refusal_message(err)), status_of(err)
    draft = request.args.get("draft", type=int)
    version = request.args.get("v", type=int)
    versions = queries.procedure_versions(lf().db, key)
    if draft is not None:
        source = url_for("web_modeler.draft_source", key=key, revision=draft)
        opened = _("draft revision %(r)s", r=draft)
    else:
        if not versions:
            abort(404)
        version = version if version is not None else versions[-1].version
        if version not in {v.version for v in versions}:
            abort(404)
        source = url_for("web_procedures.download", key=key, version=version)
        opened = _("version %(v)s", v=version)
    return render_template("modeler.html", key=key, opened=opened, source=source, roles=roles(), texts=texts(),
                           fragments=fragments(),
                           check_url=url_for("web_modeler.check"), save_url=url_for("web_modeler.save", key=key),
                           drafts_url=url_for("web_modeler.draft_list", key=key))


@bp.get(f"/procedures/<{KEY}:key>/drafts/<{REV}:revision>.bpmn")
@signed_in()
def draft_source(key: str, revision: int) -> Any:
    """A draft revision's BPMN, for its owner only (another supervisor's draft is not found)."""
    try:
        officer = _supervisor()
    except CommandRefused as err:
        return _refused(err)
    with lf().db.read() as s:
        found = drafts.source(s, officer.username, key, revision)
    if found is None:
        abort(404)
    return Response(found[1], mimetype="application/xml")


@bp.post("/procedures/modeler/check")
@signed_in()
def check() -> Any:
    """The engine's check of the diagram being edited: problems (by element id, in the reader's language)
    and the "6 clear" completeness. Stores nothing."""
    try:
        officer = _supervisor()
    except CommandRefused as err:
        return _refused(err)
    engine = lf()
    report = engine.runtime.validate(officer, _bpmn_field(), [], engine.settings.max_bpmn_bytes)
    return jsonify({"ok": report.ok, "key": report.key, "completeness": round(report.completeness, 4),
                    "problems": [{**p.as_dict(), "text": problem_text(p)} for p in report.problems],
                    "six_clear": report.six_clear})


@bp.post(f"/procedures/<{KEY}:key>/drafts")
@signed_in()
def save(key: str) -> Any:
    """Save the diagram as the next revision of the supervisor's draft of `key`."""
    from api.resources.drafts import save_draft

    try:
        officer = _supervisor()
        saved = save_draft(officer, key, _bpmn_field())
    except CommandRefused as err:
        return _refused(err)
    except drafts.DraftRefused as err:
        texts = {"not_utf8": _("A draft is saved in UTF-8."), "empty": _("The draft is empty."),
                 "other_key": _("This diagram's process is not procedure %(key)s.", key=key)}
        return jsonify({"code": err.reason, "message": texts[err.reason]}), 422
    return jsonify({"revision": saved.revision, "problems": saved.problems,
                    "message": _("Saved as draft revision %(r)s.", r=saved.revision),
                    "modeler": url_for("web_modeler.modeler", key=key, draft=saved.revision),
                    "drafts": url_for("web_modeler.draft_list", key=key),
                    "whatif": url_for("web_modeler.whatif_draft", key=key, revision=saved.revision)}), 201


@bp.get(f"/procedures/<{KEY}:key>/drafts")
@signed_in()
def draft_list(key: str) -> Any:
    """The supervisor's revisions of their draft of `key`: open, or check and deploy (the check page shows
    the problems and the diff against the version in force, and deploys)."""
    try:
        officer = _supervisor()
    except CommandRefused as err:
        return render_template("error.html", status=status_of(err), message=refusal_message(err)), status_of(err)
    with lf().db.read() as s:
        found = drafts.revisions(s, officer.username, key)
    table = Table("drafts", _("Draft revisions"), [
        Column("revision", _("Revision"), numeric=True), Column("name", _("Name")),
        Column("based_on", _("Based on version"), numeric=True),
        Column("problems", _("Problems"), numeric=True),
        Column("saved_at", _("Saved"), show=lambda v, r: when(v)),
    ], [d.as_dict() for d in found], _("You have no draft of this procedure."))
    return render_template("drafts.html", key=key, drafts=found, table=table)


@bp.post(f"/procedures/<{KEY}:key>/drafts/<{REV}:revision>/check")
@signed_in()
def check_draft(key: str, revision: int) -> Any:
    """Check a draft revision on the ordinary check page (problems, "6 clear", diff, deploy form)."""
    from .procedures import _check_page

    try:
        officer = _supervisor()
    except CommandRefused as err:
        return render_template("error.html", status=status_of(err), message=refusal_message(err)), status_of(err)
    with lf().db.read() as s:
        found = drafts.source(s, officer.username, key, revision)
    if found is None:
        abort(404)
    return _check_page(found[1].encode("utf-8"), [])


def _error_page(err: CommandRefused) -> tuple[str, int]:
    return render_template("error.html", status=status_of(err), message=refusal_message(err)), status_of(err)


@bp.get(f"/procedures/<{KEY}:key>/drafts/<{REV}:revision>/whatif")
@signed_in()
def whatif_draft(key: str, revision: int) -> Any:
    """The what-if form with a draft revision as the candidate (carried like the check page's file): the
    supervisor chooses the months and predicts; from the answer, the check page (diff, deploy) is a click."""
    try:
        officer = _supervisor()
    except CommandRefused as err:
        return _error_page(err)
    versions = queries.procedure_versions(lf().db, key)
    with lf().db.read() as s:
        found = drafts.source(s, officer.username, key, revision)
    if found is None or not versions:
        abort(404)
    from .procedures import _in_force

    return render_template("whatif.html", key=key, current=_in_force(key) or versions[-1], report=None, months=6,
                           seed=1, max_months=MAX_MONTHS, draft=revision,
                           bpmn_b64=base64.b64encode(found[1].encode("utf-8")).decode(), dmn_b64=[])


@bp.route(f"/procedures/<{KEY}:key>/drafts/delete", methods=["GET", "POST"])
@signed_in()
def delete_draft(key: str) -> Any:
    """Delete my draft of `key` (every revision): GET asks to confirm, POST deletes and records it in
    the audit log (engine/definitions/drafts.py). A draft that is not there is "not found"."""
    try:
        officer = _supervisor()
    except CommandRefused as err:
        return _error_page(err)
    if request.method == "GET":
        with lf().db.read() as s:
            found = drafts.revisions(s, officer.username, key)
        if not found:
            abort(404)
        return render_template("draft_delete.html", key=key, drafts=found)
    deleted = drafts.delete(lf().db, officer.username, officer.unit, key, lf().clock.now())
    if deleted is None:
        abort(404)
    say(_("Your draft of %(key)s is deleted (%(n)s revision(s)); the versions deployed are unchanged.",
          key=key, n=deleted.revisions), "success")
    return redirect_to("web_procedures.procedure", key=key)
