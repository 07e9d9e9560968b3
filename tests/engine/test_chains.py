"""The streamed chain check (engine/chains.py): the same hashes as the engine's, and every kind of
break in a chain found, on both databases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from engine import chains, eventlog
from engine.bootstrap import Landflow
from engine.chains import fast_hash, verify_chains
from engine.eventlog import event_hash
from engine.integrity import verify_everything
from engine.store.models import UTCDateTime
from tests.conftest import officer


def some_history(lf: Landflow) -> list[int]:
    desk, land = officer(lf, "desk.w1"), officer(lf, "land.w1")
    ids = []
    for name in ("Nguyễn Thị Ánh \"Tư\"", "Trần\tVăn\\Minh", "Lê Ư"):
        st = lf.runtime.open(desk, "small_test", "W1", {"name": name}, {"note": "thửa 12/3"})
        st = lf.runtime.complete(desk, st.open_items()[0].id or 0, {"complete": True})
        lf.runtime.claim(land, st.open_items()[0].id or 0)
        ids.append(st.id)
    return ids


def test_the_fast_hash_is_the_engines(small: Landflow) -> None:
    assert chains.GENESIS == eventlog.GENESIS
    some_history(small)
    decode = UTCDateTime().process_result_value
    with small.db.engine.connect() as c:
        rows = c.execute(text("SELECT dossier_id, seq, type, actor, unit, step, at, payload, prev_hash, hash "
                              "FROM case_event ORDER BY id")).all()
    assert len(rows) >= 9 and any(r.step is None for r in rows) and any(r.unit is not None for r in rows)
    for r in rows:
        aware = decode(datetime.fromisoformat(r.at) if isinstance(r.at, str) else r.at, small.db.engine.dialect)
        assert fast_hash(r.prev_hash, r.dossier_id, r.seq, r.type, r.actor, r.unit, r.step, r.at, r.payload) \
            == event_hash(r.prev_hash, r.dossier_id, r.seq, r.type, r.actor, r.unit, r.step, aware, r.payload) \
            == r.hash


def test_every_chain_checked_and_every_break_found(small: Landflow) -> None:
    a, b, c = some_history(small)
    with small.db.engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM case_event")).scalar_one()
    events, findings = verify_chains(small.db, workers=1)
    assert (events, findings) == (total, [])
    with small.db.engine.begin() as conn:
        conn.execute(text("UPDATE case_event SET payload = replace(payload, 'thửa', 'thua') WHERE dossier_id = :d "
                          "AND seq = 1"), {"d": a})
        conn.execute(text("DELETE FROM case_event WHERE dossier_id = :d AND seq = 2"), {"d": b})
        conn.execute(text("UPDATE dossier SET head_hash = :h WHERE id = :d"), {"h": "0" * 64, "d": c})
    _events, findings = verify_chains(small.db, workers=1)
    assert [(f["dossier"], f["seq"]) for f in findings] == [(a, 1), (b, 2), (c, 3)]
    assert "does not match its hash" in findings[0]["message"]
    report = verify_everything(small.db, small.procedures, small.settings.checkpoint_key, replay=False)
    assert [f["dossier"] for f in report.findings] == [a, b, c]
