"""Verify a dossier's history and replay it (the chain itself is written by engine/eventlog.py).

Replay re-runs SpiffWorkflow from the procedure version and the recorded
command inputs, checks that it opens the same steps the log says were opened, folds the recorded
effects, and compares the result with the stored projections and snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import signatures
from .accountability import signals_of
from .eventlog import GENESIS, SPIFF_EVENTS, event_hash, load_events
from .events import Completed, Event, Migrated, Opened, item_of, parse
from .migration import apply as migration
from .papers.blobs import BlobStore
from .papers.documents import document_problems
from .runtime import awaiting, fastforward, timers
from .runtime import workflow as wfm
from .runtime.catchup import apply_spiff
from .runtime.instances import step_of
from .runtime.opening import workflow_data
from .runtime.state import DossierState, apply_effects, implied_effects, state_from_rows
from .store import CaseEventRow, DossierRow, DossierStateRow, SignalRow, TimerRow, WorkItemRow


@dataclass
class Verification:
    dossier_id: int
    events: int
    chain_ok: bool
    replay_ok: bool
    first_bad_seq: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain_ok and self.replay_ok

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "chain_ok": self.chain_ok, "replay_ok": self.replay_ok,
                "first_bad_seq": self.first_bad_seq, "problems": self.problems}


def check_chain(dossier_id: int, events: list[CaseEventRow], head_hash: str | None,
                last_seq: int | None) -> tuple[bool, int | None, list[str]]:
    prev = GENESIS
    for expected_seq, ev in enumerate(events, start=1):
        if ev.seq != expected_seq:
            return False, min(ev.seq, expected_seq), [f"seq {expected_seq}: missing or out of order (found {ev.seq})"]
        if ev.prev_hash != prev:
            return False, ev.seq, [f"seq {ev.seq}: does not follow the event before it"]
        h = event_hash(prev, dossier_id, ev.seq, ev.type, ev.actor, ev.unit, ev.step, ev.at, ev.payload)
        if h != ev.hash:
            return False, ev.seq, [f"seq {ev.seq}: content does not match its hash"]
        try:
            json.loads(ev.payload)
        except ValueError:
            return False, ev.seq, [f"seq {ev.seq}: payload is not JSON"]
        prev = ev.hash
    n = len(events)
    if last_seq is not None and last_seq != n:
        return False, n + 1 if last_seq > n else last_seq + 1, [
            f"the dossier says {last_seq} events, the log holds {n}"]
    if head_hash is not None and n and head_hash != prev:
        return False, n, ["the dossier's head hash is not the last event's hash"]
    return True, None, []


@dataclass
class Replayed:
    state: DossierState
    workflow: Any  # BpmnWorkflow | None
    signals: list[tuple[str, int, str | None, str | None, str | None]]
    problems: list[str]
    first_bad_seq: int | None
    at: datetime | None
    captured: tuple[int, list[Any]] | None = None  # (version, normalised workflow) right after `capture_at`


def replay_events(session: Session, procedures: wfm.ProcedureCache, dossier_id: int,
                  events: list[CaseEventRow], upto: int | None = None, capture_at: int | None = None) -> Replayed:
    """Rebuild a dossier from its events (up to seq `upto`). Reads no clock and no configuration.

    Decision signatures are re-checked against the keys registered for their officers.
    """
    keys = signatures.registered_keys(session) if any(ev.type == "completed" for ev in events) else {}
    state = DossierState(id=dossier_id)
    wf = None
    proc = None
    signals: list[tuple[str, int, str | None, str | None, str | None]] = []
    problems: list[str] = []
    bad: int | None = None
    last_at = None
    captured: tuple[int, list[Any]] | None = None
    for ev in events:
        if upto is not None and ev.seq > upto:
            break
        fx: dict[str, Any] = {}
        implied: dict[str, dict[str, Any]] = {}
        try:
            event = parse(ev.type, ev.payload)
            fx = event.effects
            carried = (event.carried or []) if isinstance(event, Opened) else []
            if isinstance(event, Opened):
                proc = procedures.get(session, event.procedure_version_id)
                wf = wfm.start(proc, event.wf_data or workflow_data(event.data, fx["dossier"]))
                fastforward.replay(wf, carried)
            elif ev.type in SPIFF_EVENTS and wf is not None:
                apply_spiff(wf, lambda o: state.items[o].task_id, event)
            elif isinstance(event, Migrated) and wf is not None:  # rebuilt on the new version from here on
                proc = procedures.get(session, event.procedure_version_id)
                wf = migration.replay_move(proc, wf, state, event)
            task_ids: dict[int, str] = {}
            if ev.type in SPIFF_EVENTS and wf is not None:
                skip = {c["item"] for c in carried}
                opened = {**fx, "new": [n for n in fx.get("new", []) if n["item"] not in skip]}
                mismatch = match_new_items(wf, state, opened, item_of(event), task_ids)
                if mismatch:
                    problems.append(f"seq {ev.seq}: {mismatch}")
                    bad = bad or ev.seq
            implied = implied_effects(ev.type, ev.actor, event, state)
            apply_effects(state, fx, ev.at, task_ids, proc.meta.steps if proc is not None else None, implied)
            if ev.type in SPIFF_EVENTS and wf is not None:
                mismatch = timers.replayed_timer_problem(wf, state) or (
                    awaiting.replayed_message_problem(wf, state.awaiting) if proc is not None
                    and not state.is_finished and awaiting.has_messages(proc.meta) else None)
                if mismatch:
                    problems.append(f"seq {ev.seq}: {mismatch}")
                    bad = bad or ev.seq
            if proc is not None:
                signature_problem = _signature_problem(proc, state, ev, event, keys)
                if signature_problem:
                    problems.append(f"seq {ev.seq}: {signature_problem}")
                    bad = bad or ev.seq
        except Exception as err:  # a replay that cannot proceed is a finding, not a crash
            problems.append(f"seq {ev.seq}: replay failed: {type(err).__name__}: {err}")
            bad = bad or ev.seq
            break
        if fx or implied:
            state.version += 1
        state.last_seq = ev.seq
        state.head_hash = ev.hash
        for sig in signals_of(event, ev.actor, ev.unit):
            signals.append((sig.kind, ev.seq, sig.officer, sig.unit, sig.reason))
        last_at = ev.at
        if capture_at == ev.seq and wf is not None:
            captured = (state.version, wfm.normalised_workflow(wf))
    del proc
    return Replayed(state, wf, signals, problems, bad, last_at, captured)


def _signature_problem(proc: Any, state: DossierState, ev: CaseEventRow, event: Event,
                       keys: dict[str, set[str]]) -> str | None:
    if not isinstance(event, Completed) or ev.step is None:
        return None
    meta = proc.meta.steps.get(ev.step)
    recorded = event.signature
    if recorded is None:
        return f"step {ev.step} is a signed decision but was completed without a signature" if meta and meta.signed \
            else None
    return signatures.recheck_event(state.code, ev.step, event.item, event.data, ev.actor,
                                    recorded, keys)


def match_new_items(wf: Any, state: DossierState, fx: dict[str, Any], acted: int | None,
                    task_ids: dict[int, str]) -> str | None:
    """Do the steps SpiffWorkflow opens now equal the items the event says were opened?

    Fills `task_ids` with the replayed tasks of the new items.
    """
    held = {i.task_id: i.ordinal for i in state.open_items() if i.ordinal != acted}
    ready = wfm.ready_steps(wf)
    fresh = [t for t in ready if str(t.id) not in held]
    recorded = fx.get("new", [])
    if [step_of(t) for t in fresh] != [n["step"] for n in recorded]:
        return (f"the procedure opens {[step_of(t) for t in fresh]} but the log recorded "
                f"{[n['step'] for n in recorded]}")
    for task, new in zip(fresh, recorded, strict=True):
        task_ids[new["item"]] = str(task.id)
    return None


def verify(session: Session, procedures: wfm.ProcedureCache, dossier_id: int,
           blobs: BlobStore | None = None) -> Verification:
    """Chain, replay against the projections and snapshot, signatures; with `blobs`, also that every file
    the history names (`document_added`, `slip_issued`) is stored with exactly the bytes it names."""
    row = session.get(DossierRow, dossier_id)
    events = load_events(session, dossier_id)
    if row is None:
        return Verification(dossier_id, len(events), False, False, 1, ["no such dossier"])
    chain_ok, bad, problems = check_chain(dossier_id, events, row.head_hash, row.last_seq)
    snap_seq = session.scalar(select(DossierStateRow.seq).where(DossierStateRow.dossier_id == dossier_id))
    replayed = replay_events(session, procedures, dossier_id, events, capture_at=snap_seq)
    replay_problems = list(replayed.problems)
    if not replay_problems:
        replay_problems += compare_projections(session, row, replayed)
        moved = max((ev.seq for ev in events if ev.type in SPIFF_EVENTS), default=0)
        if row.workflow_seq not in (0, moved):  # a cold load would skip (or replay) the wrong events
            replay_problems.append(f"dossier.workflow_seq: stored {row.workflow_seq}, the log's last workflow "
                                   f"event is {moved}")
    if blobs is not None:
        replay_problems += document_problems(session, dossier_id, blobs)
    result = Verification(dossier_id, len(events), chain_ok, not replay_problems, bad,
                          problems + replay_problems)
    if result.first_bad_seq is None and replayed.first_bad_seq is not None:
        result.first_bad_seq = replayed.first_bad_seq
    return result


def compare_projections(session: Session, row: DossierRow, replayed: Replayed) -> list[str]:
    problems: list[str] = []
    items = list(session.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == row.id)))
    stored = state_from_rows(row, items)
    mine, theirs = stored.comparable(), replayed.state.comparable()
    for name in mine:
        if mine[name] != theirs[name]:
            problems.append(f"dossier.{name}: stored {mine[name]!r}, replay gives {theirs[name]!r}")
    if stored.version != replayed.state.version:
        problems.append(f"dossier.version: stored {stored.version}, replay gives {replayed.state.version}")
    s_items = {o: i.comparable() for o, i in stored.items.items()}
    r_items = {o: i.comparable() for o, i in replayed.state.items.items()}
    for ordinal in sorted(set(s_items) | set(r_items)):
        a, b = s_items.get(ordinal), r_items.get(ordinal)
        if a != b:
            if a is None or b is None:
                problems.append(f"work item {ordinal}: {'missing' if a is None else 'not in the log'}")
            else:
                diff = [k for k in a if a[k] != b[k]]
                problems.append(f"work item {ordinal}: {', '.join(diff)} differ from the log")
    stored_timers = {t.ordinal: {**{f: getattr(t, f) for f in ("node", "duration", "item", "state")},
                                 "due_at": t.due_at, "done_at": t.done_at}
                     for t in session.scalars(select(TimerRow).where(TimerRow.dossier_id == row.id))}
    replayed_timers = {t.ordinal: {**{f: getattr(t, f) for f in ("node", "duration", "item", "state")},
                                   "due_at": t.due_at, "done_at": t.done_at}
                       for t in replayed.state.timers.values()}
    if stored_timers != replayed_timers:
        problems.append("timers differ from those the log implies")

    def key(sig: tuple[Any, ...]) -> tuple[str, ...]:
        return tuple(str(v) for v in sig)

    stored_signals = sorted(
        ((s.kind, s.seq, s.officer, s.unit, s.reason)
         for s in session.scalars(select(SignalRow).where(SignalRow.dossier_id == row.id))), key=key)
    if stored_signals != sorted(replayed.signals, key=key):
        # name the first signal that differs, so an auditor knows where to look
        stored_set, implied_set = set(stored_signals), set(replayed.signals)
        odd = min((*(s for s in implied_set - stored_set), *(s for s in stored_set - implied_set)),
                  key=lambda sig: (sig[1], key(sig)), default=None)
        where = "" if odd is None else f": {odd[0]} at seq {odd[1]} is " + (
            "missing" if odd in implied_set else "not in the log")
        problems.append(f"signals differ from those the log implies{where}")
    if stored.next_ordinal != replayed.state.next_ordinal:
        problems.append(f"dossier.next_item: stored {stored.next_ordinal}, replay gives {replayed.state.next_ordinal}")
    try:
        snap = session.get(DossierStateRow, row.id)
    except Exception as err:  # overwritten with what the driver cannot even decode: a finding, not a crash
        problems.append(f"the workflow snapshot cannot be read: {type(err).__name__}")
        return problems
    if replayed.workflow is not None:
        if snap is None and replayed.state.is_finished and row.snapshot_seq == 0:
            pass  # finished dossiers keep no snapshot: they take no more commands
        elif snap is None:
            problems.append("the workflow snapshot is missing")
        elif replayed.captured is None or snap.seq != row.snapshot_seq:
            problems.append(f"the workflow snapshot claims event {snap.seq}, which the log does not reach")
        else:
            version, expected = replayed.captured
            try:
                ok = wfm.normalised(wfm.load_snapshot(snap.state)) == expected
            except Exception as err:
                ok = False
                problems.append(f"the workflow snapshot cannot be read: {type(err).__name__}")
            if not ok:
                problems.append(f"the workflow snapshot differs from the replayed workflow at event {snap.seq}")
            if snap.version != version:
                problems.append(f"the snapshot is of version {snap.version}, the log gives {version} at {snap.seq}")
    return problems


def replay(session: Session, procedures: wfm.ProcedureCache, dossier_id: int, at: int | None = None) -> Replayed:
    """The dossier as an auditor sees it right after event `at` (all events when None)."""
    return replay_events(session, procedures, dossier_id, load_events(session, dossier_id), upto=at)
