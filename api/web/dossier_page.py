"""The officer's dossier page: what it shows and which actions it offers to whom.

The page offers an action only where the engine would accept it from this officer (the item is
theirs, or ready in their unit for a role they hold; the dossier is at their desk; ...), so officers
are not invited into refusals; the engine still decides every action, and a refusal (someone acted
first, a missing reason, a wrong target) comes back on the same page with the officer's input kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import queries
from engine.accounts import Account
from engine.definitions.model import ProcedureMeta, StepMeta
from engine.definitions.refusals import RefusalChoice, step_choice
from engine.history import replay
from engine.incident_reads import open_incidents
from engine.papers.documents import Document, documents, issued_slips
from engine.papers.requirements import Paper
from engine.papers.slips import available_slips
from engine.queries import DossierView, ItemView
from engine.runtime.deadlines import apology_open
from engine.runtime.instances import is_multi_instance
from engine.waiting import Awaited, awaited, node_table

from ..slips.issuer import issuer, records_to_issue
from ..slips.results import RESULT_DOCUMENTS
from . import fragment_marks, stepforms
from .collation import vi_key
from .common import directory, draw, lf, officer_name, role_name, unit_name
from .consultations import Consultation, consultations
from .i18n import TimeLeft, time_left
from .labels import ITEM_STATE, OUTCOME, PARCEL, label
from .signing import demo_signing
from .trace import highlight, step_states

WITHDRAWN = {"stopped": _l("stopped at the applicant's request: neither on time nor late"),
             "cancelled": _l("cancelled: neither on time nor late")}


@dataclass
class ItemPanel:
    item: ItemView
    step: StepMeta | None
    fields: list[stepforms.FieldView]
    mine: bool                                        # claimed by this officer
    return_targets: list[tuple[str, str]]             # (step id, name)
    transfer_units: list[tuple[str, str]]             # (unit code, name)
    transfer_officers: list[tuple[str, str]]          # (username, label)
    signed: bool
    demo_key: bool
    deadline: TimeLeft


@dataclass
class DossierPage:
    dossier: DossierView
    procedure_name: str
    meta: ProcedureMeta
    svg: Any
    deadline: TimeLeft
    panels: list[ItemPanel]
    others: list[ItemView]
    can_receive_supplement: bool
    can_apologise: bool
    can_stop: bool
    can_cancel: bool
    error: str | None = None
    problems: list[str] = field(default_factory=list)
    failed: str = ""                                   # "<action>:<item id>" of the refused form
    submitted: Mapping[str, Any] = field(default_factory=dict)
    documents: list[Document] = field(default_factory=list)
    papers: list[Paper] = field(default_factory=list)       # the procedure's checklist, for the upload form
    slips: list[str] = field(default_factory=list)          # kinds this history can state
    issued: list[dict[str, Any]] = field(default_factory=list)
    decisions_to_issue: list[int] = field(default_factory=list)  # signed completions without a record yet
    can_add_document: bool = False
    can_issue_slips: bool = False
    awaiting_collection: bool = False                       # the result is ready and waits for the applicant
    awaited: list[Awaited] = field(default_factory=list)     # another agency's answers it waits for (tax notice)
    consultations: list[Consultation] = field(default_factory=list)  # agencies consulted at once (0163)
    parallel: frozenset[str] = frozenset()  # steps consulting several agencies: their items offer no return

    def value(self, action: str, item: int | None, name: str) -> str:
        """What the officer typed in the refused form (so nothing is lost), else ''."""
        if self.failed != f"{action}:{item or ''}":
            return ""
        return str(self.submitted.get(name, ""))


def may_hold(account: Account, item: ItemView) -> bool:
    """The presentation side of engine.policy: items the engine would let this officer act on."""
    if item.state not in queries.OPEN_ITEM:
        return False
    if item.assignee is not None:
        return item.assignee == account.username
    return item.role in account.roles and item.unit == account.unit


def _refusal(meta: ProcedureMeta, step: StepMeta | None) -> tuple[RefusalChoice | None, str]:
    """The step's refusing choice and the field for its reason (none for a step that cannot refuse)."""
    if step is None:
        return None, ""
    choice, _raw = step_choice(meta, step)
    return choice, meta.nodes[step.id].properties.get("refusal_reason", "").strip()


def _return_targets(d: DossierView, item: ItemView, meta: ProcedureMeta) -> list[tuple[str, str]]:
    if is_multi_instance(meta, item.step):
        return []  # one agency of a consultation does not return the dossier (decision 0163)
    seen: list[str] = []
    for i in sorted(d.work_items, key=lambda x: x.ordinal, reverse=True):
        if i.outcome in ("completed", "carried_over") and i.step != item.step and i.step not in seen \
                and not is_multi_instance(meta, i.step):
            seen.append(i.step)
    return [(s, meta.steps[s].name if s in meta.steps else s) for s in seen]


def _transfer_options(account: Account, item: ItemView) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    d = directory()
    holders = [o for o in d.officers.values() if o.active and item.role in o.roles]
    units = sorted({o.unit for o in holders if o.unit != item.unit}, key=lambda u: vi_key(unit_name(u)))
    people = sorted((o for o in holders if o.username != account.username),
                    key=lambda o: (vi_key(unit_name(o.unit)), vi_key(o.name), o.username))
    return ([(u, f"{unit_name(u)} ({u})") for u in units],
            [(o.username, f"{o.name} ({o.username}) · {unit_name(o.unit)}") for o in people])


def build(account: Account, dossier_id: int, submitted: Mapping[str, Any] | None = None,
          failed: str = "") -> DossierPage | None:
    engine = lf()
    officer = account.officer()
    d = queries.dossier(engine.db, queries.Scope.of(officer), dossier_id)
    if d is None:
        return None
    found = queries.procedure_source(engine.db, d.procedure, d.procedure_version)
    assert found is not None
    proc, bpmn, _dmns = found
    meta = ProcedureMeta.from_dict(proc.meta)
    with engine.db.read() as s:
        replayed = replay(s, engine.procedures, d.id)
    hl = fragment_marks.fold(highlight(replayed.state, replayed.workflow, meta), meta)
    open_steps = ", ".join(meta.steps[i.step].name for i in d.work_items
                           if i.state in queries.OPEN_ITEM and i.step in meta.steps)
    svg = draw(bpmn, highlight=hl, uid="dossier", captions=fragment_marks.captions(meta),
               states=fragment_marks.fold_states(step_states(replayed.state), meta),
               title=_("Procedure %(name)s, version %(version)s", name=proc.name, version=proc.version),
               description=_("Current step: %(steps)s", steps=open_steps or _("none")))
    now = engine.clock.now()
    soon = engine.calendar.minutes(engine.settings.due_soon)
    paused = d.status == "awaiting_supplement"
    deadline = time_left(engine.calendar, d.due, now, soon, d.finished_at) if not paused else TimeLeft(
        "none", _("clock paused: waiting for the applicant"))
    st = replayed.state
    waits = awaited(st.awaiting, st.status, st.commune, st.desk_unit, node_table(meta.nodes.values()), directory())
    if waits and st.awaiting_paused and not paused:
        deadline = TimeLeft("none", _("clock paused: waiting for %(what)s", what="; ".join(a.phrase() for a in waits)))
    if d.status in WITHDRAWN:  # neither on time nor late: nobody finished it (as the KPI counts it)
        deadline = TimeLeft("none", str(WITHDRAWN[d.status]))
    panels: list[ItemPanel] = []
    others: list[ItemView] = []
    finished = d.status in ("done", "stopped", "cancelled")
    values = submitted or {}
    for item in d.work_items:
        if item.state not in queries.OPEN_ITEM:
            continue
        if finished or not may_hold(account, item):
            others.append(item)
            continue
        step = meta.steps.get(item.step)
        units, people = _transfer_options(account, item)
        form_values = values if failed == f"complete:{item.id}" else None
        handback = stepforms.is_handback(meta, item.step)
        panels.append(ItemPanel(
            item, step, stepforms.fields(step.form if step else (), form_values, _refusal(meta, step), handback,
                                         stepforms.file_labels(meta, item.step)),
            item.assignee == account.username,
            _return_targets(d, item, meta), units, people, bool(step and step.signed), demo_signing(engine, account),
            time_left(engine.calendar, item.due, now, soon)))
    desk = "one_stop_desk" in account.roles and account.unit == d.desk_unit
    holding_units = {i.unit for i in d.work_items if i.state in queries.OPEN_ITEM}
    with engine.db.read() as s:
        docs, kinds, issued = documents(s, d.id), available_slips(s, d.id), issued_slips(s, d.id)
        to_issue = records_to_issue(s, d.id, issued, meta)
    for seq in to_issue:  # signed, its record not issued yet (the issuer is on it, or a crash lost its turn)
        issuer().submit_at(d.id, seq)
    page = DossierPage(
        d, proc.name, meta, svg, deadline, panels, others,
        consultations=consultations(d.work_items, meta),
        parallel=frozenset(s for s in meta.steps if is_multi_instance(meta, s)),
        can_receive_supplement=not finished and desk and paused,
        can_apologise=not finished and not d.apologised and account.unit in holding_units
        and apology_open(engine.calendar, d.due, now),
        can_stop=not finished and desk,
        can_cancel=not finished and (desk or "supervisor" in account.roles),
        failed=failed, submitted=values)
    page.documents, page.papers, page.slips, page.issued = docs, meta.papers(), kinds, issued
    page.decisions_to_issue = to_issue
    page.can_add_document = not finished and (desk or bool(panels))
    page.can_issue_slips = desk or account.unit in holding_units
    page.awaited = waits
    page.awaiting_collection = any(i.state in queries.OPEN_ITEM and stepforms.is_handback(meta, i.step)
                                   for i in d.work_items)
    return page


def item_state(item: ItemView) -> str:
    if item.state in queries.OPEN_ITEM:
        return label(ITEM_STATE, item.state)
    return label(OUTCOME, item.outcome)


SLIP_TITLES = {"receipt": _l("Receipt and appointment slip"), "supplement": _l("Supplement request"),
               "refusal": _l("Refusal slip"), "apology": _l("Apology with a new date"),
               "stop": _l("Notice of stopping"), "control": _l("Process-control slip"),
               "decision": _l("Signed decision record"), "register_page": _l("Updated cadastral register page"),
               "issuance_record": _l("Certificate issuance book entry")}


DOC_KINDS = {"received": _l("paper received"), "supplement": _l("paper supplemented"), "result": _l("result")}


def paper_name(papers: list[Paper]) -> Any:
    names = {p.code: p.name for p in papers}
    return lambda code: names.get(code or "", code or "")


def describe(page: DossierPage) -> dict[str, Any]:
    """Helpers the template needs beside the page."""
    incident = open_incidents(lf().db, dossier_id=page.dossier.id, limit=1)[0] if page.dossier.status in (
        "in_progress", "awaiting_supplement") else []
    return {"page": page, "d": page.dossier, "unit_name": unit_name, "role_name": role_name,
            "slip_title": lambda k: str(SLIP_TITLES.get(k, k)), "result_kinds": RESULT_DOCUMENTS,
            "doc_kind_label": lambda k: str(DOC_KINDS.get(k, k)),
            "paper_name": paper_name(page.papers),
            "size": lambda n: f"{n / 1024:,.0f} KB".replace(",", "."),
            "officer_name": officer_name, "item_state": item_state, "parcel_label": lambda k: label(PARCEL, k),
            "incident": incident[0] if incident else None}
