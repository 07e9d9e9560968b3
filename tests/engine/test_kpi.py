"""KPI numbers for a generated history equal numbers computed here, independently, from the raw events."""

from __future__ import annotations

import contextlib
import json
import random
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.jsoncanon import iso, parse_iso
from engine.kpi import KpiRow, RatingRules, kpi_report
from engine.kpi_facts import refresh_item_facts
from engine.runtime import CommandRefused
from engine.scheduler import Sweeper
from engine.store import AuditEntryRow, CaseEventRow, WorkItemRow
from tests.conftest import officer
from tests.support.by_hand import OUT_OF_SCOPE

DESKS = {"W1": ["desk.w1", "desk2.w1"], "C2": ["desk.c2"]}
LAND = {"W1": ["land.w1", "land2.w1"], "C2": ["land.c2"]}
CHAIR = {"W1": "chair.w1", "C2": "chair.c2"}


def open_item(lf: Landflow, did: int) -> WorkItemRow | None:
    with lf.db.read() as s:
        return s.scalar(select(WorkItemRow).where(WorkItemRow.dossier_id == did,
                                                  WorkItemRow.state.in_(("ready", "claimed"))))


def generate(lf: Landflow, clock: FixedClock, seed: int, n: int = 18) -> None:
    """A history with late and early steps, returns, transfers and ping-pongs, repeat supplement
    requests, refused attempts, apologies, idle claims; some dossiers left open."""
    rng = random.Random(seed)
    rt = lf.runtime
    sweeper = Sweeper(lf)

    def tick() -> None:
        clock.advance(minutes=rng.choice([20, 90, 300, 600, 1500, 2900]))
        if rng.random() < 0.3:
            sweeper.sweep()

    def o(name: str) -> Any:
        return officer(lf, name)

    with pytest.raises(CommandRefused):
        rt.open(o("land.w1"), "small_test", "W1", {"name": "X"})  # refused: not a desk (audit log)
    for i in range(n):
        commune = rng.choice(["W1", "W1", "C2"])
        desk = rng.choice(DESKS[commune])
        st = rt.open(o(desk), "small_test", commune, {"name": f"D{i}"})
        tick()
        steps = 0
        while steps < 12:
            steps += 1
            item = open_item(lf, st.id)
            if item is None:
                break
            if i >= n - 3 and steps > 2:
                break  # leave the last dossiers in progress
            if item.step == "receive":
                actor = o(rng.choice(DESKS[commune]) if item.assignee is None else item.assignee)
                if rng.random() < 0.3 and item.state == "ready":
                    rt.claim(actor, item.id)
                    tick()
                rt.complete(actor, item.id, {"complete": True})
            elif item.step == "verify":
                land = o(item.assignee or rng.choice(LAND[item.unit or commune]))
                r = rng.random()
                if r < 0.15:
                    with pytest.raises(CommandRefused):
                        rt.complete(o(CHAIR[commune]), item.id, {"eligible": True, "area": 5})
                elif r < 0.4 and commune == "W1" and item.assignee is None:
                    if rng.random() < 0.5:
                        other = "land2.w1" if land.username == "land.w1" else "land.w1"
                        rt.transfer(land, item.id, "đúng người phụ trách", to_officer=other)
                        continue
                    rt.transfer(land, item.id, "không thuộc địa bàn", to_unit="C2")
                    tick()
                    if rng.random() < 0.7:  # and back: ping-pong
                        rt.transfer(o("land.c2"), item.id, "trả lại", to_unit="W1")
                    continue
                elif r < 0.5:
                    rt.return_(land, item.id, "receive", "thiếu giấy tờ")
                elif r < 0.6:
                    rt.request_supplement(land, item.id, "bổ sung trích lục")
                    tick()
                    rt.receive_supplement(o(DESKS[commune][0]), st.id, "đã nhận")
                elif r < 0.75 and item.state == "ready":
                    rt.claim(land, item.id)  # ... and leave it (idle claim)
                    clock.advance(days=4)
                    sweeper.sweep()
                else:
                    eligible = rng.random() < 0.8
                    rt.complete(land, item.id, {"eligible": eligible, "area": rng.choice([50, 150]),
                                                **({} if eligible else {"note": "đất có tranh chấp"})})
            elif item.step == "post":
                if rng.random() < 0.2:
                    with contextlib.suppress(CommandRefused):
                        rt.apologise(o(LAND[commune][0]), st.id, "chậm niêm yết", clock.now() + timedelta(days=20))
                rt.complete(o(item.assignee or LAND[commune][0]), item.id, {})
            elif item.step == "sign":
                rt.complete(o(CHAIR[commune]), item.id, {})
            else:
                rt.complete(o(item.assignee or DESKS[commune][0]), item.id, {})
            tick()
    clock.advance(days=10)
    sweeper.sweep()


def signal_columns(etype: str, actor: str, unit: str | None, p: dict[str, Any]
                   ) -> list[tuple[tuple[str | None, str | None], str]]:
    """The KPI columns one event in the period counts, and for whom: ((officer, unit), column)."""
    signal_of = {"returned": "returns", "transferred": "reroutes", "action_refused": "refused_attempts",
                 "apologised": "apologies"}
    out: list[tuple[tuple[str | None, str | None], str]] = []
    if etype in signal_of and (etype != "action_refused" or p.get("code") in OUT_OF_SCOPE):
        out.append(((actor, unit), signal_of[etype]))
    if etype == "completed" and p.get("refused"):  # a drawn refusal (not eligible) is a return too
        out.append(((actor, unit), "returns"))
    if etype == "transferred" and p["ping_pong"]:
        out.append(((actor, unit), "ping_pongs"))
    if etype == "supplement_requested" and p["repeat"]:
        out.append(((actor, unit), "repeat_supplements"))
    if etype in ("idle_claim", "escalated"):
        out.append(((p["officer"], p["unit"]), {"idle_claim": "idle_claims", "escalated": "escalations"}[etype]))
    return out


def independent(lf: Landflow, group_by: str, start: datetime, end: datetime, now: datetime) -> dict[str, dict]:
    """The KPI numbers, computed from case_event and audit_log rows and the working calendar."""
    cal = lf.calendar
    with lf.db.read() as s:
        events = list(s.scalars(select(CaseEventRow).order_by(CaseEventRow.dossier_id, CaseEventRow.seq)))
        refused_opens = list(s.scalars(select(AuditEntryRow).where(AuditEntryRow.type == "action_refused")))
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    items: dict[tuple[int, int], dict[str, Any]] = {}
    procedure: dict[int, str] = {}
    for ev in events:
        p = json.loads(ev.payload)
        fx = p.get("fx", {})
        if ev.type == "opened":
            procedure[ev.dossier_id] = p["procedure"]

        def key(officer_name: str | None, unit: str | None, did: int = ev.dossier_id) -> str:
            return {"officer": officer_name, "unit": unit, "procedure": procedure[did]}[group_by] or "-"

        if ev.type in ("completed", "returned") and start <= ev.at < end:
            it = items[(ev.dossier_id, p["item"])]
            k = key(ev.actor, it["unit"])
            out[k]["handled"] += 1
            out[k]["on_time"] += ev.at <= it["due"]
            out[k]["used_minutes"] += cal.between(it["created"], ev.at)
            out[k]["allowed_minutes"] += cal.between(it["created"], it["due"])
        if start <= ev.at < end:
            for who, column in signal_columns(ev.type, ev.actor, ev.unit, p):
                out[key(*who)][column] += 1
        for new in fx.get("new", []):
            items[(ev.dossier_id, new["item"])] = {"created": ev.at, "due": instant(new["due_at"], ev.at),
                                                   "unit": new["unit"], "state": "ready", "assignee": None}
        if ev.type == "completed":  # closes its item, taken by the actor if nobody had claimed it
            it = items[(ev.dossier_id, p["item"])]
            it["assignee"] = ev.actor if it["state"] == "ready" else it["assignee"]
            it["state"] = "done"
        for k_, ch in fx.get("items", {}).items():
            it = items[(ev.dossier_id, int(k_))]
            for field_ in ("unit", "state", "assignee"):
                if field_ in ch:
                    it[field_] = ch[field_]
            if "due_at" in ch:
                it["due"] = instant(ch["due_at"], ev.at)
    for e in refused_opens:
        if json.loads(e.payload).get("code") not in OUT_OF_SCOPE:
            continue
        if start <= e.at < end and group_by != "procedure":
            out[e.actor if group_by == "officer" else (e.unit or "-")]["refused_attempts"] += 1
        elif start <= e.at < end:
            out["-"]["refused_attempts"] += 1
    ref = min(end, now)
    for (did, _), it in items.items():
        if it["state"] in ("ready", "claimed") and it["due"] < ref:
            out[{"officer": it["assignee"], "unit": it["unit"], "procedure": procedure[did]}[group_by] or "-"][
                "overdue_open"] += 1
    return {k: dict(v) for k, v in out.items()}


def instant(value: str, at: datetime) -> datetime:
    """An instant in effects: "@" means the event's own time."""
    return at if value == "@" else parse_iso(value)


def dossier_level(lf: Landflow, start: datetime, end: datetime, now: datetime) -> dict[str, int]:
    """to_process, done, done_on_time, late_done, late_in_progress over all dossiers, from the events."""
    with lf.db.read() as s:
        events = list(s.scalars(select(CaseEventRow).order_by(CaseEventRow.dossier_id, CaseEventRow.seq)))
    dossiers: dict[int, dict[str, Any]] = defaultdict(dict)
    for ev in events:
        for name, value in json.loads(ev.payload).get("fx", {}).get("dossier", {}).items():
            dossiers[ev.dossier_id][name] = iso(ev.at) if value == "@" else value  # "@": the event's instant
    out = defaultdict(int)
    ref = min(end, now)
    for d in dossiers.values():
        received = parse_iso(d["received_at"])
        finished = parse_iso(d["finished_at"]) if d.get("finished_at") else None
        legal = parse_iso(d["statutory_due_at"])
        paused = parse_iso(d["paused_at"]) if d.get("paused_at") else None
        withdrawn = d["status"] in ("stopped", "cancelled") and finished is not None and finished < end
        if received >= end or withdrawn:
            continue
        if finished is None or finished >= start:
            out["to_process"] += 1
        if d["status"] == "done" and finished is not None and start <= finished < end:
            out["done"] += 1
            out["done_on_time" if finished <= legal else "late_done"] += 1
        if (finished is None or finished >= end) and legal < ref and (paused is None or paused > legal):
            out["late_in_progress"] += 1
    return dict(out)


FIELDS = ("handled", "on_time", "used_minutes", "allowed_minutes", "overdue_open", "returns", "reroutes",
          "ping_pongs", "repeat_supplements", "refused_attempts", "idle_claims", "apologies", "escalations")


def as_counts(row: KpiRow) -> dict[str, int]:
    return {f: getattr(row, f) for f in FIELDS if getattr(row, f)}


@pytest.mark.parametrize("group_by", ["officer", "unit", "procedure"])
def test_kpi_equals_an_independent_count_from_the_events(small: Landflow, clock: FixedClock, group_by: str) -> None:
    lf = small
    start = clock.now() - timedelta(hours=1)
    generate(lf, clock, seed=5)
    now = clock.now()
    end = start + (now - start) * 0.7  # a period that cuts through the history
    refresh_item_facts(lf.db, lf.calendar, now)
    rules = RatingRules.load(ROOT / "config" / "kpi.toml")
    for period in ((start, end), (start, now + timedelta(hours=1))):
        with lf.db.read() as s:
            report = kpi_report(s, group_by, period[0], period[1], now, rules)
        got = {r.key: as_counts(r) for r in report.rows if as_counts(r)}
        want = {k: {f: v for f, v in c.items() if v} for k, c in independent(lf, group_by, *period, now).items()}
        want = {k: v for k, v in want.items() if v}
        assert got == want
        overall = report.dossiers[-1]
        assert overall.key == "all"
        expected = dossier_level(lf, *period, now)
        assert {f: getattr(overall, f) for f in ("to_process", "done", "done_on_time", "late_done",
                                                 "late_in_progress") if getattr(overall, f)} == expected
    # the generated history exercises every measure at least once (else this test proves little)
    totals = defaultdict(int)
    for counts in independent(lf, group_by, start, now + timedelta(hours=1), now).values():
        for f, v in counts.items():
            totals[f] += v
    assert {f for f in FIELDS if totals[f]} >= {"handled", "on_time", "returns", "reroutes", "ping_pongs",
                                                 "repeat_supplements", "refused_attempts", "idle_claims",
                                                 "escalations", "overdue_open"}
    assert totals["on_time"] < totals["handled"]  # some late, some not


def test_rating_levels_come_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "kpi.toml"
    path.write_text("min_items = 2\n[levels.excellent]\nmin_on_time_rate = 0.9\nmax_returns = 0\n"
                    "[levels.good]\nmin_on_time_rate = 0.8\n[levels.completed]\nmin_on_time_rate = 0.5\n")
    rules = RatingRules.load(path)
    assert rules.rate(KpiRow("a", handled=10, on_time=10)) == "excellent"
    assert rules.rate(KpiRow("a", handled=10, on_time=10, returns=1)) == "good"
    assert rules.rate(KpiRow("a", handled=10, on_time=6)) == "completed"
    assert rules.rate(KpiRow("a", handled=10, on_time=4)) == "not_completed"
    assert rules.rate(KpiRow("a", handled=1, on_time=1)) == "not_rated"
    path.write_text("[levels.good]\nmin_speed = 1\n")
    with pytest.raises(ValueError, match="min_speed"):
        RatingRules.load(path)
