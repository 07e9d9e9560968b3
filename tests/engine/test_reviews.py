"""Reviews of signals: explanation, escalation, verdict; the KPI's confirmed shirking; verify covers them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.integrity import verify_everything
from engine.kpi import RatingRules, kpi_report
from engine.reviews import Reviews, SignalKey, entries, verify_accountability
from engine.runtime import CommandRefused
from engine.scheduler import Sweeper
from engine.store import AuditEntryRow, ReviewRow, SignalRow
from tests.conftest import local, officer


def returned_dossier(lf: Landflow, clock: FixedClock) -> SignalKey:
    """A dossier received, then sent back by land.w1 from `verify` to `receive`: its `returned` signal."""
    rt = lf.runtime
    st = rt.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "Nguyễn Văn A"})
    item = next(i for i in st.open_items())
    st = rt.complete(officer(lf, "desk.w1"), item.id, {"complete": True})
    clock.advance(minutes=30)
    verify = next(i for i in st.open_items())
    st = rt.return_(officer(lf, "land.w1"), verify.id, "receive", "thiếu giấy tờ")
    with lf.db.read() as s:
        sig = s.scalar(select(SignalRow).where(SignalRow.dossier_id == st.id, SignalRow.kind == "returned"))
        assert sig is not None and sig.officer == "land.w1" and sig.unit == "W1"
        return SignalKey(sig.dossier_id, sig.seq, sig.kind)


def kpi_of(lf: Landflow, username: str) -> tuple[int, int, int]:
    now = lf.clock.now()
    with lf.db.read() as s:
        report = kpi_report(s, "officer", now - timedelta(days=30), now + timedelta(days=1), now,
                            RatingRules(1, {"excellent": {}, "good": {}, "completed": {}}))
    row = next(r for r in report.rows if r.key == username)
    return row.returns, row.confirmed_shirking, row.justified


def refusals(lf: Landflow, action: str) -> list[dict[str, object]]:
    with lf.db.read() as s:
        rows = s.scalars(select(AuditEntryRow.payload).where(AuditEntryRow.type == "action_refused"))
        return [p for p in map(json.loads, rows) if p["action"] == action]


def test_two_returns_one_confirmed_one_justified(small: Landflow, clock: FixedClock) -> None:
    """The issue's scenario: two returns without cause → signals → explanation → verdicts → KPI."""
    lf = small
    reviews = Reviews.of(lf)
    first, second = returned_dossier(lf, clock), returned_dossier(lf, clock)
    assert kpi_of(lf, "land.w1") == (2, 0, 0)  # raw signals, nothing confirmed yet

    r1 = reviews.open(officer(lf, "head.w1"), first)
    r2 = reviews.open(officer(lf, "inspector"), second, note="kiểm tra định kỳ")
    assert (r1.state, r1.officer, r1.unit) == ("open", "land.w1", "W1")
    assert r1.explanation_due == lf.calendar.add(clock.now(), "P3D")

    clock.advance(hours=2)
    reviews.explain(officer(lf, "land.w1"), r1.id, "Tôi trả lại vì nghĩ còn thiếu bản sao sổ đỏ.")
    reviews.explain(officer(lf, "land.w1"), r2.id, "Người nộp chưa ký đơn, tôi đã gọi điện báo.")
    decided = reviews.decide(officer(lf, "head.w1"), r1.id, "shirking_confirmed",
                             "Hồ sơ đã đủ thành phần; trả lại không có căn cứ.")
    assert (decided.state, decided.verdict, decided.decided_by) == ("decided", "shirking_confirmed", "head.w1")
    assert kpi_of(lf, "land.w1") == (2, 1, 0)

    reviews.decide(officer(lf, "inspector"), r2.id, "justified", "Đơn thiếu chữ ký người nộp.", cause="applicant")
    assert kpi_of(lf, "land.w1") == (2, 1, 1)  # a justified return leaves the confirmed count alone

    with lf.db.read() as s:
        row = s.get(ReviewRow, r2.id)
        assert row is not None
        assert [e.type for e in entries(s, row)] == ["review_opened", "review_explained", "review_decided"]
        assert verify_accountability(s) == []
    report = verify_everything(lf.db, lf.procedures, lf.settings.checkpoint_key)
    assert report.ok, report.findings


def test_who_may_open_explain_and_decide(small: Landflow, clock: FixedClock) -> None:
    lf = small
    reviews = Reviews.of(lf)
    key = returned_dossier(lf, clock)
    for who, code in (("land2.w1", "wrong_role"), ("branch.br1", "wrong_role"), ("auditor", "read_only")):
        with pytest.raises(CommandRefused) as err:
            reviews.open(officer(lf, who), key)
        assert err.value.code == code
    review = reviews.open(officer(lf, "head.w1"), key)
    with pytest.raises(CommandRefused) as err:
        reviews.open(officer(lf, "inspector"), key)
    assert err.value.code == "already_reviewed"
    # the verdict waits for the explanation, or for its limit
    with pytest.raises(CommandRefused) as err:
        reviews.decide(officer(lf, "head.w1"), review.id, "shirking_confirmed", "không có lý do")
    assert err.value.code == "explanation_pending"
    with pytest.raises(CommandRefused) as err:
        reviews.explain(officer(lf, "land2.w1"), review.id, "tôi giải trình thay")
    assert err.value.code == "wrong_role"
    with pytest.raises(CommandRefused) as err:
        reviews.explain(officer(lf, "land.w1"), review.id, "   ")
    assert err.value.code == "missing_reason"
    reviews.explain(officer(lf, "land.w1"), review.id, "Giải trình")
    with pytest.raises(CommandRefused) as err:
        reviews.explain(officer(lf, "land.w1"), review.id, "lần hai")
    assert err.value.code == "already_explained"
    for verdict, cause, code in (("justified", None, "invalid_cause"), ("maybe", None, "invalid_verdict"),
                                 ("shirking_confirmed", "applicant", "invalid_cause")):
        with pytest.raises(CommandRefused) as err:
            reviews.decide(officer(lf, "head.w1"), review.id, verdict, "lý do", cause=cause)
        assert err.value.code == code
    with pytest.raises(CommandRefused) as err:
        reviews.decide(officer(lf, "land.w1"), review.id, "justified", "tự xét", cause="legal")
    assert err.value.code == "wrong_role"
    with pytest.raises(CommandRefused) as err:
        reviews.decide(officer(lf, "head.w1"), review.id, "justified", "", cause="legal")
    assert err.value.code == "missing_reason"
    reviews.decide(officer(lf, "head.w1"), review.id, "justified", "Có căn cứ pháp lý", cause="legal")
    with pytest.raises(CommandRefused) as err:
        reviews.decide(officer(lf, "inspector"), review.id, "shirking_confirmed", "xét lại")
    assert err.value.code == "already_decided"
    # every refusal is in the audit log; nothing else changed
    assert len(refusals(lf, "review_open")) == 4
    assert len(refusals(lf, "review_decide")) == 7
    assert len(refusals(lf, "review_explain")) == 3
    with lf.db.read() as s:
        assert verify_accountability(s) == []


def test_missed_explanation_is_escalated_once(small: Landflow, clock: FixedClock) -> None:
    lf = small
    reviews = Reviews.of(lf)
    review = reviews.open(officer(lf, "inspector"), returned_dossier(lf, clock))
    sweeper = Sweeper(lf)
    assert sweeper.sweep().reviews_escalated == 0
    clock.set(review.explanation_due + timedelta(minutes=1))
    assert sweeper.sweep().reviews_escalated == 1
    clock.advance(hours=1)
    assert sweeper.sweep().reviews_escalated == 0
    with lf.db.read() as s:
        row = s.get(ReviewRow, review.id)
        assert row is not None and row.escalated_at is not None
        escalations = [json.loads(e.payload) for e in entries(s, row) if e.type == "review_escalated"]
    assert len(escalations) == 1 and escalations[0]["to"] == ["head.w1"]
    # past the limit, the verdict may come without the explanation
    reviews.decide(officer(lf, "head.w1"), review.id, "shirking_confirmed", "Không giải trình đúng hạn.")


def test_a_tampered_review_event_fails_verify_naming_it(small: Landflow, clock: FixedClock) -> None:
    lf = small
    reviews = Reviews.of(lf)
    review = reviews.open(officer(lf, "head.w1"), returned_dossier(lf, clock))
    reviews.explain(officer(lf, "land.w1"), review.id, "Giải trình ban đầu")
    reviews.decide(officer(lf, "head.w1"), review.id, "shirking_confirmed", "Trả lại không có căn cứ")
    with lf.db.write() as s:
        entry = s.scalar(select(AuditEntryRow).where(AuditEntryRow.type == "review_decided"))
        assert entry is not None
        forged = json.loads(entry.payload) | {"verdict": "justified", "cause": "applicant"}
        s.execute(update(AuditEntryRow).where(AuditEntryRow.seq == entry.seq)
                  .values(payload=json.dumps(forged, ensure_ascii=False, separators=(",", ":"), sort_keys=True)))
        seq = entry.seq
    report = verify_everything(lf.db, lf.procedures, lf.settings.checkpoint_key)
    assert not report.ok
    messages = [f["message"] for f in report.findings]
    assert f"review {review.id}: event review_decided (audit entry {seq}) was altered: its content does not " \
           "match its hash" in messages


def test_a_rewritten_review_row_fails_verify(small: Landflow, clock: FixedClock) -> None:
    lf = small
    reviews = Reviews.of(lf)
    review = reviews.open(officer(lf, "head.w1"), returned_dossier(lf, clock))
    clock.set(local(2026, 3, 2, 9, 0))
    reviews.decide(officer(lf, "inspector"), review.id, "shirking_confirmed", "Không giải trình")
    with lf.db.write() as s:
        s.execute(update(ReviewRow).values(verdict="justified", cause="system_data"))
    with lf.db.read() as s:
        found = verify_accountability(s)
    assert [f["message"] for f in found] == [f"review {review.id}: the table differs from the log in cause, verdict"]


def test_nobody_opens_a_review_of_their_own_signal(small: Landflow, clock: FixedClock) -> None:
    """An inspector's refused attempt is a signal about the inspector: someone else reviews it."""
    lf = small
    # the inspector tries to act on a dossier: refused (read only), a signal about them
    st = lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "X"})
    with pytest.raises(CommandRefused):
        lf.runtime.claim(officer(lf, "inspector"), next(iter(st.open_items())).id)
    with lf.db.read() as s:
        sig = s.scalar(select(SignalRow).where(SignalRow.officer == "inspector"))
        assert sig is not None
        key = SignalKey(sig.dossier_id, sig.seq, sig.kind)
    with pytest.raises(CommandRefused) as err:
        Reviews.of(lf).open(officer(lf, "inspector"), key)
    assert err.value.code == "own_review"


def test_two_heads_at_once_open_one_review(small: Landflow, clock: FixedClock) -> None:
    """The inspector and the unit head open the same signal at the same moment: one review, one refusal."""
    import threading

    lf = small
    key = returned_dossier(lf, clock)
    results: list[str] = []
    start = threading.Barrier(2)

    def open_as(username: str) -> None:
        start.wait()
        try:
            Reviews.of(lf).open(officer(lf, username), key)
            results.append("opened")
        except CommandRefused as err:
            results.append(err.code)

    threads = [threading.Thread(target=open_as, args=(u,)) for u in ("head.w1", "inspector")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_reviewed", "opened"]
    with lf.db.read() as s:
        assert len(list(s.scalars(select(ReviewRow)))) == 1
        assert verify_accountability(s) == []
