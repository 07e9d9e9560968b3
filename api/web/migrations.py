"""The supervisor's migration pages: the dry run of moving running dossiers to a later version (with
its CSV), then the run, a batch per request, with its progress.

Everyone signed in reaches the pages; the engine decides (supervisors only) and records a refusal
like any other, so an officer's attempt stands in the audit log. No script: the page is reloaded by
each batch's form.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import queries
from engine.definitions.versions import local_day
from engine.migration import runs
from engine.migration.plan import CANNOT, DEADLINE_RULES, MOVES, NEEDS_MAPPING, Plan
from engine.runtime import CommandRefused

from ..disposition import content_disposition
from ..migration_csv import plan_csv
from .common import lf, refusal_message, say
from .pages import blueprint
from .session import redirect_to, signed_in, signed_in_account

bp = blueprint("web_migrations", __name__)
KEY = "string(maxlength=64)"
PLAN_STATUS = {MOVES: _l("Moves as it is"), NEEDS_MAPPING: _l("Needs a step mapping"), CANNOT: _l("Cannot move")}
OUTCOME = {**PLAN_STATUS, "stale": _l("Changed since the plan: skipped"), "refused": _l("Refused")}
REASON = {
    "finished": _l("The dossier is already finished."),
    "not_from_version": _l("The dossier is not on the version migrated from."),
    "incident": _l("The dossier has an open procedure incident: resolve it first."),
    "timer_waiting": _l("The dossier is waiting on a timer of the procedure."),
    "nothing_open": _l("The dossier has no open step."),
    "in_fragment": _l("The dossier is at a step of a called fragment: it can move once it has left the fragment."),
    "in_subprocess": _l("The dossier is at a step inside a sub-process: it can move once it has left the "
                        "sub-process."),
    "parallel": _l("Several steps are open at once (parallel branches): not supported."),
    "bad_mapping": _l("The step it is mapped to is not in the new version."),
    "claimed_role_changed": _l("The new step belongs to another role and an officer holds the item."),
    "step_removed": _l("Its step is not in the new version: choose a step for it."),
    "stale_version": _l("The dossier changed after the plan was made."),
    "cannot_migrate": _l("This dossier cannot move to the new version."),
}
DEADLINES = {"keep": _l("Keep the current due dates"),
             "recompute": _l("Recompute due dates from the new limits, counted from when each step became ready")}


def _int(name: str) -> int | None:
    try:
        return int(request.values.get(name, ""))
    except ValueError:
        return None


def _mapping(old: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """`map_<old step>` fields naming a new step (empty: no mapping)."""
    out = {}
    for step in old:
        target = request.values.get(f"map_{step}", "")
        if target:
            out[step] = target
    return out


def reason_text(code: str | None) -> str:
    return str(REASON.get(code or "", code or ""))


@bp.get(f"/procedures/<{KEY}:key>/migrate")
@signed_in()
def plan_page(key: str) -> Any:
    officer = signed_in_account().officer()
    versions = runs.versions_of(lf().runtime, key)
    by_version = {v: steps for v, _id, steps in versions}
    src, dst = _int("from"), _int("to")
    if src is None and len(versions) >= 2:
        src, dst = versions[-2][0], versions[-1][0]
    deadlines = request.values.get("deadlines", "keep")
    deadlines = deadlines if deadlines in DEADLINE_RULES else "keep"
    old, new = by_version.get(src or 0, {}), by_version.get(dst or 0, {})
    removed = [s for s in old if s not in new]
    mapping = _mapping(old, new)
    plan: Plan | None = None
    if src is not None and dst is not None:
        try:
            plan = runs.make(lf().runtime, officer, key, src, dst, mapping, deadlines)
        except CommandRefused as err:
            say(refusal_message(err), "error")
            return render_template("migration_plan.html", key=key, versions=versions, plan=None, src=src, dst=dst,
                                   removed=[], old=old, new=new, mapping=mapping, deadlines=deadlines,
                                   DEADLINES=DEADLINES, csv_url=None, seen=""), 403 \
                if err.code == "wrong_role" else 404
        if request.values.get("format") == "csv":
            name = f"migration-{key}-v{src}-v{dst}.csv"
            return Response(plan_csv(plan), mimetype="text/csv",
                            headers={"Content-Disposition": content_disposition(name)})
    planned = plan.dossiers if plan else ()
    rows = [{"d": d, "status": str(PLAN_STATUS[d.status]), "why": reason_text(d.reason) if d.reason else "",
             "moves": ", ".join(f"{m.from_step} → {m.to_step}" for m in d.moves)} for d in planned]
    seen = ",".join(f"{d.dossier_id}:{d.state_version}" for d in plan.dossiers if d.status == MOVES) if plan else ""
    query: dict[str, Any] = {"key": key, "format": "csv", "from": src, "to": dst, "deadlines": deadlines,
                             **{f"map_{k}": v for k, v in mapping.items()}}
    csv_url = url_for("web_migrations.plan_page", **query) if plan else None
    runs_done = runs.list_runs(lf().runtime, key, limit=10)
    return render_template("migration_plan.html", key=key, versions=versions, plan=plan, rows=rows, src=src,
                           pending_from=_pending_from(key, dst),
                           dst=dst, removed=removed, old=old, new=new, mapping=mapping, deadlines=deadlines,
                           DEADLINES=DEADLINES, csv_url=csv_url, seen=seen, runs=runs_done,
                           counts=plan.counts() if plan else {}, PLAN_STATUS=PLAN_STATUS)


def _pending_from(key: str, version: int | None) -> date | None:
    """The day `version` takes effect, if still to come: moving dossiers to it now applies it before then."""
    found = next((v for v in queries.procedure_versions(lf().db, key) if v.version == version), None)
    if found is None or found.effective_from is None or found.effective_from <= local_day(lf().clock.now()):
        return None
    return found.effective_from


@bp.post(f"/procedures/<{KEY}:key>/migrate")
@signed_in()
def start(key: str) -> Any:
    officer = signed_in_account().officer()
    src, dst = _int("from"), _int("to")
    versions = {v: steps for v, _id, steps in runs.versions_of(lf().runtime, key)}
    old, new = versions.get(src or 0, {}), versions.get(dst or 0, {})
    seen: dict[int, int] = {}
    for part in request.form.get("seen", "").split(","):
        dossier, sep, version = part.partition(":")
        if sep and dossier.isdigit() and version.isdigit():
            seen[int(dossier)] = int(version)
    try:
        plan = runs.make(lf().runtime, officer, key, src or 0, dst or 0, _mapping(old, new),
                         request.form.get("deadlines", "keep"))
        status = runs.start(lf().runtime, officer, plan, seen)
    except CommandRefused as err:
        say(refusal_message(err), "error")
        return redirect_to("web_migrations.plan_page", key=key)
    return redirect_to("web_migrations.run_page", run_id=status.id)


@bp.get("/migrations/<id:run_id>")
@signed_in()
def run_page(run_id: int) -> Any:
    officer = signed_in_account().officer()
    try:
        runs.guard(lf().runtime, officer, "migration_status")
        status = runs.status(lf().runtime, run_id)
    except CommandRefused as err:
        say(refusal_message(err), "error")
        return render_template("migration_run.html", status=None), 403 if err.code == "wrong_role" else 404
    report = [{**r, "outcome_text": str(OUTCOME.get(r["outcome"], r["outcome"])), "why": reason_text(r.get("reason"))}
              for r in status.report]
    return render_template("migration_run.html", status=status, report=report,
                           deadlines=str(DEADLINES.get(status.deadlines, status.deadlines)))


@bp.post("/migrations/<id:run_id>/batch")
@signed_in()
def batch(run_id: int) -> Any:
    officer = signed_in_account().officer()
    try:
        status = runs.batch(lf().runtime, officer, run_id, _int("size") or runs.BATCH)
    except CommandRefused as err:
        say(refusal_message(err), "error")
        return redirect_to("web_migrations.run_page", run_id=run_id)
    if status.finished:
        say(_("The migration is finished: %(moved)s moved, %(skipped)s skipped.", moved=status.moved,
              skipped=status.skipped), "success")
    return redirect_to("web_migrations.run_page", run_id=run_id)
