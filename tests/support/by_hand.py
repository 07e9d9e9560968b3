"""Report numbers computed here, by hand, from the raw rows of `case_event` and `audit_log` and the
working calendar — never through engine/kpi.py, engine/kpi_facts.py or the `signal` table — so
that the API's reports can be checked against something that does not share their code.

Definitions are the README's ("KPI (`landflow kpi`)"), re-read from the events:
- a work item is *handled* by the `completed` / `returned` event that closes it (officer = its actor),
  on time when that instant is no later than the item's due time then; used and allowed working
  minutes run from the item's creation to its closing and to its due time;
- the signals are read off the events themselves: `returned` and drawn refusals (`completed` with
  `refused`) are returns, `transferred` a re-routing (and a ping-pong when it says so), a repeat
  supplement request, `action_refused` in a chain or in the audit log, `apologised`, and the
  scheduler's `idle_claim` / `escalated` notices (about the officer and unit they name);
- overdue open: items whose last recorded state is open and whose due time passed before
  min(period end, now).
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from engine.calendar import WorkingCalendar
from engine.store import Database

# Refusals that are acts outside one's unit, role or claim (docs/decisions/0050): the only ones counted
# as refused attempts. Written out here, not imported, so the count stays independent of the engine.
OUT_OF_SCOPE = {"wrong_unit", "wrong_role", "reserved_for_other", "claimed_by_other", "read_only", "inactive",
                "bad_signature", "bad_key"}

COUNTS = ("handled", "on_time", "used_minutes", "allowed_minutes", "overdue_open", "returns", "reroutes",
          "ping_pongs", "repeat_supplements", "refused_attempts", "idle_claims", "apologies", "escalations")


NOW = "@"  # in recorded effects: the instant of the event itself


def instant(value: Any) -> datetime:
    """An instant as effects record it (`2026-02-05T02:00:00.000000Z`), or one already read."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))


def when(value: Any, at: datetime) -> datetime | None:
    """A recorded time field: none, the event's own instant ('@'), or an instant."""
    if value is None:
        return None
    return at if value == NOW else instant(value)


@dataclass
class Item:
    created: datetime
    due: datetime | None
    unit: str | None
    state: str = "ready"
    assignee: str | None = None


@dataclass
class Dossier:
    procedure: str = ""
    desk_unit: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    items: dict[int, Item] = field(default_factory=dict)


@dataclass
class History:
    """Everything the reports need, folded from the raw rows once."""

    dossiers: dict[int, Dossier]
    handled: list[dict[str, Any]]  # {officer, unit, dossier, at, on_time, used, allowed}
    signals: list[dict[str, Any]]  # {column, officer, unit, dossier (None: audit log), at}


def _rows(db: Database, sql: str) -> list[Any]:
    with db.engine.connect() as c:
        return list(c.execute(text(sql)))


def _at(value: Any) -> datetime:
    """A timestamp column read with raw SQL: naive UTC (text on SQLite, a datetime on PostgreSQL)."""
    raw = datetime.fromisoformat(value) if isinstance(value, str) else value
    return raw.replace(tzinfo=UTC)


def fold(db: Database, calendar: WorkingCalendar) -> History:
    dossiers: dict[int, Dossier] = defaultdict(Dossier)
    handled: list[dict[str, Any]] = []
    signals: list[dict[str, Any]] = []
    for did, etype, actor, unit, at_raw, payload_text in _rows(
            db, "SELECT dossier_id, type, actor, unit, at, payload FROM case_event ORDER BY dossier_id, seq"):
        at = _at(at_raw)
        p = json.loads(payload_text)
        d = dossiers[did]
        fx = p.get("fx", {})
        if etype in ("completed", "returned"):
            item = d.items[p["item"]]
            handled.append({"officer": actor, "unit": item.unit, "dossier": did, "at": at,
                            "on_time": item.due is None or at <= item.due,
                            "used": calendar.between(item.created, at),
                            "allowed": calendar.between(item.created, item.due) if item.due else 0})

        def signal(column: str, officer: str | None, unit_: str | None, dossier: int = did,
                   when: datetime = at) -> None:
            signals.append({"column": column, "officer": officer, "unit": unit_, "dossier": dossier, "at": when})

        if etype == "returned" or (etype == "completed" and p.get("refused")):
            signal("returns", actor, unit)
        elif etype == "transferred":
            signal("reroutes", actor, unit)
            if p.get("ping_pong"):
                signal("ping_pongs", actor, unit)
        elif etype == "supplement_requested" and p.get("repeat"):
            signal("repeat_supplements", actor, unit)
        elif etype == "action_refused" and p.get("code") in OUT_OF_SCOPE:
            signal("refused_attempts", actor, unit)
        elif etype == "apologised":
            signal("apologies", actor, unit)
        elif etype in ("idle_claim", "escalated"):
            signal("idle_claims" if etype == "idle_claim" else "escalations", p.get("officer"), p.get("unit", unit))
        for name, value in fx.get("dossier", {}).items():
            d.fields[name] = at if value == NOW else value
        d.procedure = d.fields.get("procedure", d.procedure)
        d.desk_unit = d.fields.get("desk_unit", d.desk_unit)
        for new in fx.get("new", []):
            d.items[new["item"]] = Item(at, when(new.get("due_at"), at), new["unit"], new.get("state", "ready"),
                                        new.get("assignee"))
        if etype == "completed":  # closes its item, taken by the actor if nobody had claimed it
            closed = d.items[p["item"]]
            closed.assignee = actor if closed.state == "ready" else closed.assignee
            closed.state = "done"
        for key, changes in fx.get("items", {}).items():
            item = d.items[int(key)]
            item.unit = changes.get("unit", item.unit)
            item.state = changes.get("state", item.state)
            item.assignee = changes.get("assignee", item.assignee)
            if "due_at" in changes:
                item.due = when(changes["due_at"], at)
    for etype, actor, unit, at_raw, payload_text in _rows(
            db, "SELECT type, actor, unit, at, payload FROM audit_log ORDER BY seq"):
        if etype == "action_refused" and json.loads(payload_text).get("code") in OUT_OF_SCOPE:
            signals.append({"column": "refused_attempts", "officer": actor, "unit": unit, "dossier": None,
                            "at": _at(at_raw)})
    return History(dict(dossiers), handled, signals)


def kpi_rows(h: History, group_by: str, start: datetime, end: datetime, now: datetime,
             unit: str | None = None) -> dict[str, dict[str, int]]:
    """Per key, the non-zero counts of the report's rows (keys as the API writes them, '-' for none)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def key(officer: str | None, unit_: str | None, dossier: int | None) -> str:
        procedure = h.dossiers[dossier].procedure if dossier is not None else None
        return {"officer": officer, "unit": unit_, "procedure": procedure}[group_by] or "-"

    for x in h.handled:
        if start <= x["at"] < end and (unit is None or x["unit"] == unit):
            row = out[key(x["officer"], x["unit"], x["dossier"])]
            row["handled"] += 1
            row["on_time"] += x["on_time"]
            row["used_minutes"] += x["used"]
            row["allowed_minutes"] += x["allowed"]
    for s in h.signals:
        if start <= s["at"] < end and (unit is None or s["unit"] == unit):
            out[key(s["officer"], s["unit"], s["dossier"])][s["column"]] += 1
    ref = min(end, now)
    for did, d in h.dossiers.items():
        for item in d.items.values():
            if item.state in ("ready", "claimed") and item.due is not None and item.due < ref \
                    and (unit is None or item.unit == unit):
                out[key(item.assignee, item.unit, did)]["overdue_open"] += 1
    return {k: {c: n for c, n in v.items() if n} for k, v in out.items() if any(v.values())}


def rating(counts: dict[str, int], rules_file: Path) -> str:
    """The level of config/kpi.toml a row reaches: the first whose every min_/max_ threshold holds."""
    rules = tomllib.loads(rules_file.read_text(encoding="utf-8"))
    handled = counts.get("handled", 0)
    if handled < int(rules.get("min_items", 1)):
        return "not_rated"
    values: dict[str, float | None] = {c: counts.get(c, 0) for c in COUNTS}
    values["on_time_rate"] = counts.get("on_time", 0) / handled
    allowed = counts.get("allowed_minutes", 0)
    values["sla_use"] = counts.get("used_minutes", 0) / allowed if allowed else None
    for level in ("excellent", "good", "completed"):
        ok = True
        for rule, limit in rules.get("levels", {}).get(level, {}).items():
            value = values[rule[4:]]
            ok = ok and value is not None and (value >= limit if rule.startswith("min_") else value <= limit)
        if ok:
            return level
    return "not_completed"


def dossier_level(h: History, start: datetime, end: datetime, now: datetime, unit: str | None = None,
                  by: str | None = None) -> dict[str, dict[str, int]]:
    """to_process, done, done_on_time, late_done, late_in_progress per procedure / desk (`by`) or 'all'."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("to_process", "done", "done_on_time", "late_done", "late_in_progress"), 0))
    ref = min(end, now)
    for d in h.dossiers.values():
        f = d.fields
        if unit is not None and not any(i.unit == unit for i in d.items.values()):
            continue
        received = instant(f["received_at"])
        finished = instant(f["finished_at"]) if f.get("finished_at") else None
        legal = instant(f["statutory_due_at"])
        paused = instant(f["paused_at"]) if f.get("paused_at") else None
        withdrawn = f["status"] in ("stopped", "cancelled") and finished is not None and finished < end
        if received >= end or withdrawn:
            continue
        row = out[{"procedure": d.procedure, "unit": d.desk_unit, None: "all"}[by]]
        if finished is None or finished >= start:
            row["to_process"] += 1
        if f["status"] == "done" and finished is not None and start <= finished < end:
            row["done"] += 1
            row["done_on_time" if finished <= legal else "late_done"] += 1
        if (finished is None or finished >= end) and legal < ref and (paused is None or paused > legal):
            row["late_in_progress"] += 1
    return dict(out)
