"""The engine on the bundled Da Nang organisation with the bundled procedures, and a small vocabulary
for scenario tests: `Desk` drives one dossier through engine commands as the officers would.

The officers are the demo officers of config/organisation/officers.toml; the calendar is the test
calendar of tests/conftest.py (Saturday 7 February 2026 is a make-up working day).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from config.organisation import load_organisation
from config.settings import Settings
from engine.bootstrap import Landflow, build, bundled_procedure_files, seed
from engine.clock import FixedClock
from engine.runtime import DossierState
from engine.store import CaseEventRow, DossierRow, SignalRow, WorkItemRow
from tests.conftest import local

ROOT = Path(__file__).resolve().parents[2]
ORG_DIR = ROOT / "config" / "organisation"
WORKFLOWS = ROOT / "workflows"
FILES = {bpmn.stem: (bpmn, dmns) for bpmn, dmns in bundled_procedure_files(WORKFLOWS)}

HAI_CHAU, BEN_GIANG, HOA_VANG, HAI_VAN, LIEN_CHIEU = "20242", "20710", "20320", "20194", "20197"


@pytest.fixture
def clock_setting() -> str:
    """LANDFLOW_TRANSITIONAL_CLOCK for the engine under test (tests parametrise it)."""
    return "continue"


@pytest.fixture
def danang(settings: Settings, clock: FixedClock, clock_setting: str) -> Iterator[Landflow]:
    """The engine on config/organisation with its demo officers; procedures are deployed per test."""
    app = build(replace(settings, transitional_clock=clock_setting), clock=clock)
    app.db.create_all()
    seed(app, load_organisation(ORG_DIR), with_officers=True)
    yield app
    app.close()


@pytest.fixture
def deploy(danang: Landflow) -> Callable[..., None]:
    def go(*keys: str) -> None:
        supervisor = danang.directory.get().officers["supervisor"]
        for key in keys:
            bpmn, dmns = FILES[key]
            danang.runtime.deploy(supervisor, bpmn.read_bytes(), [d.read_bytes() for d in dmns])
    return go


def items(lf: Landflow, dossier_id: int) -> list[WorkItemRow]:
    with lf.db.read() as s:
        return list(s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id)
                              .order_by(WorkItemRow.ordinal)))


def dossier_row(lf: Landflow, dossier_id: int) -> DossierRow:
    with lf.db.read() as s:
        row = s.get(DossierRow, dossier_id)
        assert row is not None
        return row


def event_types(lf: Landflow, dossier_id: int) -> list[str]:
    with lf.db.read() as s:
        return list(s.scalars(select(CaseEventRow.type).where(CaseEventRow.dossier_id == dossier_id)
                              .order_by(CaseEventRow.seq)))


def event_payloads(lf: Landflow, dossier_id: int, etype: str) -> list[dict[str, Any]]:
    import json

    with lf.db.read() as s:
        rows = s.scalars(select(CaseEventRow.payload).where(CaseEventRow.dossier_id == dossier_id,
                                                            CaseEventRow.type == etype).order_by(CaseEventRow.seq))
        return [json.loads(r) for r in rows]


def signals(lf: Landflow, dossier_id: int) -> list[tuple[str, str | None, str | None]]:
    with lf.db.read() as s:
        return [(x.kind, x.officer, x.unit) for x in s.scalars(
            select(SignalRow).where(SignalRow.dossier_id == dossier_id).order_by(SignalRow.id))]


@dataclass
class Desk:
    """One dossier driven through the engine: each call is one officer's command at a given local time."""

    lf: Landflow
    clock: FixedClock
    id: int = 0

    def officer(self, username: str) -> Any:
        return self.lf.directory.get().officers[username]

    def at(self, *when: int) -> Desk:
        self.clock.set(local(*when))
        return self

    def open(self, username: str, procedure: str, commune: str | None, **kw: Any) -> DossierState:
        st = self.lf.runtime.open(self.officer(username), procedure, commune,
                                  kw.pop("applicant", {"name": "Nguyễn Văn An", "id_number": "048090001234"}),
                                  kw.pop("parcel", {"sheet": 12, "parcel": 345}), **kw)
        self.id = st.id
        return st

    @property
    def current(self) -> WorkItemRow:
        open_items = [i for i in items(self.lf, self.id) if i.state in ("ready", "claimed")]
        assert len(open_items) == 1, [(i.step, i.state) for i in open_items]
        return open_items[0]

    def step(self, username: str, step: str, data: dict[str, Any] | None = None) -> WorkItemRow:
        """`username` completes the open item, which must be `step`; returns the item as it was."""
        item = self.current
        assert item.step == step, f"expected {step}, the dossier is at {item.step}"
        signature = self.sign(username, item, data or {})
        self.lf.runtime.complete(self.officer(username), item.id, data or {}, signature=signature)
        return item

    def sign(self, username: str, item: WorkItemRow, data: dict[str, Any]) -> dict[str, str] | None:
        """The officer's signature when the step is a signed decision (engine/signatures.py)."""
        from engine.definitions.forms import clean_submission
        from engine.signatures import officer_key, sign_decision

        d = self.dossier
        with self.lf.db.read() as s:
            meta = self.lf.procedures.get(s, d.procedure_version_id).meta.steps[item.step]
        if not meta.signed:
            return None
        key = officer_key(self.lf.db, self.lf.settings.var_dir / "keys" / "officers", username, self.clock.now())
        self.lf.directory.refresh()
        clean, _ = clean_submission(list(meta.form), data)
        return sign_decision(key, d.code, item.step, item.ordinal, clean, username, self.clock.now()).as_dict()

    @property
    def dossier(self) -> DossierRow:
        return dossier_row(self.lf, self.id)

    @property
    def path(self) -> list[str]:
        return [i.step for i in items(self.lf, self.id)]

    def verify(self) -> None:
        from engine.history import verify

        with self.lf.db.read() as s:
            result = verify(s, self.lf.procedures, self.id)
        assert result.ok, result.problems


@pytest.fixture
def desk(danang: Landflow, clock: FixedClock) -> Desk:
    return Desk(danang, clock)
