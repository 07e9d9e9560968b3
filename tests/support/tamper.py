"""What an insider with write access to the database could do: rewrite a dossier's chain so that it is
consistent again (every hash recomputed), with raw SQL only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import text

from engine.eventlog import GENESIS, event_hash
from engine.jsoncanon import canonical
from engine.store import Database
from engine.store.models import UTCDateTime


def rewrite_chain(db: Database, dossier_id: int, edit: Callable[[int, str, dict[str, Any]], dict[str, Any]]) -> None:
    """`edit(seq, type, payload) -> payload` for every event; hashes and the dossier head recomputed."""
    decode = UTCDateTime().process_result_value
    with db.engine.begin() as c:
        rows = c.execute(text("SELECT id, seq, type, actor, unit, step, at, payload FROM case_event "
                              "WHERE dossier_id = :d ORDER BY seq"), {"d": dossier_id}).all()
        prev = GENESIS
        for r in rows:
            payload = canonical(edit(r.seq, r.type, json.loads(r.payload)))
            raw = datetime.fromisoformat(r.at) if isinstance(r.at, str) else r.at
            at = decode(raw.replace(tzinfo=None), db.engine.dialect)
            assert at is not None
            h = event_hash(prev, dossier_id, r.seq, r.type, r.actor, r.unit, r.step, at, payload)
            c.execute(text("UPDATE case_event SET payload = :p, prev_hash = :ph, hash = :h WHERE id = :id"),
                      {"p": payload, "ph": prev, "h": h, "id": r.id})
            prev = h
        c.execute(text("UPDATE dossier SET head_hash = :h WHERE id = :d"), {"h": prev, "d": dossier_id})
