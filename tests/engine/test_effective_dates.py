"""Effective dates: a version deployed to take effect on the decree's date is used by dossiers received
from that day (Asia/Ho_Chi_Minh), the previous version before it; pending versions are listed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.definitions.versions import pending_versions, version_in_force
from engine.store import DossierRow, ProcedureVersionRow
from tests.conftest import local, officer
from tests.support.bpmn_builder import small_procedure


def renamed(name: str) -> bytes:
    p = small_procedure()
    p.nodes[1].name = name
    return p.to_xml()


def opened_version(lf: Landflow) -> int:
    st = lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"}, {})
    with lf.db.read() as s:
        q = select(ProcedureVersionRow.version).join(
            DossierRow, DossierRow.procedure_version_id == ProcedureVersionRow.id).where(DossierRow.id == st.id)
        return int(s.execute(q).scalar_one())


def test_a_version_takes_effect_on_its_date_in_viet_nam(small: Landflow, clock: FixedClock) -> None:
    sup = officer(small, "supervisor")
    v2 = small.runtime.deploy(sup, renamed("Tiếp nhận hồ sơ (mẫu mới)"), effective_from=date(2026, 2, 10))
    assert v2.version == 2 and v2.created
    assert opened_version(small) == 1  # 05/02: the decree is not in force yet
    with small.db.read() as s:
        pending = pending_versions(s, clock.now())
    assert [(p.key, p.version, p.effective_from) for p in pending] == [("small_test", 2, date(2026, 2, 10))]
    clock.set(local(2026, 2, 9, 23, 59))
    assert opened_version(small) == 1
    clock.set(local(2026, 2, 10, 0, 1))  # 09/02 17:01 UTC, but already 10/02 in Viet Nam
    assert opened_version(small) == 2
    with small.db.read() as s:
        assert pending_versions(s, clock.now()) == []
        assert version_in_force(s, "small_test", local(2026, 2, 9, 12, 0)) is not None


def test_a_later_version_without_a_date_supersedes_a_pending_one(small: Landflow) -> None:
    sup = officer(small, "supervisor")
    small.runtime.deploy(sup, renamed("Mẫu chờ hiệu lực"), effective_from=date(2026, 3, 1))
    small.runtime.deploy(sup, renamed("Sửa gấp, hiệu lực ngay"))
    assert opened_version(small) == 3


def test_the_same_file_again_keeps_its_version_and_date(small: Landflow, clock: FixedClock) -> None:
    sup = officer(small, "supervisor")
    small.runtime.deploy(sup, renamed("B"), effective_from=date(2026, 2, 20))
    again = small.runtime.deploy(sup, renamed("B"))
    assert not again.created and again.version == 2
    with small.db.read() as s:
        assert [p.version for p in pending_versions(s, clock.now())] == [2]
    assert opened_version(small) == 1
