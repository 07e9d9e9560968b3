"""KPI reports per officer, unit or procedure and period, from projections, with SQL aggregates.

Definitions (README, "Deadlines and accountability"):

Per group (officer = who closed the item; unit = the unit owning the item; procedure):
- handled: work items completed or returned in the period (`kpi_item`, engine/kpi_facts.py);
- on_time / on_time_rate: handled no later than the item's due time;
- used_minutes / allowed_minutes / sla_use: working time from the item's creation to its closing,
  against the working time it was given (its SLA, plus supplement pauses that moved its due time);
- overdue_open: items open now whose due time passed before the period's end (a snapshot: the
  assignee for officers);
- returns, reroutes, ping_pongs, repeat_supplements, refused_attempts, idle_claims, apologies,
  escalations: signals in the period (their `officer` / `unit`, or the dossier's procedure);
- confirmed_shirking, justified: verdicts of reviews (engine/reviews.py) of the period's signals — a
  signal counts as shirking only once a review confirms it;
- rating: the level of config/kpi.toml reached (excellent / good / completed / not_completed).

Limited to one unit (`unit=`: what a unit head reads of their own unit): items owned by the unit,
signals about the unit, and at dossier level the dossiers in which the unit owns a work item (its
current owner, or the owner that closed it).

Dossier level, as provincial dashboards count it (per procedure, per receiving desk, or overall):
- to_process: dossiers received before the period's end and not finished before its start
  (stopped or cancelled ones excluded);
- late_done: finished ("done") in the period after their statutory deadline; late_in_progress:
  not finished by the period's end and past their statutory deadline by then (a dossier whose clock
  is paused counts only if it was already late when it paused);
- late_rate = (late_in_progress + late_done) / to_process;
- on_time_share = done on time / done in the period, and points_766 = 20 × on_time_share: our reading of
  Decision 766/QĐ-TTg's "progress and results" group, where on-time processing scores up to 20 points.
The statutory deadline is used, not the appointment an apology moved: an apology does not make a
late dossier on time.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from .definitions.fragments import is_fragment
from .definitions.lint import LintReport
from .definitions.model import ProcedureMeta
from .reviews import verdict_counts
from .store import DossierRow, ItemFactRow, ProcedureVersionRow, SignalRow, WorkItemRow
from .store.models import ITEM_OPEN_SQL, partial_predicate

GROUPS = ("officer", "unit", "procedure")
SIGNAL_COLUMNS = {"returned": "returns", "rerouted": "reroutes", "ping_pong": "ping_pongs",
                  "repeat_supplement": "repeat_supplements", "unauthorised_attempt": "refused_attempts",
                  "idle_claim": "idle_claims", "apologised": "apologies", "escalated": "escalations"}
LEVELS = ("excellent", "good", "completed")


@dataclass
class KpiRow:
    key: str
    handled: int = 0
    on_time: int = 0
    used_minutes: int = 0
    allowed_minutes: int = 0
    overdue_open: int = 0
    returns: int = 0
    reroutes: int = 0
    ping_pongs: int = 0
    repeat_supplements: int = 0
    refused_attempts: int = 0
    idle_claims: int = 0
    apologies: int = 0
    escalations: int = 0
    # reviews of this period's signals (engine/reviews.py): raw signals above, verdicts here
    confirmed_shirking: int = 0
    justified: int = 0
    rating: str = "not_rated"

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.handled if self.handled else None

    @property
    def sla_use(self) -> float | None:
        return self.used_minutes / self.allowed_minutes if self.allowed_minutes else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"on_time_rate": self.on_time_rate, "sla_use": self.sla_use}


@dataclass
class DossierKpi:
    key: str
    to_process: int = 0
    done: int = 0
    done_on_time: int = 0
    late_done: int = 0
    late_in_progress: int = 0

    @property
    def late_rate(self) -> float | None:
        return (self.late_done + self.late_in_progress) / self.to_process if self.to_process else None

    @property
    def on_time_share(self) -> float | None:
        return self.done_on_time / self.done if self.done else None

    @property
    def points_766(self) -> float | None:
        share = self.on_time_share
        return None if share is None else round(20 * share, 2)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"late_rate": self.late_rate, "on_time_share": self.on_time_share,
                               "points_766": self.points_766}


@dataclass
class KpiReport:
    group_by: str
    start: datetime
    end: datetime
    unit: str | None = None  # the report is limited to this unit
    rows: list[KpiRow] = field(default_factory=list)
    dossiers: list[DossierKpi] = field(default_factory=list)  # per procedure / desk unit, then "all"
    six_clear: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"group_by": self.group_by, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "unit": self.unit, "rows": [r.as_dict() for r in self.rows],
                "dossiers": [d.as_dict() for d in self.dossiers], "six_clear": self.six_clear}


# -- rating ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RatingRules:
    min_items: int
    levels: dict[str, dict[str, float]]

    @classmethod
    def load(cls, path: Path) -> RatingRules:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        levels = {name: dict(data.get("levels", {}).get(name, {})) for name in LEVELS}
        for name, rules in levels.items():
            for rule in rules:
                metric = rule.removeprefix("min_").removeprefix("max_")
                if not rule.startswith(("min_", "max_")) or metric not in RATED_METRICS:
                    raise ValueError(f"{path}: levels.{name}.{rule} is not min_/max_ of {sorted(RATED_METRICS)}")
        return cls(int(data.get("min_items", 1)), levels)

    def rate(self, row: KpiRow) -> str:
        if row.handled < self.min_items:
            return "not_rated"
        values = {m: getattr(row, m) for m in RATED_METRICS}
        for name in LEVELS:
            if all(_holds(values, rule, limit) for rule, limit in self.levels[name].items()):
                return name
        return "not_completed"


RATED_METRICS = {"on_time_rate", "sla_use", "overdue_open", "confirmed_shirking", *SIGNAL_COLUMNS.values()}


def _holds(values: dict[str, Any], rule: str, limit: float) -> bool:
    value = values[rule[4:]]
    if value is None:
        return False
    return value >= limit if rule.startswith("min_") else value <= limit


# -- the report --------------------------------------------------------------------------------------

def kpi_report(session: Session, group_by: str, start: datetime, end: datetime, now: datetime,
               rules: RatingRules, unit: str | None = None) -> KpiReport:
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    if end <= start:
        raise ValueError("the period must end after it starts")
    report = KpiReport(group_by, start, end, unit)
    rows: dict[str, KpiRow] = {}

    def row(key: str | None) -> KpiRow:
        k = key if key is not None else "-"
        return rows.setdefault(k, KpiRow(k))

    F = ItemFactRow
    col_f: QueryableAttribute[str | None] = {"officer": F.officer, "unit": F.unit,
                                             "procedure": F.procedure}[group_by]
    q_f = (select(col_f, func.count(), func.sum(case((F.on_time, 1), else_=0)), func.sum(F.used_minutes),
                  func.sum(F.allowed_minutes))
           .where(F.done_at >= start, F.done_at < end))
    if unit is not None:
        q_f = q_f.where(F.unit == unit)
    for found in session.execute(q_f.group_by(col_f)):
        key, handled, on_time, used, allowed = found[0], found[1], found[2], found[3], found[4]  # typed per column
        r = row(key)
        r.handled, r.on_time, r.used_minutes, r.allowed_minutes = handled, int(on_time or 0), int(used or 0), \
            int(allowed or 0)

    S = SignalRow
    col_s: QueryableAttribute[str | None] = {"officer": S.officer, "unit": S.unit,
                                             "procedure": DossierRow.procedure}[group_by]
    q_s = (select(col_s, S.kind, func.count()).select_from(S)
           .where(S.at >= start, S.at < end, S.kind.in_(SIGNAL_COLUMNS)))
    if group_by == "procedure":
        q_s = q_s.outerjoin(DossierRow, DossierRow.id == S.dossier_id)
    if unit is not None:
        q_s = q_s.where(S.unit == unit)
    for key, kind, n in session.execute(q_s.group_by(col_s, S.kind)):
        setattr(row(key), SIGNAL_COLUMNS[kind], n)

    for key, (confirmed, justified) in verdict_counts(session, group_by, start, end, unit).items():
        r = row(key)
        r.confirmed_shirking, r.justified = confirmed, justified

    W = WorkItemRow
    ref = min(end, now)
    col_w: QueryableAttribute[str | None] = {"officer": W.assignee, "unit": W.unit,
                                             "procedure": DossierRow.procedure}[group_by]
    q_w = (select(col_w, func.count()).select_from(W)
           .where(partial_predicate("work_item", ITEM_OPEN_SQL), W.due_at < ref))
    if group_by == "procedure":
        q_w = q_w.join(DossierRow, DossierRow.id == W.dossier_id)
    if unit is not None:
        q_w = q_w.where(W.unit == unit)
    for key, n in session.execute(q_w.group_by(col_w)):
        row(key).overdue_open = n

    for r in rows.values():
        r.rating = rules.rate(r)
    report.rows = sorted(rows.values(), key=lambda r: r.key)
    if group_by in ("procedure", "unit"):
        # every dossier has one procedure and one receiving desk: "all" is the sum of the groups, not
        # a second pass over a province's dossiers
        report.dossiers = dossier_kpis(session, start, end, now, group_by, unit)
        total = DossierKpi("all")
        for d in report.dossiers:
            for name in ("to_process", "done", "done_on_time", "late_done", "late_in_progress"):
                setattr(total, name, getattr(total, name) + getattr(d, name))
        report.dossiers.append(total)
    else:
        report.dossiers.append(dossier_kpis(session, start, end, now, None, unit)[0])
    report.six_clear = six_clear(session)
    return report


def dossier_kpis(session: Session, start: datetime, end: datetime, now: datetime,
                 group_by: str | None, unit: str | None = None) -> list[DossierKpi]:
    D = DossierRow
    ref = min(end, now)
    withdrawn = and_(D.status.in_(("stopped", "cancelled")), D.finished_at < end)
    to_process = and_(D.received_at < end, or_(D.finished_at.is_(None), D.finished_at >= start), ~withdrawn)
    done = and_(D.status == "done", D.finished_at >= start, D.finished_at < end)
    on_time = and_(done, D.finished_at <= D.statutory_due_at)
    late_done = and_(done, D.finished_at > D.statutory_due_at)
    open_at_end = and_(D.received_at < end, or_(D.finished_at.is_(None), D.finished_at >= end), ~withdrawn)
    late_open = and_(open_at_end, D.statutory_due_at < ref,
                     or_(D.paused_at.is_(None), D.paused_at > D.statutory_due_at))

    def n(cond: ColumnElement[bool]) -> Any:
        return func.sum(case((cond, 1), else_=0))

    cols = [n(to_process), n(done), n(on_time), n(late_done), n(late_open)]
    if group_by is None:
        q = select(*cols)
    else:
        key_col = D.procedure if group_by == "procedure" else D.desk_unit
        q = select(key_col, *cols).group_by(key_col).order_by(key_col)
    q = q.where(D.received_at < end)
    if unit is not None:
        q = q.where(exists().where(WorkItemRow.dossier_id == D.id, WorkItemRow.unit == unit))
    out = []
    for r in session.execute(q):
        values = [int(v or 0) for v in (r[1:] if group_by else r)]
        out.append(DossierKpi(str(r[0]) if group_by else "all", *values))
    if not out and group_by is None:
        out.append(DossierKpi("all"))
    return out


def six_clear(session: Session) -> list[dict[str, Any]]:
    """'6 clear' completeness of the latest version of each deployed procedure."""
    latest = select(ProcedureVersionRow.key, func.max(ProcedureVersionRow.version).label("v")) \
        .group_by(ProcedureVersionRow.key).subquery()
    out = []
    for key, version, meta in session.execute(
            select(ProcedureVersionRow.key, ProcedureVersionRow.version, ProcedureVersionRow.meta)
            .join(latest, and_(latest.c.key == ProcedureVersionRow.key, latest.c.v == ProcedureVersionRow.version))
            .order_by(ProcedureVersionRow.key)):
        pm = ProcedureMeta.from_dict(json.loads(meta))
        cells = pm.six_clear()
        missing = sorted({f"{step}.{c}" for step, cs in cells.items() for c, ok in cs.items() if not ok})
        try:
            papers = [p.as_dict() for p in pm.papers()]
        except ValueError:
            papers = []
        if not papers and not is_fragment(pm):
            missing.append("papers")  # what the applicant brings is the desk's clear work at reception
        report = LintReport(key, pm.name, [], cells, papers=papers, fragment=is_fragment(pm))
        out.append({"procedure": key, "version": version, "name": pm.name,
                    "completeness": round(report.completeness, 4), "missing": missing, "steps": cells})
    return out
