"""Run the window's dossiers through one procedure version, with queues, in working minutes.

A discrete-event simulation: each dossier arrives when it was received; SpiffWorkflow runs its path
through the version (gateways decide with the data its history recorded); every ready user task
joins the queue of the unit that owns it; a unit works on as many items at once as it did in the
window (engine/whatif/history.py); an item's working time is drawn from what that step took in that
unit. Draws are keyed by (seed, dossier, step, occurrence) — common random numbers — so two
versions that share a step give it the same durations, and the difference between their reports is
the design's, not the dice's.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from ..calendar import WorkingCalendar
from ..definitions.forms import FormError, parse_form
from ..definitions.model import ProcedureMeta, StepMeta
from ..org import Directory, UnresolvedOwner
from ..runtime import workflow as wfm
from ..runtime.awaiting import deliver, waiting_messages
from ..runtime.deadlines import limit_for, procedure_limit, total_minutes
from ..runtime.fastforward import TRIAL_ERRORS, run_step, steering_names
from ..runtime.instances import owner_role, step_of
from ..runtime.opening import workflow_data
from ..runtime.timers import duration_of, fire, pin, waiting_timers
from .axis import WorkingAxis
from .history import Case, Observed

DEFAULT_MINUTES = 60  # a step with no history and no limit: one working hour (docs/whatif.md)
UNKNOWN_UNIT = "?"


@dataclass
class StepStats:
    step: str
    name: str
    unit: str = ""
    items: int = 0
    wait: int = 0  # working minutes in the unit's queue, summed
    work: int = 0  # working minutes worked, summed
    longest_wait: int = 0
    source: str = "observed"  # observed | observed_other_units | limit | default | no_waits_observed

    @property
    def mean_wait(self) -> float:
        return self.wait / self.items if self.items else 0.0

    @property
    def mean_work(self) -> float:
        return self.work / self.items if self.items else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "name": self.name, "unit": self.unit, "items": self.items,
                "mean_wait_minutes": round(self.mean_wait, 1), "mean_work_minutes": round(self.mean_work, 1),
                "longest_wait_minutes": self.longest_wait, "duration_source": self.source}


@dataclass
class Outcome:
    code: str
    received_at: datetime
    due_at: datetime | None = None
    finished_at: datetime | None = None
    late_minutes: int = 0
    problem: str | None = None  # why the version could not run this dossier

    @property
    def late(self) -> bool:
        return self.problem is None and self.late_minutes > 0

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "received_at": self.received_at.isoformat(),
                "due_at": self.due_at.isoformat() if self.due_at else None,
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "late_minutes": self.late_minutes, "problem": self.problem}


@dataclass
class Job:
    case: int
    task: Task
    step: str
    unit: str
    queued: int


@dataclass
class Run:
    """One dossier in flight."""

    case: Case
    wf: BpmnWorkflow
    seen: set[str] = field(default_factory=set)  # task ids already queued (user tasks) or scheduled (timers)
    counts: dict[str, int] = field(default_factory=dict)  # step -> completions so far
    paused: int = 0  # working minutes spent on steps whose clock is paused
    dead: bool = False


class Simulator:
    def __init__(self, meta: ProcedureMeta, spec: wfm.Procedure, obs: Observed, calendar: WorkingCalendar,
                 directory: Directory, seed: int, sla_overrides: dict[str, str], remote_extension: str | None):
        self.meta, self.proc, self.obs, self.cal, self.dir = meta, spec, obs, calendar, directory
        self.seed, self.overrides, self.extension = seed, sla_overrides, remote_extension
        self.steering = steering_names(meta)
        self.axis = WorkingAxis(calendar, obs.start)
        self.capacity: dict[str, int] = {}
        self.busy: dict[str, int] = {}
        self.queues: dict[str, deque[Job]] = {}
        self.heap: list[tuple[int, int, str, Any]] = []
        self.seq = 0
        self.runs: list[Run | None] = [None] * len(obs.cases)
        self.outcomes: list[Outcome] = [Outcome(c.code, c.received_at) for c in obs.cases]
        self.steps: dict[str, StepStats] = {}
        self.load: dict[str, dict[str, int]] = {}  # unit -> ISO week -> items that reached it

    # -- the clock --------------------------------------------------------------------------------
    def push(self, at: int, kind: str, arg: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, kind, arg))

    def instant(self, minute: int) -> datetime:
        return self.axis.instant_of(minute)

    def run(self) -> tuple[list[Outcome], dict[str, StepStats], dict[str, dict[str, int]]]:
        for i, case in enumerate(self.obs.cases):
            self.push(case.arrival, "arrive", i)
        while self.heap:
            at, _seq, kind, arg = heapq.heappop(self.heap)
            if kind == "arrive":
                self.arrive(at, arg)
            elif kind == "timer":
                self.fire_timer(at, *arg)
            elif kind == "message":
                self.answer(at, *arg)
            else:
                self.finish(at, arg)
        for i, r in enumerate(self.runs):
            if r is not None and not r.dead and not r.wf.is_completed():
                self.fail(i, "stuck: the version waits for an event the simulation does not model")
        return self.outcomes, self.steps, self.load

    # -- dossiers ---------------------------------------------------------------------------------
    def arrive(self, at: int, i: int) -> None:
        case = self.obs.cases[i]
        dossier = {"commune": case.commune, "remote": case.remote, "procedure": self.meta.key,
                   "parcel": case.parcel, "applicant": case.applicant, "code": case.code}
        try:
            wf = wfm.start(self.proc, workflow_data(case.opening, dossier), live=True)
        except TRIAL_ERRORS as err:
            self.fail(i, _why(err))
            return
        self.runs[i] = Run(case, wf)
        self.advance(at, i)

    def advance(self, at: int, i: int) -> None:
        run = self.runs[i]
        assert run is not None
        if run.wf.is_completed():
            self.close(at, i, run)
            return
        for node, timer in waiting_timers(run.wf).items():  # in working time, as the scheduler fires them
            if str(timer.id) not in run.seen:
                run.seen.add(str(timer.id))
                pin([timer])
                self.push(at + self.cal.minutes(duration_of(timer)), "timer", (i, str(timer.id), node))
        for node, waiting in waiting_messages(run.wf).items():  # another agency answers after a drawn wait
            if str(waiting.id) not in run.seen:
                run.seen.add(str(waiting.id))
                self.push(at + self.wait_for(run.case, node, run.counts.get(node, 0)), "message",
                          (i, str(waiting.id), node, at))
        for task in wfm.ready_steps(run.wf):
            if str(task.id) in run.seen:
                continue
            run.seen.add(str(task.id))
            step = step_of(task)  # an agency's instance is its consultation step, owned by the agency (0163)
            unit = self.unit_of(run.case, self.meta.steps.get(step), owner_role(task, None))
            week = self.instant(at).astimezone(self.cal.tz).strftime("%G-W%V")
            per_week = self.load.setdefault(unit, {})
            per_week[week] = per_week.get(week, 0) + 1
            self.queues.setdefault(unit, deque()).append(Job(i, task, step, unit, at))
            self.start_work(at, unit)

    def fire_timer(self, at: int, i: int, task_id: str, node: str) -> None:
        """A timer still waited on fires (one the workflow left, e.g. its activity finished, is dropped)."""
        run = self.runs[i]
        if run is None or run.dead:
            return
        waiting = waiting_timers(run.wf).get(node)
        if waiting is None or str(waiting.id) != task_id:
            return
        try:
            fire(run.wf, node)
        except TRIAL_ERRORS as err:
            self.fail(i, _why(err))
            return
        self.advance(at, i)

    def answer(self, at: int, i: int, task_id: str, node: str, since: int) -> None:
        """The awaited agency's answer arrives: the data its recorded answers gave (or the form's empty
        values), the wait paused the clock when the event says so (decision 0160)."""
        run = self.runs[i]
        if run is None or run.dead:
            return
        waiting = waiting_messages(run.wf).get(node)
        if waiting is None or str(waiting.id) != task_id:
            return  # the workflow left the wait (a boundary message's step finished first)
        n = run.counts.get(node, 0)
        run.counts[node] = n + 1
        stats = self.stats(node)
        stats.items += 1
        stats.wait += at - since
        stats.longest_wait = max(stats.longest_wait, at - since)
        props = self.meta.nodes[node].properties if node in self.meta.nodes else {}
        if props.get("clock") == "paused":
            run.paused += at - since
        try:
            deliver(run.wf, node, self.answer_data(run.case, node, props, n))
        except TRIAL_ERRORS as err:
            self.fail(i, _why(err))
            return
        self.advance(at, i)

    def wait_for(self, case: Case, node: str, n: int) -> int:
        """Working minutes until the answer: a recorded wait of this event drawn at random (seeded per
        dossier), else none (the answer is taken as immediate: the report says so per event)."""
        pool = self.obs.waits.get(node)
        stats = self.stats(node)
        if not pool:
            stats.source = "no_waits_observed"
            return 0
        stats.source = "observed"
        return random.Random(f"{self.seed}|{case.code}|{node}|wait|{n}").choice(pool)

    def answer_data(self, case: Case, node: str, props: dict[str, str], n: int) -> dict[str, Any]:
        recorded = case.steps.get(node)
        if recorded:
            return dict(recorded[min(n, len(recorded) - 1)])
        try:
            fields = parse_form(props.get("form"))
        except FormError:
            return {}
        known = case.merged()
        return {f.name: known.get(f.name, 0 if f.type in ("number", "integer") else
                                 False if f.type == "bool" else "") for f in fields if f.required or f.name in known}

    def close(self, at: int, i: int, run: Run) -> None:
        out = self.outcomes[i]
        base = procedure_limit(self.meta, self.overrides)
        limit = limit_for(self.meta, base, wfm.final_data(run.wf))
        due = run.case.arrival + total_minutes(self.cal, limit, self.meta.remote_extension or self.extension,
                                               run.case.remote, 0) + run.paused
        out.due_at, out.finished_at = self.instant(due), self.instant(at)
        out.late_minutes = max(0, at - due)

    def fail(self, i: int, why: str) -> None:
        run = self.runs[i]
        if run is not None:
            run.dead = True
        self.outcomes[i].problem = why

    # -- units ------------------------------------------------------------------------------------
    def unit_of(self, case: Case, step: StepMeta | None, role: str | None = None) -> str:
        if step is None:
            return UNKNOWN_UNIT
        try:
            return self.dir.owner_unit(role or step.role or "", case.commune, case.desk_unit)
        except UnresolvedOwner:
            return case.units.get(step.id, UNKNOWN_UNIT)

    def slots(self, unit: str) -> int:
        if unit not in self.capacity:
            seen = self.obs.capacity.get(unit)
            # a unit this procedure never used: its officers, one item each (docs/whatif.md)
            self.capacity[unit] = seen if seen else max(1, len(self.dir.officers_in(unit)))
        return self.capacity[unit]

    def start_work(self, at: int, unit: str) -> None:
        queue = self.queues.get(unit)
        while queue and self.busy.get(unit, 0) < self.slots(unit):
            job = queue.popleft()
            run = self.runs[job.case]
            if run is None or run.dead or job.task.state != TaskState.READY:
                continue  # its dossier failed, or another branch cancelled the task while it queued
            self.busy[unit] = self.busy.get(unit, 0) + 1
            n = run.counts.get(job.step, 0)
            minutes = self.draw(run.case, job.step, job.unit, n)
            stats = self.stats(job.step)
            wait = at - job.queued
            stats.items += 1
            stats.wait += wait
            stats.work += minutes
            stats.longest_wait = max(stats.longest_wait, wait)
            stats.unit = stats.unit or unit
            self.push(at + minutes, "finish", job)

    def finish(self, at: int, job: Job) -> None:
        self.busy[job.unit] -= 1
        run = self.runs[job.case]
        if run is not None and not run.dead:
            n = run.counts.get(job.step, 0)
            run.counts[job.step] = n + 1
            meta = self.meta.steps.get(job.step)
            if meta is not None and meta.clock == "paused":
                run.paused += at - job.queued
            try:
                if job.task.state == TaskState.READY:  # not cancelled by another branch meanwhile
                    run_step(run.wf, job.task, self.data_for(run.case, meta, n))
            except TRIAL_ERRORS as err:
                self.fail(job.case, _why(err))
            else:
                self.advance(at, job.case)
        self.start_work(at, job.unit)

    # -- durations and data -----------------------------------------------------------------------
    def stats(self, step: str) -> StepStats:
        if step not in self.steps:
            meta = self.meta.steps.get(step)
            node = self.meta.nodes.get(step)  # a message catch event's wait is listed too
            self.steps[step] = StepStats(step, meta.name if meta else (node.name if node and node.name else step))
        return self.steps[step]

    def draw(self, case: Case, step: str, unit: str, n: int) -> int:
        rng = random.Random(f"{self.seed}|{case.code}|{step}|{n}")
        stats = self.stats(step)
        pool = self.obs.durations.get((step, unit))
        if not pool:
            pool = self.obs.by_step.get(step)
            if pool:
                stats.source = "observed_other_units"
        if pool:
            return rng.choice(pool)
        meta = self.meta.steps.get(step)
        if meta is not None and meta.sla:
            stats.source = "limit"
            return self.cal.minutes(meta.sla)
        stats.source = "default"
        return DEFAULT_MINUTES

    def data_for(self, case: Case, step: StepMeta | None, n: int) -> dict[str, Any]:
        """The data the dossier's history recorded for this step (its n-th completion, or the last);
        for a step it never went through: values of the same name recorded elsewhere in its history,
        and for a field a gateway reads and nobody recorded, `false` or the first choice; a required text
        nobody recorded (an agency's answer to a new consultation, which SpiffWorkflow collects) is empty."""
        if step is None:
            return {}
        recorded = case.steps.get(step.id)
        if recorded:
            return dict(recorded[min(n, len(recorded) - 1)])
        known = case.merged()
        data: dict[str, Any] = {}
        for f in step.form:
            if f.name in known:
                data[f.name] = known[f.name]
            elif f.name in self.steering and f.type == "bool":
                data[f.name] = False
            elif f.name in self.steering and f.type == "choice" and f.choices:
                data[f.name] = f.choices[0]
            elif f.required and f.type == "text":
                data[f.name] = ""
        return data


def _why(err: Exception) -> str:
    text = str(err.args[0]) if err.args else type(err).__name__
    return f"{type(err).__name__}: {text.splitlines()[0][:200] if text else ''}"
