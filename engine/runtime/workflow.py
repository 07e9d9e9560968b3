"""SpiffWorkflow inside landflow: procedures in memory, live workflows cached, snapshots without spec.

A dossier's SpiffWorkflow state is a snapshot of its event log. Loading one costs a deserialise, so
live workflows stay in a per-process LRU keyed by (dossier, version); a command takes the workflow
out of the cache while it works on it and puts it back only after its transaction commits, so a
failed command can never leave a half-stepped workflow behind for the next one.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from ..definitions.model import ProcedureMeta
from ..definitions.spec import SERIALIZER
from ..expressions import SafeScriptEngine
from ..store import ProcedureVersionRow
from .incidents import bound, engine_steps
from .instances import collections
from .side_branches import main_end

SCRIPT_ENGINE = SafeScriptEngine()
VERSIONS = ProcedureVersionRow.__table__
# SpiffWorkflow registers converters as partial(_obj_from_dict, converter.from_dict): we reuse its
# workflow converter's pieces to restore a workflow around spec objects we already hold.
_WORKFLOW_CONVERTER = SERIALIZER.registry.convert_from_dict["BpmnWorkflow"].args[0].__self__


@dataclass(frozen=True)
class Procedure:
    """One deployed version, parsed once per process."""

    version_id: int
    key: str
    version: int
    name: str
    meta: ProcedureMeta
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    has_timers: bool = False  # commands skip timer bookkeeping for the (many) procedures without any


class ProcedureCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[int, Procedure] = {}

    def get(self, db: Session | Connection, version_id: int) -> Procedure:
        """By version id; `db` is a Session or a Core Connection (commands hold the latter)."""
        proc = self._by_id.get(version_id)
        if proc is not None:
            return proc
        row = db.execute(select(VERSIONS).where(VERSIONS.c.id == version_id)).first()
        if row is None:
            raise LookupError(f"procedure version {version_id} does not exist")
        return self.put(row)

    def put(self, row: Any) -> Procedure:
        """From a procedure_version row (ORM object or Core row)."""
        specs = json.loads(row.spec)
        spec = SERIALIZER.registry.restore(specs["spec"])
        subs = {k: SERIALIZER.registry.restore(v) for k, v in specs["subprocess_specs"].items()}
        proc = Procedure(row.id, row.key, row.version, row.name, ProcedureMeta.from_dict(json.loads(row.meta)),
                         spec, subs, _has_timers(spec, subs))
        with self._lock:
            self._by_id[row.id] = proc
        return proc

    def latest(self, db: Session | Connection, key: str) -> Procedure | None:
        version_id = db.execute(select(VERSIONS.c.id).where(VERSIONS.c.key == key)
                                .order_by(VERSIONS.c.version.desc()).limit(1)).scalar()
        return None if version_id is None else self.get(db, version_id)


def _has_timers(spec: BpmnProcessSpec, subs: dict[str, BpmnProcessSpec]) -> bool:
    for process in (spec, *subs.values()):
        for task_spec in process.task_specs.values():
            if isinstance(getattr(task_spec, "event_definition", None), TimerEventDefinition):
                return True
    return False


class WorkflowCache:
    """LRU of live workflows: dossier id -> (state version, workflow)."""

    def __init__(self, capacity: int = 20_000):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def take(self, dossier_id: int, version: int) -> BpmnWorkflow | None:
        with self._lock:
            entry = self._items.pop(dossier_id, None)
            if entry is not None and entry[0] == version:
                self.hits += 1
                return entry[1]
            self.misses += 1
            return None

    def put(self, dossier_id: int, version: int, wf: BpmnWorkflow) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._items[dossier_id] = (version, wf)
            self._items.move_to_end(dossier_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def evict(self, dossier_id: int) -> None:
        with self._lock:
            self._items.pop(dossier_id, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# -- workflows --------------------------------------------------------------------------------------

def start(proc: Procedure, data: dict[str, Any], live: bool = False) -> BpmnWorkflow:
    """`live`: a command's workflow, whose stepping is bounded (engine/runtime/incidents.py); replay's is not."""
    wf = BpmnWorkflow(proc.spec, proc.subprocess_specs, script_engine=SCRIPT_ENGINE)
    if live:
        bound(wf)
    # the agencies of multi-instance steps (engine/runtime/instances.py)
    data = {**collections([proc.spec, *proc.subprocess_specs.values()], proc.meta), **data}
    for task in wf.get_tasks(state=TaskState.READY):
        task.data.update(data)
    engine_steps(wf)
    return wf


def snapshot(wf: BpmnWorkflow) -> bytes:
    """Task state and data only: the spec is stored once per version, not per dossier."""
    dct = SERIALIZER.to_dict(wf)
    dct.pop("spec", None)
    dct.pop("subprocess_specs", None)
    for task in dct["tasks"].values():
        task.pop("last_state_change", None)  # wall-clock noise: replay must not depend on it
    # Key order matters: SpiffWorkflow restores a task's delta-encoded data from its parent, so tasks
    # must stay in tree order (never sort_keys here).
    return zlib.compress(json.dumps(dct, separators=(",", ":")).encode(), 6)


def load_snapshot(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob))


def restore(proc: Procedure, blob: bytes) -> BpmnWorkflow:
    """Rebuild a workflow around the cached spec objects (restoring the spec is 2/3 of from_dict)."""
    dct = load_snapshot(blob)
    for task in dct["tasks"].values():
        task.setdefault("last_state_change", 0.0)
    wf = BpmnWorkflow(proc.spec, proc.subprocess_specs, script_engine=SCRIPT_ENGINE, deserializing=True)
    wf.tasks = _WORKFLOW_CONVERTER.mapping_from_dict(dct["tasks"], UUID, workflow=wf)
    wf.task_tree = wf.tasks.get(UUID(dct["root"]))
    _WORKFLOW_CONVERTER.set_default_attributes(wf, dct)
    _WORKFLOW_CONVERTER.subprocesses_from_dict(dct.get("subprocesses", {}), wf)
    wf.bpmn_events = SERIALIZER.registry.restore(dct.get("bpmn_events", []))
    wf.script_engine = SCRIPT_ENGINE  # never the default eval/exec environment
    return wf


def ready_steps(wf: BpmnWorkflow) -> list[Task]:
    return list(wf.get_tasks(state=TaskState.READY, manual=True))


def task_by_id(wf: BpmnWorkflow, task_id: str) -> Task | None:
    try:
        return wf.get_task_from_id(UUID(task_id))
    except Exception:  # Spiff raises its own TaskNotFoundException or KeyError by version
        return None


def last_completed(wf: BpmnWorkflow, step: str) -> Task | None:
    """The most recent completed task of a step (the target of a return)."""
    found = None
    for task in wf.get_tasks(state=TaskState.COMPLETED):
        if task.task_spec.name == step:
            found = task
    return found


def completed_steps(wf: BpmnWorkflow) -> set[str]:
    return {t.task_spec.name for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.manual}


def end_event(wf: BpmnWorkflow) -> str | None:
    """The BPMN end event the process finished at (the dossier's outcome)."""
    if not wf.is_completed():
        return None
    found = main_end(_ends(wf))
    return found.task_spec.bpmn_id if found is not None else None


def _ends(wf: BpmnWorkflow) -> list[Task]:
    """The completed end events of the process itself (one inside a sub-process ends only that)."""
    return [t for t in wf.get_tasks(state=TaskState.COMPLETED)
            if isinstance(t.task_spec, EndEvent) and t.task_spec.bpmn_id and t.workflow is wf]


def current_data(wf: BpmnWorkflow) -> dict[str, Any]:
    ready = ready_steps(wf)
    task = ready[0] if ready else wf.last_task
    return dict(task.data) if task is not None else {}


def normalised(dct: dict[str, Any]) -> list[Any]:
    """A snapshot without ids and timestamps, in tree order, each task with its full data.

    SpiffWorkflow stores task data as deltas against the parent; equal workflows can encode the same
    data with different deltas (a restored workflow shares less), so compare materialised data.
    """
    tasks = dct["tasks"]
    out: list[Any] = []
    stack: list[tuple[str, dict[str, Any]]] = [(dct["root"], {})]
    while stack:
        task_id, parent_data = stack.pop()
        t = tasks[task_id]
        delta = t.get("delta") or {}
        if delta and t.get("parent") is not None:
            data = dict(parent_data)
            data.update(delta.get("updates", {}))
            for key in delta.get("deletions", []):
                data.pop(key, None)
        else:
            data = dict(t.get("data") or {})
        out.append([t["task_spec"], t["state"], sorted(data.items(), key=lambda kv: kv[0])])
        stack.extend((child, data) for child in reversed(t["children"]))
    return out


def normalised_workflow(wf: BpmnWorkflow) -> list[Any]:
    return normalised(load_snapshot(snapshot(wf)))


def final_data(wf: BpmnWorkflow) -> dict[str, Any]:
    """The data at the end event the process finished at."""
    found = main_end(_ends(wf))
    if found is None:
        found = wf.last_task
    return dict(found.data) if found is not None else {}
