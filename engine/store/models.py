"""Tables. `case_event` is the truth; everything else here is configuration or a projection of it.

Projections (`dossier`, `work_item`, `signal`, `dossier_state`) exist for fast reads and must always
equal what replaying the events produces (`engine.history.verify` checks it).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (which has no time zones) too."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class UnitRow(Base):
    __tablename__ = "unit"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20), index=True)
    parent: Mapped[str | None] = mapped_column(String(32))
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    agency_code: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(Text, default="")


class RoleRow(Base):
    __tablename__ = "role"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(20))
    province_unit: Mapped[str | None] = mapped_column(String(32))


class JurisdictionRow(Base):
    __tablename__ = "jurisdiction"
    commune: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    unit: Mapped[str] = mapped_column(String(32))


class OfficerRow(Base):
    __tablename__ = "officer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32), index=True)
    roles: Mapped[str] = mapped_column(String(400))  # space-separated role codes
    password_hash: Mapped[str | None] = mapped_column(String(300))
    public_key: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)


class ProcedureVersionRow(Base):
    __tablename__ = "procedure_version"
    __table_args__ = (UniqueConstraint("key", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    bpmn: Mapped[str] = mapped_column(Text)
    dmns: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of DMN texts
    meta: Mapped[str] = mapped_column(Text)  # ProcedureMeta as JSON
    spec: Mapped[str] = mapped_column(Text)  # SpiffWorkflow spec, serialised once
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(80))
    # the day (Asia/Ho_Chi_Minh) from which dossiers received use this version (the decree's date);
    # None: from its deployment (engine/definitions/versions.py)
    effective_from: Mapped[date | None] = mapped_column(Date, nullable=True)


class DossierRow(Base):
    __tablename__ = "dossier"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    procedure: Mapped[str] = mapped_column(String(64), index=True)
    procedure_version_id: Mapped[int] = mapped_column(ForeignKey("procedure_version.id"))
    commune: Mapped[str | None] = mapped_column(String(32), index=True)
    desk_unit: Mapped[str] = mapped_column(String(32), index=True)
    applicant: Mapped[str] = mapped_column(Text)  # JSON
    parcel: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(24), index=True)
    outcome: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    statutory_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supplement_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supplement_count: Mapped[int] = mapped_column(Integer, default=0)
    apologised: Mapped[bool] = mapped_column(Boolean, default=False)
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    days_spent_before: Mapped[int] = mapped_column(Integer, default=0)
    parent_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default="")
    next_item: Mapped[int] = mapped_column(Integer, default=1)  # ordinal of the next work item
    snapshot_seq: Mapped[int] = mapped_column(Integer, default=0)  # event the stored snapshot reflects
    # the last event that moved the workflow (opened, completed, returned, timer_fired); 0 = unknown.
    # A cold load replays only the events between the snapshot and it, however many claims follow.
    workflow_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    overdue_noticed: Mapped[datetime | None] = mapped_column(UTCDateTime)  # due_at of the dossier_overdue notice
    # the BPMN element of an open procedure incident (engine/runtime/incidents.py); NULL = none
    incident: Mapped[str | None] = mapped_column(String(100), index=True)
    # the message catch events the dossier waits on, comma-separated (engine/runtime/messages.py); NULL = none
    awaiting: Mapped[str | None] = mapped_column(String(200))
    awaiting_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DossierSearchRow(Base):
    """One search line per dossier (engine/search.py), written at opening: applicant and parcel found by
    name, identity number, phone, map sheet and parcel number without scanning JSON."""

    __tablename__ = "dossier_search"
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), primary_key=True)
    line: Mapped[str] = mapped_column(String(600))


class DossierStateRow(Base):
    """The SpiffWorkflow state of a dossier without its spec: a snapshot, not the truth."""

    __tablename__ = "dossier_state"
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer, default=0)  # the last event this snapshot reflects
    state: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed JSON


class WorkItemRow(Base):
    __tablename__ = "work_item"
    __table_args__ = (UniqueConstraint("dossier_id", "ordinal"),)  # other indexes: end of the file
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))  # indexed by (dossier_id, ordinal)
    ordinal: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str | None] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(12))  # ready | claimed | done | cancelled
    clock: Mapped[str] = mapped_column(String(8), default="run")
    sla: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str | None] = mapped_column(String(24))  # completed | returned | cancelled | carried_over
    trail: Mapped[str] = mapped_column(Text, default="[]")  # units/officers that held it, JSON
    task_id: Mapped[str | None] = mapped_column(String(36))
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the due_at whose step_overdue / escalated notice is recorded (sweep bookkeeping, not a projection
    # of the log: deadline_notice is the guard; these keep the sweep's indexes small, see below)
    overdue_noticed: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_noticed: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseEventRow(Base):
    """Append-only. Never updated or deleted; `hash` chains each event to the one before."""

    __tablename__ = "case_event"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq"),  # every event query is per dossier: no other index
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SignalRow(Base):
    """Accountability signals derived from events (returned, rerouted, ping_pong, …)."""

    __tablename__ = "signal"
    __table_args__ = (
        Index("ix_signal_kind_at", "kind", "at"),
        Index("ix_signal_unit_at", "unit", "at"),
        Index("ix_signal_officer_at", "officer", "at"),
        UniqueConstraint("dossier_id", "seq", "kind"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # NULL for acts on no dossier (a refused open or deploy): then `seq` is the audit_log seq.
    dossier_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    officer: Mapped[str | None] = mapped_column(String(80))
    unit: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class CodeCounterRow(Base):
    """Per agency and receipt day, the last sequence number used in dossier codes."""

    __tablename__ = "code_counter"
    agency: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[str] = mapped_column(String(6), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class AuditEntryRow(Base):
    """Hash-chained log of acts that concern no single dossier: deployments, refused opens, officers."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# -- deadlines, timers, checkpoints, KPI facts (issue 5) ---------------------------------------------

class DeadlineNoticeRow(Base):
    """One row per scheduler notice recorded in a dossier's chain; the unique key makes the sweep
    idempotent across restarts, overlapping runs and several schedulers.

    `item` is the work item's ordinal (0 for the dossier itself); `deadline` is the instant the notice
    is about (the due time, or for `idle_claim` the last activity), so a moved deadline can be noticed
    again while the same one never is.
    """

    __tablename__ = "deadline_notice"
    __table_args__ = (UniqueConstraint("dossier_id", "item", "kind", "deadline", name="uq_deadline_notice"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    item: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimerRow(Base):
    """A BPMN timer a dossier waits on: a projection of the `timers` effects of its events.

    The scheduler finds due timers here (state, due_at) and fires them through the engine; nothing
    asks SpiffWorkflow (whose timers read the wall clock) when a timer is due.
    """

    __tablename__ = "bpmn_timer"
    __table_args__ = (
        UniqueConstraint("dossier_id", "ordinal"),
        Index("ix_bpmn_timer_state_due", "state", "due_at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))
    ordinal: Mapped[int] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(100))
    duration: Mapped[str] = mapped_column(String(20))
    item: Mapped[int | None] = mapped_column(Integer)  # the work item a boundary timer hangs on
    state: Mapped[str] = mapped_column(String(12))  # waiting | fired | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CheckpointRow(Base):
    """A signed statement of every dossier's chain head at one moment (see engine/checkpoints.py)."""

    __tablename__ = "checkpoint"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    events: Mapped[int] = mapped_column(BigInteger)
    dossiers: Mapped[int] = mapped_column(Integer)
    max_event_id: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))
    record: Mapped[str] = mapped_column(Text)  # the canonical JSON that was signed
    signature: Mapped[str] = mapped_column(String(128))  # base64 Ed25519 signature over `record`
    key_id: Mapped[str] = mapped_column(String(64))  # SHA-256 of the raw public key


class CheckpointHeadRow(Base):
    """The leaves a checkpoint adds: heads of the dossiers whose chains grew since the one before.

    The full leaf set of checkpoint N is, per dossier, its latest row at or before N.
    """

    __tablename__ = "checkpoint_head"
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoint.id"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))


class ItemFactRow(Base):
    """KPI facts of one finished work item, computed once when it closes (working time needs the
    calendar, which SQL does not have); reports are SQL aggregates over these rows."""

    __tablename__ = "kpi_item"
    __table_args__ = (
        Index("ix_kpi_item_done", "done_at"),
        Index("ix_kpi_item_officer_done", "officer", "done_at"),
        Index("ix_kpi_item_unit_done", "unit", "done_at"),
        Index("ix_kpi_item_procedure_done", "procedure", "done_at"),
    )
    work_item_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    procedure: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str | None] = mapped_column(String(32))
    officer: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sla_minutes: Mapped[int] = mapped_column(Integer)
    allowed_minutes: Mapped[int] = mapped_column(Integer)
    used_minutes: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[bool] = mapped_column(Boolean)


# Sweep indexes on the projections (declared here to keep the classes above untouched).
Index("ix_dossier_status_due", DossierRow.status, DossierRow.due_at)
Index("ix_checkpoint_head_dossier_seq", CheckpointHeadRow.dossier_id, CheckpointHeadRow.last_seq)


# -- HTTP API (issue 4) ------------------------------------------------------------------------------

class ApiTokenRow(Base):
    """A bearer token of the HTTP API. Only its SHA-256 is kept: a copied database yields no usable token."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # `api`: a bearer token of /api/v1; `page`: a page session, whose secret the session cookie carries
    # and which /api/v1 refuses, so a leaked cookie is no API token (engine/accounts.py).
    purpose: Mapped[str] = mapped_column(String(8), default="api", server_default="api")


# -- scale (issue 7) ---------------------------------------------------------------------------------
# The worklist reads a page straight off an index in deadline order instead of sorting a unit's whole
# backlog (engine/queries.py): an officer's own items by (assignee, state, due_at), replacing
# (assignee, state); a unit's pool (ready, reserved for nobody) by (unit, role, due_at, id), partial,
# replacing (unit, state, due_at).
_POOL = (WorkItemRow.state == "ready") & WorkItemRow.assignee.is_(None)
Index("ix_work_item_pool", WorkItemRow.unit, WorkItemRow.role, WorkItemRow.due_at, WorkItemRow.id,
      postgresql_where=_POOL, sqlite_where=_POOL)

# The sweep's "overdue and not noticed yet": partial indexes holding only open rows whose current
# deadline has no notice. A row leaves when its notice is recorded (engine/scheduler/notices.py sets
# the *_noticed column) and comes back by itself when a command moves its deadline. So a sweep with
# nothing new reads a near-empty index instead of anti-joining every overdue item with the notices
# (1M dossiers, 200k open: 2 s -> milliseconds). Literal predicates: both databases match a partial
# index only against the same literal terms in the query (engine/scheduler/sweep.py).
ITEM_OPEN_SQL = "state IN ('ready', 'claimed')"
ITEM_UNNOTICED_SQL = f"{ITEM_OPEN_SQL} AND (overdue_noticed IS NULL OR overdue_noticed <> due_at)"
ITEM_UNESCALATED_SQL = f"{ITEM_OPEN_SQL} AND (escalated_noticed IS NULL OR escalated_noticed <> due_at)"
DOSSIER_UNNOTICED_SQL = "status = 'in_progress' AND (overdue_noticed IS NULL OR overdue_noticed <> due_at)"
for _name, _column, _where in (("ix_work_item_unnoticed_overdue", WorkItemRow.due_at, ITEM_UNNOTICED_SQL),
                               ("ix_work_item_unescalated", WorkItemRow.due_at, ITEM_UNESCALATED_SQL),
                               ("ix_dossier_unnoticed_overdue", DossierRow.due_at, DOSSIER_UNNOTICED_SQL)):
    Index(_name, _column, postgresql_where=text(_where), sqlite_where=text(_where))


# -- storage (issue 7) -------------------------------------------------------------------------------
# Every work-item index but the (dossier_id, ordinal) key is partial, on the rows its queries read, so
# a finished dossier's items sit only in that key and in the done items the KPI facts' catch-up reads:
# - the officer's own worklist (engine/queries.py): (assignee, state, due_at) over open items;
# - KPI `overdue_open` (engine/kpi.py): (due_at) over open items;
# - the sweep's `idle_claim` (engine/scheduler/sweep.py): (last_activity_at) over claimed items;
# - the KPI facts' catch-up (engine/kpi_facts.py): (state, done_at) over done items.
# They replace the full (assignee, state, due_at), (state, due_at), (state, last_activity_at) and
# (state, done_at) (migration 0009). The queries repeat each predicate word for word
# (`partial_predicate`); a full (state, …) index would also let SQLite pick it over them.
ITEM_CLAIMED_SQL = "state = 'claimed'"
ITEM_DONE_SQL = "state = 'done'"
ITEM_INDEXES = {  # name: (columns, predicate)
    "ix_work_item_assignee_state_due": ((WorkItemRow.assignee, WorkItemRow.state, WorkItemRow.due_at), ITEM_OPEN_SQL),
    "ix_work_item_open_due": ((WorkItemRow.due_at,), ITEM_OPEN_SQL),
    "ix_work_item_claimed_activity": ((WorkItemRow.last_activity_at,), ITEM_CLAIMED_SQL),
    # `state` leads although constant: SQLite then reads it as an equality and prefers this index
    # to a scan of the table in `id` order (the catch-up's ORDER BY id, first run without a watermark)
    "ix_work_item_done": ((WorkItemRow.state, WorkItemRow.done_at), ITEM_DONE_SQL),
}
for _name, (_columns, _where) in ITEM_INDEXES.items():
    Index(_name, *_columns, postgresql_where=text(_where), sqlite_where=text(_where))


def partial_predicate(table: str, predicate: str) -> ColumnElement[bool]:
    """A partial index's predicate, word for word and with its literals, qualified by `table`: both
    databases use a partial index only when the query repeats its terms (bound parameters do not count)."""
    qualified = re.sub(r"\b(state|status|overdue_noticed|escalated_noticed|due_at)\b", rf"{table}.\1", predicate)
    return text(f"({qualified})")  # type: ignore[return-value]
