"""Persistence: SQLAlchemy models and the database handle."""

from .accountability import AbsenceRow, ReviewRow
from .db import Database
from .drafts import ProcedureDraftRow
from .migrations import MigrationRunRow
from .models import (
    ApiTokenRow,
    AuditEntryRow,
    Base,
    CaseEventRow,
    CheckpointHeadRow,
    CheckpointRow,
    CodeCounterRow,
    DeadlineNoticeRow,
    DossierRow,
    DossierSearchRow,
    DossierStateRow,
    ItemFactRow,
    JurisdictionRow,
    OfficerRow,
    ProcedureVersionRow,
    RoleRow,
    SignalRow,
    TimerRow,
    UnitRow,
    WorkItemRow,
)
from .notifications import NotificationRow
from .operations import SchedulerBeatRow

__all__ = [
    "AbsenceRow", "ReviewRow", "SchedulerBeatRow", "ProcedureDraftRow", "MigrationRunRow",
    "ApiTokenRow", "AuditEntryRow", "Base", "CaseEventRow", "CheckpointHeadRow", "CheckpointRow", "CodeCounterRow",
    "Database", "DeadlineNoticeRow", "DossierRow", "DossierSearchRow",
    "DossierStateRow", "ItemFactRow", "JurisdictionRow", "NotificationRow", "OfficerRow",
    "ProcedureVersionRow", "RoleRow", "SignalRow", "TimerRow", "UnitRow", "WorkItemRow",
]
