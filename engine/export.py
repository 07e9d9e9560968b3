"""Process-mining export: XES (IEEE 1849) and OCEL 2.0 JSON, straight from the event log.

One trace per dossier (concept:name = the dossier code). A dossier event becomes:
- per work item it opens: `schedule` of the step (concept:name = the step's name, as drawn in the
  BPMN, so a discovered or given model's labels match), org:group = owning unit, org:role = role;
- `claimed` → `assign`, `released` and `transferred` → `reassign`, `completed` → `complete`,
  `returned` → `ate_abort` (the officer stopped the step and sent the dossier back), an item the
  engine closed (stop, cancel, a timer) → `withdraw`; stop / cancel → `pi_abort` of the case;
- every refusal (`refused: <action>`) and every accountability signal (`signal: <kind>`, from
  `signals_for`, scheduler notices included) is an event class of its own, lifecycle `unknown`, with
  `landflow:reason`; other engine events (supplements, timers) also carry lifecycle `unknown`;
- a message another agency delivers (the tax notice, engine/runtime/messages.py) is an activity of kind
  `message` named as its catch event: `schedule` when the dossier starts waiting for it, `complete`
  when it arrives (org:resource = the sending officer, org:role = the catch event's `from_role`).
org:resource is the acting officer ("system" for the scheduler). Filtering on lifecycle `complete`
gives the classic activity log; `landflow:kind` (step / refusal / signal / dossier) separates classes.

OCEL 2.0 has the same events, related to objects of four types: dossier, parcel (when the dossier
names one: `id`, or `sheet` + `number`), officer, unit.
A step run inside a fragment (a call activity) carries `landflow:fragment` = "key vN" in XES and, in OCEL,
the attribute `fragment` and a relation to an object of type fragment (listed only when one is used).

Both are written with lxml / the standard json module, streaming dossier by dossier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from lxml import etree
from sqlalchemy import select

from .accountability import signals_of
from .events import ActionRefused, MessageReceived, item_of, parse, reason_of
from .jsoncanon import iso
from .store import CaseEventRow, Database, DossierRow, OfficerRow, ProcedureVersionRow, UnitRow
from .waiting import catch_nodes

LIFECYCLE = {"claimed": "assign", "released": "reassign", "transferred": "reassign", "completed": "complete",
             "returned": "ate_abort"}
CASE_ABORT = {"stopped", "cancelled"}
BATCH = 200


@dataclass(frozen=True)
class ExportFilter:
    procedure: str | None = None
    start: datetime | None = None  # dossiers received in [start, end)
    end: datetime | None = None


@dataclass
class MinedEvent:
    name: str
    kind: str  # step | refusal | signal | dossier
    lifecycle: str
    at: datetime
    resource: str
    group: str | None
    role: str | None
    step: str | None = None
    reason: str | None = None
    seq: int = 0
    fragment: str | None = None  # "key vN": the fragment version the step belongs to (decision 0166)


@dataclass
class MinedTrace:
    dossier_id: int
    code: str
    procedure: str
    commune: str | None
    parcel: str | None
    events: list[MinedEvent] = field(default_factory=list)


def parcel_id(commune: str | None, parcel: dict[str, Any]) -> str | None:
    if parcel.get("id"):
        return f"parcel:{parcel['id']}"
    if parcel.get("sheet") is not None and parcel.get("number") is not None:
        return f"parcel:{commune or '-'}:{parcel['sheet']}/{parcel['number']}"
    return None


def traces(db: Database, flt: ExportFilter) -> Iterator[MinedTrace]:
    q = select(DossierRow.id, DossierRow.code, DossierRow.procedure, DossierRow.commune, DossierRow.parcel,
               DossierRow.procedure_version_id)
    if flt.procedure:
        q = q.where(DossierRow.procedure == flt.procedure)
    if flt.start:
        q = q.where(DossierRow.received_at >= flt.start)
    if flt.end:
        q = q.where(DossierRow.received_at < flt.end)
    with db.read() as s:
        dossiers = s.execute(q.order_by(DossierRow.id)).all()
        # Step names and roles live in the procedure version (events name steps by id and leave out
        # what the step gives): one map per version.
        metas = {vid: json.loads(meta) for vid, meta in s.execute(select(ProcedureVersionRow.id,
                                                                         ProcedureVersionRow.meta))}
    steps = {vid: {**catch_nodes(meta), **{st["id"]: st for st in meta["steps"]}} for vid, meta in metas.items()}
    fragments = {vid: fragment_steps(meta) for vid, meta in metas.items()}
    for i in range(0, len(dossiers), BATCH):
        chunk = dossiers[i:i + BATCH]
        with db.read() as s:
            rows = s.execute(select(CaseEventRow).where(CaseEventRow.dossier_id.in_([d[0] for d in chunk]))
                             .order_by(CaseEventRow.dossier_id, CaseEventRow.seq)).scalars().all()
        by_dossier: dict[int, list[CaseEventRow]] = {}
        for ev in rows:
            by_dossier.setdefault(ev.dossier_id, []).append(ev)
        for did, code, procedure, commune, parcel, version_id in chunk:
            trace = MinedTrace(did, code, procedure, commune, parcel_id(commune, json.loads(parcel or "{}")))
            trace.events = list(_mine(by_dossier.get(did, []), steps.get(version_id, {})))
            called = fragments.get(version_id, {})
            for mined in trace.events:
                if mined.kind == "step" and mined.step in called:
                    mined.fragment = called[mined.step]
            yield trace


def _mine(events: list[CaseEventRow], steps: dict[str, dict[str, Any]]) -> Iterator[MinedEvent]:
    items: dict[int, dict[str, Any]] = {}
    waiting: set[str] = set()  # message catch events the dossier waits on
    for ev in events:
        event = parse(ev.type, ev.payload)
        fx = event.effects
        acted_no = item_of(event)
        acted = items.get(acted_no) if acted_no is not None else None
        if ev.type in LIFECYCLE and acted is not None:
            yield MinedEvent(acted["name"], "step", LIFECYCLE[ev.type], ev.at, ev.actor, acted["unit"], acted["role"],
                             acted["step"], reason_of(event), ev.seq)
        elif isinstance(event, ActionRefused):
            yield MinedEvent(f"refused: {event.action}", "refusal", "unknown", ev.at, ev.actor, ev.unit,
                             None, ev.step, f"{event.code}: {event.message}", ev.seq)
        elif isinstance(event, MessageReceived):
            node = steps.get(event.element, {})
            yield MinedEvent(node.get("name") or event.message, "message", "complete", ev.at, ev.actor, ev.unit,
                             node.get("role"), event.element, None, ev.seq)
        elif ev.type in CASE_ABORT:
            yield MinedEvent(ev.type, "dossier", "pi_abort", ev.at, ev.actor, ev.unit, None, None,
                             reason_of(event), ev.seq)
        elif ev.type not in ("opened", *LIFECYCLE) and ev.type not in signal_kinds():
            yield MinedEvent(ev.type, "dossier", "unknown", ev.at, ev.actor, ev.unit, None, ev.step,
                             reason_of(event), ev.seq)
        for sig in signals_of(event, ev.actor, ev.unit):
            if sig.kind == "unauthorised_attempt":
                continue  # the refusal event is its own class already
            yield MinedEvent(f"signal: {sig.kind}", "signal", "unknown", ev.at, sig.officer or ev.actor,
                             sig.unit, None, ev.step, sig.reason, ev.seq)
        for key, changes in fx.get("items", {}).items():
            item = items.get(int(key))
            if item is None:
                continue
            if "unit" in changes:
                item["unit"] = changes["unit"]
            if changes.get("outcome") == "cancelled":
                yield MinedEvent(item["name"], "step", "withdraw", ev.at, ev.actor, item["unit"], item["role"],
                                 item["step"], None, ev.seq)
        for new in fx.get("new", []):
            step = steps.get(new["step"], {})
            items[new["item"]] = {"name": new.get("name") or step.get("name") or new["step"],
                                  "step": new["step"], "unit": new["unit"],
                                  "role": new["role"] if "role" in new else step.get("role")}
            yield MinedEvent(items[new["item"]]["name"], "step", "schedule", ev.at, ev.actor, new["unit"],
                             items[new["item"]]["role"], new["step"], None, ev.seq)
        if "awaiting" in fx.get("dossier", {}):
            now = {n for n in (fx["dossier"]["awaiting"] or "").split(",") if n}
            for element in sorted(now - waiting):
                catch = steps.get(element, {})
                yield MinedEvent(catch.get("name") or element, "message", "schedule", ev.at, ev.actor, None,
                                 catch.get("role"), element, None, ev.seq)
            waiting = now


def fragment_steps(meta: dict[str, Any]) -> dict[str, str]:
    """step id -> "fragment_key vN" for the steps a procedure version runs inside its fragments."""
    return {step: f"{b['key']} v{b['version']}" for b in meta.get("fragments", []) for step in b.get("steps", [])}


def signal_kinds() -> set[str]:
    return {"step_overdue", "dossier_overdue", "escalated", "idle_claim", "due_soon"}


# -- XES ---------------------------------------------------------------------------------------------

XES_NS = "http://www.xes-standard.org/"
EXTENSIONS = (("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
              ("Time", "time", "http://www.xes-standard.org/time.xesext"),
              ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
              ("Organizational", "org", "http://www.xes-standard.org/org.xesext"))


def _attr(xf: Any, tag: str, key: str, value: str) -> None:
    xf.write(etree.Element(tag, key=key, value=value))


def write_xes(db: Database, flt: ExportFilter, out: IO[bytes] | Path) -> tuple[int, int]:
    """Write the XES log; returns (traces, events)."""
    n_traces = n_events = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("log", {"xes.version": "1.0", "xes.features": "nested-attributes", "xmlns": XES_NS}):
            for name, prefix, uri in EXTENSIONS:
                xf.write(etree.Element("extension", name=name, prefix=prefix, uri=uri))
            with xf.element("global", scope="trace"):
                _attr(xf, "string", "concept:name", "UNKNOWN")
            with xf.element("global", scope="event"):
                _attr(xf, "string", "concept:name", "UNKNOWN")
                _attr(xf, "string", "lifecycle:transition", "complete")
                xf.write(etree.Element("date", key="time:timestamp", value="1970-01-01T00:00:00.000+00:00"))
            xf.write(etree.Element("classifier", name="Activity", keys="concept:name"))
            xf.write(etree.Element("classifier", name="Activity and lifecycle",
                                   keys="concept:name lifecycle:transition"))
            _attr(xf, "string", "concept:name", f"landflow {flt.procedure or 'all procedures'}")
            for trace in traces(db, flt):
                n_traces += 1
                with xf.element("trace"):
                    _attr(xf, "string", "concept:name", trace.code)
                    _attr(xf, "string", "landflow:procedure", trace.procedure)
                    if trace.commune:
                        _attr(xf, "string", "landflow:commune", trace.commune)
                    for ev in trace.events:
                        n_events += 1
                        el = etree.Element("event")
                        for key, value in (("concept:name", ev.name), ("lifecycle:transition", ev.lifecycle),
                                           ("org:resource", ev.resource), ("org:group", ev.group),
                                           ("org:role", ev.role), ("landflow:kind", ev.kind),
                                           ("landflow:step", ev.step), ("landflow:reason", ev.reason),
                                           ("landflow:fragment", ev.fragment)):
                            if value is not None:
                                etree.SubElement(el, "string", key=key, value=value)
                        etree.SubElement(el, "int", key="landflow:seq", value=str(ev.seq))
                        etree.SubElement(el, "date", key="time:timestamp", value=_xes_time(ev.at))
                        xf.write(el)
    return n_traces, n_events


def _xes_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"


# -- OCEL 2.0 ----------------------------------------------------------------------------------------

def ocel(db: Database, flt: ExportFilter) -> dict[str, Any]:
    """The OCEL 2.0 JSON document (objects: dossier, parcel, officer, unit)."""
    objects: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    event_types: dict[str, None] = {}
    epoch = "1970-01-01T00:00:00Z"
    with db.read() as s:
        officer_names = {u: n for u, n in s.execute(select(OfficerRow.username, OfficerRow.name))}
        unit_names = {c: n for c, n in s.execute(select(UnitRow.code, UnitRow.name))}

    def obj(oid: str, otype: str, attrs: dict[str, Any]) -> str:
        if oid not in objects:
            objects[oid] = {"id": oid, "type": otype, "relationships": [],
                            "attributes": [{"name": k, "time": epoch, "value": v} for k, v in attrs.items()
                                           if v is not None]}
        return oid

    for trace in traces(db, flt):
        dossier = obj(f"dossier:{trace.code}", "dossier", {"code": trace.code, "procedure": trace.procedure,
                                                            "commune": trace.commune})
        if trace.parcel:
            obj(trace.parcel, "parcel", {"commune": trace.commune})
            objects[dossier]["relationships"].append({"objectId": trace.parcel, "qualifier": "concerns"})
        for n, ev in enumerate(trace.events):
            etype = ev.name if ev.kind != "step" else f"{ev.name} ({ev.lifecycle})"
            event_types[etype] = None
            rel = [{"objectId": dossier, "qualifier": "dossier"},
                   {"objectId": obj(f"officer:{ev.resource}", "officer",
                                    {"name": officer_names.get(ev.resource, ev.resource)}), "qualifier": "resource"}]
            if ev.group:
                rel.append({"objectId": obj(f"unit:{ev.group}", "unit", {"name": unit_names.get(ev.group, ev.group)}),
                            "qualifier": "group"})
            if trace.parcel:
                rel.append({"objectId": trace.parcel, "qualifier": "parcel"})
            if ev.fragment:
                rel.append({"objectId": obj(f"fragment:{ev.fragment}", "fragment", {"version": ev.fragment}),
                            "qualifier": "fragment"})
            attrs = [{"name": k, "value": v} for k, v in (("lifecycle", ev.lifecycle), ("kind", ev.kind),
                                                          ("step", ev.step), ("role", ev.role), ("reason", ev.reason),
                                                          ("fragment", ev.fragment))
                     if v is not None]
            events.append({"id": f"{trace.dossier_id}-{ev.seq}-{n}", "type": etype,
                           "time": iso(ev.at).replace(".000000Z", "Z"), "attributes": attrs, "relationships": rel})
    event_attrs = [{"name": n, "type": "string"} for n in ("lifecycle", "kind", "step", "role", "reason", "fragment")]
    called = [{"name": "fragment", "attributes": [{"name": "version", "type": "string"}]}] \
        if any(o["type"] == "fragment" for o in objects.values()) else []
    return {
        "objectTypes": [
            {"name": "dossier",
             "attributes": [{"name": n, "type": "string"} for n in ("code", "procedure", "commune")]},
            {"name": "parcel", "attributes": [{"name": "commune", "type": "string"}]},
            {"name": "officer", "attributes": [{"name": "name", "type": "string"}]},
            {"name": "unit", "attributes": [{"name": "name", "type": "string"}]},
            *called,
        ],
        "eventTypes": [{"name": t, "attributes": event_attrs} for t in event_types],
        "objects": list(objects.values()),
        "events": events,
    }


def write_ocel(db: Database, flt: ExportFilter, path: Path | IO[str]) -> tuple[int, int]:
    doc = ocel(db, flt)
    if isinstance(path, Path):
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    else:
        json.dump(doc, path, ensure_ascii=False)
    return len(doc["objects"]), len(doc["events"])
