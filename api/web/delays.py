"""The delay-causes table of the KPI page (engine/delay_causes.py): per officer or unit, late items,
their delay in working days, and the share of the applicant, other agencies, the holder and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from engine.delay_causes import delay_causes

from .common import officer_name, unit_name
from .i18n import number, pct
from .tables import Column, Table


def delay_table(s: Session, engine: Any, group_by: str, start: datetime, end: datetime, now: datetime,
                unit: str | None) -> Table:
    rows, _items = delay_causes(s, engine.calendar, group_by, start, end, now, unit)
    day = engine.calendar.day_minutes
    data = [{**r.as_dict(), "name": (officer_name if group_by == "officer" else unit_name)(r.key),
             "delay_days": r.delay_minutes / day} for r in rows if r.key not in ("-", "system")]

    def share(key: str, label: str) -> Column:
        return Column(key, label, numeric=True, text=lambda v: v, show=lambda v, r: pct(v))

    return Table("delay-causes", _("Causes of delay of late work items"), [
        Column("key", _("Username") if group_by == "officer" else _("Unit code"), csv_only=True),
        Column("name", _("Officer") if group_by == "officer" else _("Unit")),
        Column("late_items", _("Late items"), numeric=True),
        Column("delay_days", _("Delay (working days)"), numeric=True, text=lambda v: round(v, 2),
               show=lambda v, r: number(v, 1)),
        Column("delay_minutes", _("Delay (working minutes)"), numeric=True, csv_only=True),
        share("officer_unit_share", _("Officer or unit")),
        share("applicant_share", _("Applicant (supplements)")),
        share("other_agency_share", _("Other agencies (paused steps)")),
        share("procedure_incident_share", _("Procedure incidents")),
    ], data, _("No late work item in this period."))
