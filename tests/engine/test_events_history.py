"""Histories written before the event catalogue stay valid after it, hash for hash (no database but
for the last test).

tests/data/events/history.json holds event rows as older code stored them: whole chains of dossiers
of a demo history (`landflow demo` at 53958db), and events hashed by the engine tests at 53958db and
before the compact rules (32974ce^: effects written out in full, the workflow's start data in
`opened`, refusals without a category). Every row parses to its type, serialises back to the
stored bytes, and hashes to the stored hash; the demo chains link up from the genesis hash.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from engine import events as ev
from engine.accountability import signals_for, signals_of
from engine.bootstrap import Landflow
from engine.eventlog import GENESIS, event_hash
from engine.history import verify
from engine.jsoncanon import parse_iso
from tests.conftest import officer
from tests.support.tamper import rewrite_chain

HISTORY: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "events" / "history.json").read_text(encoding="utf-8"))["rows"]


def rehash(row: dict[str, Any], payload: str) -> str:
    return event_hash(row["prev_hash"], row["dossier_id"], row["seq"], row["type"], row["actor"], row["unit"],
                      row["step"], parse_iso(row["at"]), payload)


# Kinds born typed after the catalogue: no history written by older code can hold them (their real
# payloads are in tests/data/events/payloads.json, checked by test_events.py).
BORN_TYPED = {"migrated", "message_received"}


def test_the_fixture_covers_every_kind_and_the_old_forms() -> None:
    assert {r["type"] for r in HISTORY} == set(ev.KINDS) - BORN_TYPED
    assert set(ev.KINDS) >= BORN_TYPED
    old = [json.loads(r["payload"]) for r in HISTORY if r["source"] == "tests@32974ce^"]
    assert any("wf_data" in p for p in old)  # opened, before the compact rules
    assert any("problems" in p and "category" not in p for p in old)  # a refusal before categories
    assert any(any("name" in n for n in p.get("fx", {}).get("new", [])) for p in old)  # effects in full


@pytest.mark.parametrize("row", HISTORY, ids=[f"{r['source']}-{r['type']}-{i}" for i, r in enumerate(HISTORY)])
def test_a_stored_event_parses_and_hashes_as_stored(row: dict[str, Any]) -> None:
    assert rehash(row, row["payload"]) == row["hash"]  # the fixture is what was stored
    event = ev.parse(row["type"], row["payload"])
    assert not isinstance(event, ev.Unrecognised)
    assert event.canonical() == row["payload"]
    assert rehash(row, event.canonical()) == row["hash"]
    # typed signals agree with the dict-form entry point
    assert signals_of(event, row["actor"], row["unit"]) == signals_for(row["type"], row["actor"], row["unit"],
                                                                       json.loads(row["payload"]))


def test_the_demo_chains_link_from_genesis() -> None:
    chains: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in HISTORY:
        if row["source"] == "demo":
            chains[row["dossier_id"]].append(row)
    assert len(chains) >= 5
    for rows in chains.values():
        prev = GENESIS
        for seq, row in enumerate(sorted(rows, key=lambda r: r["seq"]), start=1):
            assert (row["seq"], row["prev_hash"]) == (seq, prev)
            prev = rehash(row, ev.parse(row["type"], row["payload"]).canonical())
            assert prev == row["hash"]


def test_a_chain_rewritten_with_a_field_its_kind_lacks_is_a_replay_finding(small: Landflow) -> None:
    """The catalogue makes verify stricter: a consistent rewrite that adds a field no writer writes was
    invisible to replay (only a signed checkpoint could see it); now it is a finding at that event."""
    st = small.runtime.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "Sửa Lén"})
    with small.db.read() as s:
        assert verify(s, small.procedures, st.id).ok
    rewrite_chain(small.db, st.id, lambda seq, _t, p: {**p, "note": "đã sửa"} if seq == 1 else p)
    with small.db.read() as s:
        result = verify(s, small.procedures, st.id)
    assert result.chain_ok and not result.replay_ok and result.first_bad_seq == 1
    assert any("seq 1: replay failed: EventError: event 'opened': unknown field(s) 'note'" in p
               for p in result.problems), result.problems
