"""Receiving a dossier: the first command of every history.

Opening decides what every later deadline hangs on: the statutory limit (with the remote-commune
extension and, for transitional dossiers, the days already spent), the dossier code, and the
owner of the first step. All of it is recorded in the `opened` event.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..definitions.fragments import is_fragment
from ..errors import Invalid
from ..events import Opened
from ..jsoncanon import iso
from ..org import SYSTEM, Directory, Officer, UnresolvedOwner
from ..papers.reception import check_applicant
from . import fastforward
from . import workflow as wfm
from .context import Context
from .deadlines import dossier_due, limit_for, procedure_limit
from .decide import emit, finish_if_ended, new_items, run_spiff

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_JSON_BYTES = 32_000
RESERVED = {"commune", "remote", "procedure", "parcel", "applicant", "dossier_code"}


def _check_data(data: Any, what: str) -> list[str]:
    if not isinstance(data, dict):
        return [f"{what} must be an object"]
    problems = []
    for k, v in data.items():
        if not isinstance(k, str) or not NAME.match(k):
            problems.append(f"{what}: {k!r} is not a valid name")
        if isinstance(v, (dict, list)) and what == "data":
            problems.append(f"{what}: {k} must be a plain value")
    try:
        if len(json.dumps(data, ensure_ascii=False)) > MAX_JSON_BYTES:
            problems.append(f"{what} is too large")
    except (TypeError, ValueError):
        problems.append(f"{what} is not JSON")
    return problems


def input_problems(applicant: Any, parcel: Any, data: Any, days_spent: Any) -> list[str]:
    """What is wrong with an opening's input, before anything is read or written."""
    problems = _check_data(applicant, "applicant") + _check_data(parcel or {}, "parcel") + \
        _check_data(data or {}, "data")
    if isinstance(applicant, dict) and not str(applicant.get("name") or "").strip():
        problems.append("applicant.name is required")
    if isinstance(applicant, dict):
        problems += check_applicant(applicant)
    if isinstance(data, dict):
        problems += [f"data: {k} is a reserved name" for k in data if k in RESERVED]
    if isinstance(days_spent, bool) or not isinstance(days_spent, int) or days_spent < 0:
        problems.append("days_spent must be a whole number of working days, 0 or more")
    return problems


def check_target(proc: wfm.Procedure, directory: Directory, officer: Officer, commune: str | None,
                 resume_at: str | None) -> None:
    """The commune and the step to open at must fit the procedure (refused before a code is taken)."""
    key = proc.key
    if is_fragment(proc.meta):
        raise Invalid("fragment_not_openable", f"{key} is a fragment, called from procedures: it is never opened as "
                      "a dossier of its own", {"fragment": key})
    if commune is None and not proc.meta.properties.get("jurisdiction_from"):
        raise Invalid("invalid_data", f"procedure {key} needs the parcel's commune")
    if commune is not None and not directory.is_commune(commune):
        raise Invalid("invalid_data", f"commune {commune!r} is not a ward, commune or special zone")
    if commune is not None:
        for step in proc.meta.steps.values():
            try:
                directory.owner_unit(step.role or "", commune, officer.unit)
            except UnresolvedOwner as err:
                raise Invalid("no_owner", f"step {step.id}: {err}") from None
    if resume_at is not None and resume_at not in proc.meta.steps:
        raise Invalid("illegal_target", f"{resume_at!r} is not a step of procedure {key}")


def open_dossier(ctx: Context, applicant: dict[str, Any], parcel: dict[str, Any], data: dict[str, Any],
                 days_spent: int, parent_id: int | None, resume_at: str | None,
                 received: dict[str, Any] | None) -> None:
    """The decision of `open`: start the workflow, carry over the steps before `resume_at`, open the first
    items, compute the deadlines; one `opened` event. The load phase reserved the dossier's row and code."""
    proc, state, at = ctx.procedure(), ctx.state, ctx.at
    commune, code = state.commune, state.code
    remote = bool(commune and ctx.directory.units[commune].remote)
    wf_data = workflow_data(data, {"commune": commune, "remote": remote, "procedure": proc.key,
                                   "parcel": parcel, "applicant": applicant, "code": code})
    run_spiff(ctx, lambda: setattr(ctx, "wf", wfm.start(proc, wf_data, live=True)))
    wf = ctx.workflow()
    carried_new, carried_fx, carried = _carry_over(ctx, resume_at, data)
    state.next_ordinal = len(carried_new) + 1
    new, task_ids, _ = new_items(ctx, None)
    settings = ctx.settings
    base = procedure_limit(proc.meta, settings.sla_overrides)
    limit = limit_for(proc.meta, base, wfm.current_data(wf))
    extension = proc.meta.remote_extension or settings.remote_extension
    deducted = 0 if settings.transitional_clock == "restart" else days_spent
    due = dossier_due(ctx.calendar, at, limit, extension, remote, deducted)
    fx: dict[str, Any] = {
        "dossier": {
            "code": code, "procedure": proc.key, "procedure_version_id": proc.version_id, "commune": commune,
            "desk_unit": ctx.officer.unit, "applicant": applicant, "parcel": parcel, "status": "in_progress",
            "received_at": iso(at), "due_at": iso(due), "statutory_due_at": iso(due), "remote": remote,
            "days_spent_before": days_spent, "parent_id": parent_id,
        },
        "new": carried_new + new,
        "items": carried_fx,
    }
    finish_if_ended(ctx, fx)
    event = Opened(
        procedure=proc.key, version=proc.version, procedure_version_id=proc.version_id, limit=limit,
        remote_extension=extension if remote else None, data=data, fx=fx,
        days_spent={"days": days_spent, "deducted": deducted, "clock": settings.transitional_clock}
        if days_spent else None,
        reception=received, resume_at=resume_at if carried else None, carried=carried or None,
        fragments=[{k: b[k] for k in ("element", "key", "version", "content_hash")} for b in proc.meta.fragments]
        or None)
    emit(ctx, event, task_ids=task_ids)


def _carry_over(ctx: Context, resume_at: str | None, data: dict[str, Any],
                ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    """Complete the steps before `resume_at` on the dossier's behalf (outcome `carried_over`)."""
    if resume_at is None:
        return [], {}, []
    proc, wf = ctx.procedure(), ctx.workflow()
    steps = fastforward.plan(proc, wf, resume_at, data)
    if steps is None:
        raise Invalid("illegal_target",
                      f"procedure {proc.key} cannot be opened at step {resume_at!r}: no route from its "
                      "start reaches it with the data carried over")
    new: list[dict[str, Any]] = []
    closed: dict[str, Any] = {}
    carried: list[dict[str, Any]] = []
    at = iso(ctx.at)
    for ordinal, (step, values) in enumerate(steps, start=1):
        meta = proc.meta.steps[step]
        try:
            unit = ctx.directory.owner_unit(meta.role or "", ctx.state.commune, ctx.state.desk_unit)
        except UnresolvedOwner as err:
            raise Invalid("no_owner", f"step {step}: {err}") from None
        new.append({"item": ordinal, "step": step, "name": meta.name, "role": meta.role, "unit": unit,
                    "sla": meta.sla, "clock": meta.clock, "due_at": None})
        closed[str(ordinal)] = {"state": "done", "outcome": "carried_over", "done_at": at, "done_by": SYSTEM,
                                "last_activity_at": at}
        carried.append({"item": ordinal, "step": step, "data": values})
        task = fastforward.ready_task(wf, step)
        run_spiff(ctx, lambda t=task, v=values: fastforward.run_step(wf, t, v))  # type: ignore[misc]
    return new, closed, carried


def workflow_data(data: dict[str, Any], dossier: dict[str, Any]) -> dict[str, Any]:
    """What the workflow starts with: the opening data plus the dossier fields conditions may read.

    Derived from the `opened` event (its data and its dossier effects), so the event need not repeat it.
    """
    return {**data, "commune": dossier["commune"], "remote": dossier["remote"], "procedure": dossier["procedure"],
            "parcel": dossier["parcel"], "applicant": dossier["applicant"], "dossier_code": dossier["code"]}
