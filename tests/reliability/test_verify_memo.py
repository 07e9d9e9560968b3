"""`verify --all` replays only what changed since a dossier last passed (engine/verified.py), and still
finds every tampering: the same edits as tests/reliability/test_tampering.py, made after a run that
filled the memo, are named at the same places as by a run without it."""

from __future__ import annotations

from pathlib import Path

from engine.history import verify
from engine.integrity import verify_everything
from tests.support.figures import Figures

from .test_tampering import TAMPERS, History, Tamper, history, swap_chains

__all__ = ["history"]  # the fixture, shared with test_tampering


def run(h: History, memo: Path | None) -> tuple[set[tuple[int, int | None]], int, int]:
    report = verify_everything(h.lf.db, h.lf.procedures, h.lf.settings.checkpoint_key, memo=memo)
    named = {(f["dossier"], f.get("seq")) for f in report.findings if f["layer"] in ("chain", "replay")}
    return named, report.unchanged, report.events


def test_an_unchanged_database_is_not_replayed_and_every_tampering_is_still_found(
        history: History, tmp_path: Path, figures: Figures) -> None:
    h = history
    memo = tmp_path / "verified.sqlite3"
    named, unchanged, events = run(h, memo)
    assert named == set() and unchanged == 0  # the first run replays everything and fills the memo
    named, unchanged, events_again = run(h, memo)
    assert named == set() and unchanged == len(h.dossiers) and events_again == events  # the second: nothing
    # one more command: only that dossier is replayed
    o = h.lf.directory.get().officers
    with h.lf.db.read() as s:
        (item_id,) = s.execute(__import__("sqlalchemy").text(
            "SELECT id FROM work_item WHERE dossier_id = :d AND state = 'ready'"), {"d": h.dossiers[1]}).scalars()
    h.lf.runtime.claim(o["branch.haichau"], item_id)
    named, unchanged, _ = run(h, memo)
    assert named == set() and unchanged == len(h.dossiers) - 1
    # every tampering of test_tampering, after the memo said "all verified"
    grown, plain = iter(h.dossiers[::2]), iter(h.dossiers[1::2])
    placed: list[tuple[Tamper, int]] = [(t, next(grown) if t.grown else next(plain)) for t in TAMPERS]
    swapped = [d for d in h.dossiers if d not in {p for _, p in placed}][:2]
    for tamper, dossier in placed:
        tamper.do(h, dossier)
    swap_chains(h, *swapped)
    figures.add("faults", len(TAMPERS) + 1)
    expected = {(d, t.seq) for t, d in placed} | {(d, 1) for d in swapped}
    with_memo, unchanged, _ = run(h, memo)
    assert with_memo == expected, with_memo ^ expected
    assert unchanged == len(h.dossiers) - len(expected)
    assert run(h, None)[0] == expected  # the same as a run without the memo
    # a dossier found bad is not remembered as good: a second run names it again
    assert run(h, memo)[0] == expected
    with h.lf.db.read() as s:
        assert not verify(s, h.lf.procedures, placed[0][1]).ok
