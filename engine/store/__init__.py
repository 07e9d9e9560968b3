"""Persistence: SQLAlchemy models and the database handle."""

from .db import Database
from .models import (
    ApiTokenRow,
    AuditEntryRow,
    Base,
    CaseEventRow,
    CodeCounterRow,
    DossierRow,
    DossierStateRow,
    JurisdictionRow,
    OfficerRow,
    ProcedureVersionRow,
    RoleRow,
    SignalRow,
    UnitRow,
    WorkItemRow,
)

__all__ = [
    "ApiTokenRow", "AuditEntryRow", "Base", "CaseEventRow", "CodeCounterRow", "Database", "DossierRow",
    "DossierStateRow", "JurisdictionRow", "OfficerRow", "ProcedureVersionRow", "RoleRow", "SignalRow", "UnitRow",
    "WorkItemRow",
]
