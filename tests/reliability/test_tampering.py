"""An insider with write access to the database edits history. Every kind of edit is found by
`verify` — per dossier (engine.history.verify: hash chain, replay against projections, snapshot and
signals) or, for a chain rewritten consistently, by the signed checkpoints — and the finding names
the place: the dossier and the event seq, the projection field, or the checkpoint.

Tampering is raw SQL (tests/support/tamper.py for the consistent rewrite), as an insider would do it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update

from config.settings import ROOT
from engine.bootstrap import Landflow, build
from engine.checkpoints import create_checkpoint
from engine.clock import FixedClock
from engine.eventlog import event_hash
from engine.history import verify
from engine.integrity import verify_everything
from engine.jsoncanon import canonical
from engine.signatures import read_private_key
from engine.store import CaseEventRow, DossierRow, DossierStateRow
from tests.conftest import local
from tests.support.figures import Figures
from tests.support.tamper import rewrite_chain

from .conftest import DemoDatabase
from .land import STEP_DATA, open_body

E = CaseEventRow.__table__


@dataclass
class History:
    lf: Landflow
    db: DemoDatabase
    dossiers: list[int]

    def sql(self, statement: str, **params: Any) -> list[Any]:
        with self.lf.db.engine.begin() as c:
            result = c.execute(text(statement), params)
            return result.all() if result.returns_rows else []

    def event(self, dossier: int, seq: int) -> Any:
        with self.lf.db.engine.begin() as c:
            (row,) = c.execute(select(E).where(E.c.dossier_id == dossier, E.c.seq == seq)).all()
        return row


def drive(lf: Landflow, clock: FixedClock, n: int) -> int:
    """opened, completed (receive), transferred, returned, completed (receive), completed (check_rights)."""
    o = lf.directory.get().officers
    rt = lf.runtime
    st = rt.open(o["desk.haichau"], "land_transfer", "20242", open_body(n)["applicant"], {"number": str(n)})
    for who, act in (("desk.haichau", "complete"), ("branch.haichau", "transfer"), ("branch.bengiang", "return"),
                     ("desk.haichau", "complete"), ("branch.haichau", "complete")):
        clock.advance(minutes=20)
        (item,) = st.open_items()
        if act == "complete":
            st = rt.complete(o[who], item.id, STEP_DATA[item.step])
        elif act == "transfer":
            st = rt.transfer(o[who], item.id, "đúng địa bàn chi nhánh khác", to_unit="CN-KV12")
        else:
            st = rt.return_(o[who], item.id, "receive", "thiếu hợp đồng công chứng")
    return st.id


@pytest.fixture
def history(demo_db: DemoDatabase) -> Iterator[History]:
    clock = FixedClock(local(2026, 3, 2, 8, 0))
    lf = build(demo_db.settings(), clock=clock)
    dossiers = [drive(lf, clock, n) for n in range(36)]
    create_checkpoint(lf.db, read_private_key(lf.settings.checkpoint_key), clock.now())
    o = lf.directory.get().officers
    for did in dossiers[::2]:  # some chains grow after the checkpoint
        with lf.db.read() as s:
            (item_id,) = s.execute(text("SELECT id FROM work_item WHERE dossier_id = :d AND state = 'ready'"),
                                   {"d": did}).scalars().all()
        lf.runtime.claim(o["branch.haichau"], item_id)
    yield History(lf, demo_db, dossiers)
    lf.close()


def forged(h: History, dossier: int, seq: int, prev: str, payload: dict[str, Any], etype: str = "claimed",
           actor: str = "branch.haichau") -> dict[str, Any]:
    """An event an insider computes with the public hashing rule: its own hash is right."""
    at = h.lf.clock.now()
    body = canonical(payload)
    return {"dossier_id": dossier, "seq": seq, "type": etype, "actor": actor, "unit": "CN-KV01", "step": None,
            "at": at, "payload": body, "prev_hash": prev,
            "hash": event_hash(prev, dossier, seq, etype, actor, "CN-KV01", None, at, body)}


def core(h: History, statement: Any) -> None:
    with h.lf.db.engine.begin() as c:
        c.execute(statement)


def last_hash(h: History, dossier: int, seq: int) -> str:
    return str(h.event(dossier, seq).hash)


def shift_and_insert(h: History, dossier: int, at_seq: int) -> None:
    """Make room at `at_seq` (events after it move up one) and put a forged event there."""
    with h.lf.db.engine.begin() as c:
        c.execute(update(E).where(E.c.dossier_id == dossier, E.c.seq >= at_seq).values(seq=E.c.seq + 1000))
        c.execute(update(E).where(E.c.dossier_id == dossier, E.c.seq >= 1000).values(seq=E.c.seq - 999))
    core(h, insert(E).values(**forged(h, dossier, at_seq, last_hash(h, dossier, at_seq - 1), {"item": 2})))


def swap_seqs(h: History, dossier: int, a: int, b: int) -> None:
    with h.lf.db.engine.begin() as c:
        c.execute(update(E).where(E.c.dossier_id == dossier, E.c.seq == a).values(seq=-1))
        c.execute(update(E).where(E.c.dossier_id == dossier, E.c.seq == b).values(seq=a))
        c.execute(update(E).where(E.c.dossier_id == dossier, E.c.seq == -1).values(seq=b))


def swap_chains(h: History, x: int, y: int) -> None:
    with h.lf.db.engine.begin() as c:
        c.execute(update(E).where(E.c.dossier_id == x).values(dossier_id=-x))
        c.execute(update(E).where(E.c.dossier_id == y).values(dossier_id=x))
        c.execute(update(E).where(E.c.dossier_id == -x).values(dossier_id=y))


def delete_last_and_fix_head(h: History, dossier: int) -> None:
    (last,) = h.sql("SELECT max(seq) FROM case_event WHERE dossier_id = :d", d=dossier)[0]
    h.sql("DELETE FROM case_event WHERE dossier_id = :d AND seq = :s", d=dossier, s=last)
    h.sql("UPDATE dossier SET last_seq = :s, head_hash = :h WHERE id = :d", d=dossier, s=last - 1,
          h=last_hash(h, dossier, last - 1))


@dataclass(frozen=True)
class Tamper:
    name: str
    do: Callable[[History, int], None]
    seq: int | None  # the event named; None when the place is a projection (named in the message)
    says: str  # what the finding must say about the place
    grown: bool = False  # a dossier whose chain grew (to 7 events) after the checkpoint


# Event chains of the history fixture: 1 opened, 2 completed, 3 transferred, 4 returned, 5 completed,
# 6 completed (signed by the checkpoint), and for the "grown" dossiers 7 claimed.
TAMPERS = [
    Tamper("edit a payload", lambda h, d: h.sql(
        "UPDATE case_event SET payload = replace(payload, 'thiếu', 'đủ') WHERE dossier_id = :d AND seq = 4", d=d),
        4, "seq 4: content does not match its hash"),
    Tamper("edit the actor", lambda h, d: h.sql(
        "UPDATE case_event SET actor = 'desk.bengiang' WHERE dossier_id = :d AND seq = 3", d=d),
        3, "seq 3: content does not match its hash"),
    Tamper("edit the time", lambda h, d: core(h, update(E).where(E.c.dossier_id == d, E.c.seq == 5)
                                              .values(at=h.event(d, 5).at - timedelta(days=1))),
           5, "seq 5"),
    Tamper("delete an event", lambda h, d: h.sql("DELETE FROM case_event WHERE dossier_id = :d AND seq = 3", d=d),
           3, "seq 3: missing or out of order"),
    Tamper("delete the last event", lambda h, d: h.sql(
        "DELETE FROM case_event WHERE dossier_id = :d AND seq = 7", d=d), 7, "the dossier says 7 events", True),
    Tamper("delete the last event and fix the head", delete_last_and_fix_head, None, "work item 5: assignee", True),
    Tamper("append a forged event", lambda h, d: core(h, insert(E).values(
        **forged(h, d, 7, last_hash(h, d, 6), {"item": 6}))), 7, "the dossier says 6 events, the log holds 7"),
    Tamper("insert a forged event", lambda h, d: shift_and_insert(h, d, 4), 5, "seq 5: does not follow"),
    Tamper("reorder two events", lambda h, d: swap_seqs(h, d, 2, 3), 2, "seq 2"),
    Tamper("snapshot of another dossier", lambda h, d: h.sql(
        "UPDATE dossier_state SET state = (SELECT state FROM dossier_state WHERE dossier_id = :o) "
        "WHERE dossier_id = :d", d=d, o=d + 1), None, "the workflow snapshot differs from the replayed workflow"),
    Tamper("snapshot bytes garbled", lambda h, d: core(h, update(DossierStateRow.__table__).where(
        DossierStateRow.dossier_id == d).values(state=b"x\x9c not zlib at all")), None,
        "the workflow snapshot cannot be read"),
    Tamper("snapshot overwritten with text", lambda h, d: h.sql(
        "UPDATE dossier_state SET state = 'ceci n''est pas un snapshot' WHERE dossier_id = :d", d=d), None,
        "snapshot"),
    Tamper("snapshot not even text", lambda h, d: h.sql(
        "UPDATE dossier_state SET state = CAST(x'ff00fe9c' AS TEXT) WHERE dossier_id = :d" if
        h.lf.db.dialect == "sqlite" else "UPDATE dossier_state SET state = '\\xff00fe9c' WHERE dossier_id = :d",
        d=d), None, "snapshot"),
    Tamper("dossier row: status", lambda h, d: h.sql("UPDATE dossier SET status = 'done' WHERE id = :d", d=d),
           None, "dossier.status: stored 'done', replay gives 'in_progress'"),
    Tamper("dossier row: appointment moved", lambda h, d: core(h, update(DossierRow.__table__).where(
        DossierRow.id == d).values(due_at=h.lf.clock.now() + timedelta(days=30))), None, "dossier.due_at"),
    Tamper("work item row: assignee", lambda h, d: h.sql(
        "UPDATE work_item SET assignee = 'desk.haichau' WHERE dossier_id = :d AND ordinal = 2", d=d),
        None, "work item 2: assignee"),
    Tamper("signal row deleted", lambda h, d: h.sql(
        "DELETE FROM signal WHERE dossier_id = :d AND kind = 'returned'", d=d), None, "returned at seq 4"),
    Tamper("signal row forged", lambda h, d: h.sql(
        "INSERT INTO signal (kind, dossier_id, seq, officer, unit, at, reason) SELECT 'unauthorised_attempt', "
        "dossier_id, seq, 'desk.bengiang', '20710', at, 'forged' FROM case_event WHERE dossier_id = :d AND seq = 2",
        d=d), None, "unauthorised_attempt at seq 2"),
]


def test_every_tampering_is_found_where_it_happened(history: History, figures: Figures) -> None:
    h = history
    grown, plain = iter(h.dossiers[::2]), iter(h.dossiers[1::2])
    placed: list[tuple[Tamper, int]] = []
    for tamper in TAMPERS:
        placed.append((tamper, next(grown) if tamper.grown else next(plain)))
    spare = [d for d in h.dossiers if d not in {p for _, p in placed}]
    swapped = spare[:2]
    for tamper, dossier in placed:
        tamper.do(h, dossier)
    swap_chains(h, *swapped)
    figures.add("faults", len(TAMPERS) + 1)
    for tamper, dossier in placed:
        with h.lf.db.read() as s:
            result = verify(s, h.lf.procedures, dossier)
        assert not result.ok, tamper.name
        assert result.first_bad_seq == tamper.seq, (tamper.name, result.as_dict())
        assert any(tamper.says in p for p in result.problems), (tamper.name, result.problems)
    for dossier in swapped:
        with h.lf.db.read() as s:
            result = verify(s, h.lf.procedures, dossier)
        assert result.first_bad_seq == 1 and "seq 1: content does not match its hash" in result.problems[0]
    # the whole-database check names every one of them, each at its place, and nothing else
    report = verify_everything(h.lf.db, h.lf.procedures, h.lf.settings.checkpoint_key)
    named = {(f["dossier"], f.get("seq")) for f in report.findings if f["layer"] in ("chain", "replay")}
    expected = {(d, t.seq) for t, d in placed} | {(d, 1) for d in swapped}
    assert named == expected, (named ^ expected, report.findings)
    figures.add("losses", len(expected - named))
    untouched = set(h.dossiers) - {d for d, _ in expected}
    assert not untouched & {f.get("dossier") for f in report.findings}
    # `landflow verify --all` fails and says where
    proc = subprocess.run([sys.executable, "-m", "api.cli", "verify", "--all"], cwd=ROOT, env=h.db.env(),
                          capture_output=True, text=True, timeout=300)
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 1 and "first inconsistency" in out and f"dossier {placed[0][1]}: seq 4" in out, out


def test_consistent_rewrites_are_caught_by_the_checkpoints(history: History, figures: Figures) -> None:
    h = history
    key = read_private_key(h.lf.settings.checkpoint_key)
    d = h.dossiers

    def findings() -> list[dict[str, Any]]:
        return verify_everything(h.lf.db, h.lf.procedures, h.lf.settings.checkpoint_key).findings

    assert findings() == []
    # 1. a chain rewritten with every hash recomputed: the dossier's own check passes ...
    rewrite_chain(h.lf.db, d[1], lambda seq, _t, p: {**p, "data": {**p["data"], "kind": "donation"}}
                  if seq == 2 else p)
    with h.lf.db.read() as s:
        assert verify(s, h.lf.procedures, d[1]).ok
    # ... the signed head does not: the dossier and the checkpoint are named
    assert [(f["layer"], f["checkpoint"], f["dossier"], f["seq"]) for f in findings()] == \
        [("checkpoint", 1, d[1], 6)]
    # 2. the insider also "fixes" the checkpoint's leaf: now its root no longer matches its signature
    h.sql("UPDATE checkpoint_head SET head_hash = (SELECT head_hash FROM dossier WHERE id = :d) "
          "WHERE dossier_id = :d", d=d[1])
    found = findings()
    assert [f for f in found if f.get("dossier") == d[1]] == [] and \
        any(f["checkpoint"] == 1 and "do not give the signed root" in f["message"] for f in found), found
    # 3. a whole dossier removed, every row of it, after two more checkpoints
    create_checkpoint(h.lf.db, key, h.lf.clock.now())
    create_checkpoint(h.lf.db, key, h.lf.clock.now())
    victim = d[5]
    for table in ("signal", "deadline_notice", "kpi_item", "bpmn_timer", "dossier_state", "dossier_search", "work_item",
                  "case_event"):
        h.sql(f"DELETE FROM {table} WHERE dossier_id = :d", d=victim)
    h.sql("DELETE FROM dossier WHERE id = :d", d=victim)
    found = findings()
    assert any(f.get("dossier") == victim and "is missing" in f["message"] for f in found), found
    assert any(f["checkpoint"] == 3 and "events were deleted" in f["message"] for f in found), found
    # 4. a checkpoint deleted from the middle of their chain
    h.sql("DELETE FROM checkpoint_head WHERE checkpoint_id = 2")
    h.sql("DELETE FROM checkpoint WHERE id = 2")
    assert any(f["checkpoint"] == 3 and "before it is missing" in f["message"] for f in findings())
    # 5. a signature swapped for another checkpoint's, and a signed column edited
    h.sql("UPDATE checkpoint SET signature = (SELECT signature FROM checkpoint WHERE id = 3) WHERE id = 1")
    assert any(f["checkpoint"] == 1 and "signature does not match" in f["message"] for f in findings())
    h.sql("UPDATE checkpoint SET root = :r WHERE id = 3", r="0" * 64)
    assert any(f["checkpoint"] == 3 and "differ from the signed record" in f["message"] for f in findings())
    # 6. the audit log edited: its seq is named
    h.sql("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
    assert any(f["layer"] == "audit_log" and f["seq"] == 2 for f in findings())
    figures.add("faults", 7)
