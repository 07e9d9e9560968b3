"""The one-stop slips (Circular 03/2025/TT-VPCP, forms 01–06) as data, built from a dossier's events.

A slip is what the dossier's history says as of one event: replayed from the events up to `as_of`
(engine.history.replay), with the names of units and officers from the organisation. The same
dossier as of the same event gives the same slip, and so (api/slips.py) the same PDF bytes; a slip
issued is recorded (`slip_issued`, with the PDF's SHA-256) and can be printed again at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..calendar import WorkingCalendar, parse_duration
from ..eventlog import load_events
from ..events import Apologised, Completed, Event, Opened, Transferred, parse, parse_as, reason_of
from ..history import replay_events
from ..org import Directory
from ..runtime import workflow as wfm
from ..store import CaseEventRow

# kind -> (form number of Circular 03/2025, title, number suffix)
KINDS: dict[str, tuple[str, str, str]] = {
    "receipt": ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "TNHS"),
    "supplement": ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", "PBS"),
    "refusal": ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", "PTC"),
    "apology": ("04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "PXL"),
    "stop": ("05", "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ", "TBD"),
    "control": ("06", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", "PKS"),
}
FORM_WORDS = {"original": "bản chính", "certified_copy": "bản sao có chứng thực", "copy": "bản sao"}
CHANNEL_WORDS = {"in_person": "trực tiếp", "post": "qua dịch vụ bưu chính", "online": "trực tuyến"}


PAPER_EVENTS = ("slip_issued", "document_added")


class SlipUnavailable(LookupError):
    """The dossier's history, as of that event, has nothing this slip would state (e.g. no apology)."""


@dataclass(frozen=True)
class PaperLine:
    name: str
    form: str
    count: int


@dataclass(frozen=True)
class Handover:
    """One row of the process-control slip: the dossier passed from one unit (officer) to the next."""

    from_unit: str
    from_officer: str | None
    to_unit: str
    to_officer: str | None
    at: datetime
    due: datetime | None
    result: str | None  # trước hạn | đúng hạn | quá hạn (the giving side's step, against its deadline)
    note: str = ""


@dataclass
class Slip:
    kind: str
    form_no: str
    title: str
    number: str
    as_of: int
    issued_at: datetime
    code: str
    procedure: str
    procedure_name: str
    agency: str
    parent_agency: str
    place: str
    applicant: dict[str, Any]
    parcel: dict[str, Any]
    received_at: datetime | None
    due_at: datetime | None
    limit_words: str
    channel: str = ""
    papers: list[PaperLine] = field(default_factory=list)
    reason: str = ""
    old_due: datetime | None = None
    new_due: datetime | None = None
    handovers: list[Handover] = field(default_factory=list)
    receiving_officer: str = ""
    handling_units: list[str] = field(default_factory=list)


def _event(ev: CaseEventRow) -> Event:
    return parse(ev.type, ev.payload)


def _reason(ev: CaseEventRow) -> str:
    return reason_of(_event(ev)) or ""


def _limit_words(limit: str | None) -> str:
    if not limit:
        return ""
    try:
        d = parse_duration(limit)
    except ValueError:
        return limit
    hours = d.minutes // 60
    parts = ([f"{d.days} ngày làm việc"] if d.days else []) + ([f"{hours} giờ làm việc"] if hours else [])
    return ", ".join(parts) or f"{d.minutes} phút làm việc"


def _result(done: datetime | None, due: datetime | None, calendar: WorkingCalendar) -> str | None:
    if done is None or due is None:
        return None
    if done > due:
        return "quá hạn"
    local_done, local_due = done.astimezone(calendar.tz).date(), due.astimezone(calendar.tz).date()
    return "trước hạn" if local_done < local_due else "đúng hạn"


TYPE_WORDS = {"ward": "phường", "commune": "xã", "special_zone": "đặc khu"}


def _agency(directory: Directory, desk_unit: str) -> tuple[str, str, str]:
    """(agency, supervising body, place) of the slip's heading (Decree 30/2020: the agency's name with its
    supervising body; the place is the administrative unit where the agency sits)."""
    desk = directory.units.get(desk_unit)
    if desk is not None and desk.type in TYPE_WORDS:
        where = f"{TYPE_WORDS[desk.type]} {desk.name}"
        return f"Bộ phận Một cửa {where}", f"Ủy ban nhân dân {where}", desk.name
    parent = directory.units.get(desk.parent) if desk is not None and desk.parent else None
    return (desk.name if desk else desk_unit), (parent.name if parent else "Ủy ban nhân dân thành phố Đà Nẵng"), \
        "Đà Nẵng"


def build_slip(session: Session, procedures: wfm.ProcedureCache, directory: Directory, calendar: WorkingCalendar,
               dossier_id: int, kind: str, as_of: int | None = None) -> Slip:
    """The slip of `kind` as the history stands after event `as_of` (the last event when None)."""
    if kind not in KINDS:
        raise SlipUnavailable(f"no slip of kind {kind!r}")
    # the dossier's own acts: issuing a slip or adding a scan changes nothing a slip states
    events = [ev for ev in load_events(session, dossier_id) if ev.type not in PAPER_EVENTS]
    if not events:
        raise SlipUnavailable("no such dossier")
    upto = min(as_of, events[-1].seq) if as_of is not None else events[-1].seq
    events = [ev for ev in events if ev.seq <= upto]
    replayed = replay_events(session, procedures, dossier_id, events)
    st = replayed.state
    first = _event(events[0])
    opened = first if isinstance(first, Opened) else None
    proc = procedures.get(session, st.procedure_version_id)
    units = directory.units
    agency, parent_agency, place = _agency(directory, st.desk_unit)
    form_no, title, suffix = KINDS[kind]

    def unit_name(code: str | None) -> str:
        return units[code].name if code in units else (code or "")

    def officer_name(username: str | None) -> str | None:
        if username is None:
            return None
        o = directory.officers.get(username)
        return o.name if o is not None else username

    reception = (opened.reception if opened is not None else None) or {}
    listed = {p.code: p for p in proc.meta.papers()}
    papers = [PaperLine(listed[e["code"]].name if e["code"] in listed else e["code"],
                        FORM_WORDS.get(e["form"], e["form"]), int(e["count"])) for e in reception.get("papers", [])]
    slip = Slip(kind=kind, form_no=form_no, title=title, number=f"{st.code}/{suffix}", as_of=upto,
                issued_at=events[-1].at if kind == "control" else events[0].at, code=st.code,
                procedure=st.procedure, procedure_name=proc.meta.name,
                agency=agency, parent_agency=parent_agency, place=place, applicant=dict(st.applicant),
                parcel=dict(st.parcel),
                received_at=st.received_at, due_at=st.due_at,
                limit_words=_limit_words(opened.limit if opened else None),
                channel=CHANNEL_WORDS.get(reception.get("channel", ""), ""), papers=papers,
                receiving_officer=officer_name(events[0].actor) or "")
    slip.handling_units = list(dict.fromkeys(unit_name(i.unit) for i in st.items.values()
                                             if i.unit and i.unit != st.desk_unit))
    last = {ev.type: ev for ev in events}
    if kind == "supplement":
        ev = last.get("supplement_requested")
        if ev is None:
            raise SlipUnavailable("no supplement was requested")
        slip.reason, slip.issued_at = _reason(ev), ev.at
    elif kind == "refusal":
        refused = [ev for ev in events if ev.type == "completed" and parse_as(Completed, ev.payload).refused]
        if not refused:
            raise SlipUnavailable("the dossier was not refused")
        slip.reason, slip.issued_at = _reason(refused[-1]), refused[-1].at
    elif kind == "apology":
        ev = last.get("apologised")
        if ev is None:
            raise SlipUnavailable("no apology was made")
        apology = parse_as(Apologised, ev.payload)
        slip.reason, slip.issued_at = apology.reason, ev.at
        slip.old_due = datetime.fromisoformat(apology.old_due) if apology.old_due else None
        slip.new_due = datetime.fromisoformat(apology.new_due) if apology.new_due else None
    elif kind == "stop":
        ev = last.get("stopped")
        if ev is None:
            raise SlipUnavailable("the dossier was not stopped")
        slip.reason, slip.issued_at = _reason(ev), ev.at
    elif kind == "control":
        slip.handovers = _handovers(st, events, unit_name, officer_name, calendar)
    return slip


def _handovers(st: Any, events: list[CaseEventRow], unit_name: Any, officer_name: Any,
               calendar: WorkingCalendar) -> list[Handover]:
    """Each hand-over: from the unit that finished a step to the unit of the next one, a transfer within a
    step (from its `transferred` event), and the result handed back to the applicant at the end."""
    items = sorted(st.items.values(), key=lambda i: i.ordinal)
    rows: list[Handover] = []
    for prev, nxt in zip(items, items[1:], strict=False):
        if prev.done_at is None:
            continue
        note = "trả lại bước trước" if prev.outcome == "returned" else ""
        rows.append(Handover(unit_name(prev.unit), officer_name(prev.done_by), unit_name(nxt.unit),
                             officer_name(nxt.done_by or nxt.assignee), prev.done_at, prev.due_at,
                             _result(prev.done_at, prev.due_at, calendar), note))
    for ev in events:
        if ev.type == "transferred":
            p = parse_as(Transferred, ev.payload)
            item = st.items.get(p.item)
            rows.append(Handover(unit_name(p.from_unit), officer_name(ev.actor), unit_name(p.to_unit),
                                 officer_name(p.to_officer), ev.at, item.due_at if item else None, None,
                                 "chuyển xử lý"))
    last = items[-1] if items else None
    if last is not None and last.done_at is not None and st.is_finished:
        rows.append(Handover(unit_name(last.unit), officer_name(last.done_by), "Người nộp hồ sơ", None, last.done_at,
                             st.due_at, _result(last.done_at, st.due_at, calendar), "trả kết quả"))
    return sorted(rows, key=lambda r: r.at)


def available_slips(session: Session, dossier_id: int) -> list[str]:
    """The kinds of slip this dossier's history has something to state for, in the forms' order."""
    from sqlalchemy import select

    rows = session.execute(select(CaseEventRow.type, CaseEventRow.payload).where(
        CaseEventRow.dossier_id == dossier_id,
        CaseEventRow.type.in_(("opened", "supplement_requested", "completed", "apologised", "stopped")))).all()
    types = {t for t, _ in rows}
    refused = any(t == "completed" and '"refused":true' in p.replace(" ", "") for t, p in rows)
    have = {"receipt": "opened" in types, "supplement": "supplement_requested" in types, "refusal": refused,
            "apology": "apologised" in types, "stop": "stopped" in types, "control": "opened" in types}
    return [k for k in KINDS if have[k]]
