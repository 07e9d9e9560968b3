"""Notifications: the outbox row is written with its event (and only then), only with the applicant's
consent; the texts are Vietnamese, short enough for two SMS segments, with the lookup link; a real SMTP
server (aiosmtpd) receives the email; retries back off; nothing is sent in demo mode without settings."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine.bootstrap import Landflow
from engine.clock import FixedClock
from engine.lookup import lookup_key, lookup_token
from engine.notifications import outbox
from engine.notifications.channels import Mailer
from engine.notifications.sender import Sender
from engine.notifications.texts import BUDGET, KINDS, message, segments, sms_text
from engine.runtime import CommandRefused
from engine.store import CaseEventRow, NotificationRow, WorkItemRow
from tests.conftest import local, officer
from tests.support.bpmn_builder import small_procedure

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CONSENT = {"name": "Nguyễn Văn An", "phone": "0905123456", "email": "an@example.vn",
           "notify": {"consent": True, "channels": ["email", "sms"]}}


@pytest.fixture
def land(lf: Landflow) -> Landflow:
    """The small procedure with its hand-over step marked as the hand-back (`handback`)."""
    proc = small_procedure()
    for node in proc.nodes:
        if node.id == "handover":
            node.props = {**node.props, "handback": "true"}
    lf.runtime.deploy(officer(lf, "supervisor"), proc.to_xml())
    return lf


def open_item(lf: Landflow, dossier_id: int) -> WorkItemRow:
    with lf.db.read() as s:
        return s.scalars(select(WorkItemRow).where(WorkItemRow.dossier_id == dossier_id,
                                                   WorkItemRow.state.in_(("ready", "claimed")))).one()


def rows(lf: Landflow, dossier_id: int | None = None) -> list[NotificationRow]:
    with lf.db.read() as s:
        stmt = select(NotificationRow).order_by(NotificationRow.id)
        if dossier_id is not None:
            stmt = stmt.where(NotificationRow.dossier_id == dossier_id)
        return list(s.scalars(stmt))


def kinds(lf: Landflow, dossier_id: int) -> list[tuple[str, str]]:
    return [(r.kind, r.channel) for r in rows(lf, dossier_id)]


def complete(lf: Landflow, who: str, dossier_id: int, data: dict[str, Any]) -> None:
    lf.runtime.complete(officer(lf, who), open_item(lf, dossier_id).id, data)


def test_each_event_that_concerns_the_applicant_writes_one_row_per_consented_channel(land: Landflow,
                                                                                   clock: FixedClock) -> None:
    rt = land.runtime
    st = rt.open(officer(land, "desk.w1"), "small_test", "W1", dict(CONSENT), {})
    assert kinds(land, st.id) == [("received", "email"), ("received", "sms")]
    first = rows(land, st.id)
    assert {r.address for r in first} == {"an@example.vn", "0905123456"}
    assert first[0].seq == 1 and first[0].idem_key == f"{st.code}.1.email" and first[0].state == "pending"
    assert json.loads(first[0].params)["due"]  # the appointment, for the text
    # the consent is in the history: the `opened` event carries it with the applicant
    with land.db.read() as s:
        opened = json.loads(s.scalars(select(CaseEventRow.payload).where(CaseEventRow.dossier_id == st.id,
                                                                         CaseEventRow.seq == 1)).one())
    assert opened["fx"]["dossier"]["applicant"]["notify"] == {"consent": True, "channels": ["email", "sms"]}

    complete(land, "desk.w1", st.id, {"complete": True})
    item = open_item(land, st.id)
    rt.request_supplement(officer(land, "land.w1"), item.id, "Bản sao CCCD có chứng thực; sơ đồ thửa đất")
    asked = [r for r in rows(land, st.id) if r.kind == "supplement"]
    assert len(asked) == 2 and json.loads(asked[0].params) == {"asked": "Bản sao CCCD có chứng thực; sơ đồ thửa đất"}
    rt.receive_supplement(officer(land, "desk.w1"), st.id, "đã nộp")
    complete(land, "land.w1", st.id, {"eligible": True, "area": 120})
    complete(land, "land.w1", st.id, {})
    assert len(rows(land, st.id)) == 4  # claims, completions of inner steps: nothing for the applicant
    complete(land, "chair.w1", st.id, {})  # the hand-over step opens: the result awaits collection
    assert kinds(land, st.id)[-2:] == [("result_ready", "email"), ("result_ready", "sms")]
    complete(land, "desk.w1", st.id, {})
    assert len(rows(land, st.id)) == 6


def test_refusal_and_apology(land: Landflow, clock: FixedClock) -> None:
    rt = land.runtime
    st = rt.open(officer(land, "desk.w1"), "small_test", "W1",
                 {**CONSENT, "notify": {"consent": True, "channels": ["sms"]}}, {})
    clock.set(local(2026, 2, 10, 9, 0))  # one working day left
    rt.apologise(officer(land, "desk.w1"), st.id, "quá tải hồ sơ", local(2026, 2, 24, 9, 0))
    apology = rows(land, st.id)[-1]
    assert (apology.kind, apology.channel) == ("apology", "sms")
    assert json.loads(apology.params)["new_due"].startswith("2026-02-24")
    complete(land, "desk.w1", st.id, {"complete": True})
    complete(land, "land.w1", st.id, {"eligible": False, "area": 10, "note": "Thửa đất đang có tranh chấp"})
    refused = rows(land, st.id)[-1]
    assert refused.kind == "refused" and json.loads(refused.params) == {"reason": "Thửa đất đang có tranh chấp"}
    assert kinds(land, st.id) == [("received", "sms"), ("apology", "sms"), ("refused", "sms")]


def test_no_consent_no_row(land: Landflow) -> None:
    rt = land.runtime
    plain = rt.open(officer(land, "desk.w1"), "small_test", "W1", {"name": "B", "phone": "0905000111"}, {})
    declined = rt.open(officer(land, "desk.w1"), "small_test", "W1",
                       {**CONSENT, "notify": {"consent": False, "channels": []}}, {})
    assert rows(land, plain.id) == [] and rows(land, declined.id) == []
    with pytest.raises(CommandRefused) as info:  # consent to a channel with no address: refused, nothing kept
        rt.open(officer(land, "desk.w1"), "small_test", "W1",
                {"name": "C", "phone": "0905000111", "notify": {"consent": True, "channels": ["email"]}}, {})
    assert info.value.code == "invalid_data" and "email" in info.value.message
    assert len(rows(land)) == 0


def test_the_row_is_written_in_the_events_transaction(land: Landflow, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = land.runtime
    st = rt.open(officer(land, "desk.w1"), "small_test", "W1", dict(CONSENT), {})
    item = open_item(land, st.id)
    with pytest.raises(CommandRefused):  # refused: no reason given
        rt.request_supplement(officer(land, "desk.w1"), item.id, "")
    assert len(rows(land, st.id)) == 2

    def broken(work: Any) -> None:  # the command fails after its events and outbox rows were written
        raise RuntimeError("disk full")

    monkeypatch.setattr(rt, "persist_timers", broken)
    with pytest.raises(RuntimeError):
        rt.request_supplement(officer(land, "desk.w1"), item.id, "thiếu sơ đồ thửa đất")
    monkeypatch.undo()
    assert len(rows(land, st.id)) == 2  # rolled back with the event
    with land.db.read() as s:
        assert s.scalar(select(func.count()).select_from(CaseEventRow).where(
            CaseEventRow.dossier_id == st.id, CaseEventRow.type == "supplement_requested")) == 0


LINK = "https://dichvucong.danang.gov.vn/tra-cuu?ma=20242-260205-0001&t=abcdefghijklmnop"


@pytest.mark.parametrize("kind", KINDS)
def test_the_sms_fits_two_segments_with_the_link(kind: str) -> None:
    long = "Bản sao Giấy chứng nhận quyền sử dụng đất có chứng thực; hợp đồng chuyển nhượng có công chứng; " * 3
    params = {"due": "2026-02-11T09:00:00+07:00", "new_due": "2026-02-24T09:00:00+07:00",
              "old_due": "2026-02-11T09:00:00+07:00", "asked": long, "reason": long}
    text = sms_text(kind, params, LINK, VN)
    assert text.endswith(LINK) and len(text) <= BUDGET and segments(text) <= 2, (len(text), text)
    assert any(ch in text for ch in "ăâđêôơư")  # Vietnamese, with its marks
    mail = message(kind, "20242-260205-0001", params, LINK, VN, "Bộ phận Một cửa Hải Châu")
    assert "20242-260205-0001" in mail.body and LINK in mail.body and "20242-260205-0001" in mail.subject
    if kind in ("supplement", "refused"):
        assert text.rstrip(LINK).count("…") == 1 and long.strip() in mail.body  # shortened in the SMS only
    if kind == "received":
        assert "11/02/2026" in text
    if kind == "apology":
        assert "24/02/2026" in text and "11/02/2026" in mail.body


def test_segments_count_as_a_phone_does() -> None:
    assert segments("á" * 70) == 1 and segments("á" * 71) == 2 and segments("á" * 134) == 2
    assert segments("á" * 135) == 3


# -- delivery --------------------------------------------------------------------------------------------

class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on a free local port (aiosmtpd)."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_a_real_smtp_server_receives_the_vietnamese_email_with_the_lookup_link(
        land: Landflow, smtp_server: tuple[int, Inbox]) -> None:
    port, inbox = smtp_server
    st = land.runtime.open(officer(land, "desk.w1"), "small_test", "W1",
                           {**CONSENT, "notify": {"consent": True, "channels": ["email"]}}, {})
    mailer = Mailer("127.0.0.1", port, "Một cửa <motcua@haichau.danang.gov.vn>", starttls=False, timeout=5)
    result = Sender(land, mailer=mailer).run_once()
    assert (result.sent, result.failed) == (1, 0)
    (mail,) = inbox.messages
    token = lookup_token(lookup_key(land.settings.var_dir), st.code)
    link = f"http://127.0.0.1:8080/tra-cuu?ma={st.code}&t={token}"
    body = mail.get_content()
    assert mail["To"] == "an@example.vn" and st.code in str(mail["Subject"])
    assert "đã được tiếp nhận" in str(mail["Subject"]) and "Kính gửi ông/bà" in body
    assert link in body and f"Mã hồ sơ: {st.code}" in body and "11/02/2026" in body
    assert mail["Message-ID"] == f"<{st.code}.1.email@haichau.danang.gov.vn>"  # the idempotency key
    (row,) = rows(land, st.id)
    assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None
    assert Sender(land, mailer=mailer).run_once().tried == 0  # sent once, never again


def test_an_unreachable_channel_is_retried_with_backoff_then_fails_visibly(land: Landflow, clock: FixedClock) -> None:
    st = land.runtime.open(officer(land, "desk.w1"), "small_test", "W1",
                           {**CONSENT, "notify": {"consent": True, "channels": ["email"]}}, {})
    dead = Mailer("127.0.0.1", 1, "motcua@example.vn", starttls=False, timeout=2)  # nothing listens on port 1
    settings = land.settings
    waits = []
    for attempt in range(1, settings.notify_max_attempts + 1):
        result = Sender(land, mailer=dead).run_once()
        assert result.tried == 1, attempt
        (row,) = rows(land, st.id)
        assert row.attempts == attempt and row.last_error and row.last_error.startswith("unreachable")
        if attempt < settings.notify_max_attempts:
            assert row.state == "pending"
            waits.append((row.next_at - clock.now()).total_seconds())
            assert Sender(land, mailer=dead).run_once().tried == 0  # not before its time
            clock.set(row.next_at)
    assert waits[:4] == [60, 120, 240, 480] and max(waits) <= 3600
    (row,) = rows(land, st.id)
    assert row.state == "failed"
    (trouble,) = outbox.troubles(land.db, "W1", clock.now(), settings.notify_late_minutes)
    assert (trouble.code, trouble.kind, trouble.channel) == (st.code, "received", "email")
    assert outbox.troubles(land.db, "C2", clock.now(), settings.notify_late_minutes) == []


def test_a_pending_notification_becomes_late_for_the_desk(land: Landflow, clock: FixedClock) -> None:
    st = land.runtime.open(officer(land, "desk.w1"), "small_test", "W1", dict(CONSENT), {})
    assert outbox.troubles(land.db, "W1", clock.now(), 60) == []
    clock.set(clock.now() + timedelta(minutes=61))
    assert [(t.code, t.state) for t in outbox.troubles(land.db, "W1", clock.now(), 60)] == [(st.code, "pending")] * 2


def test_demo_mode_without_settings_sends_nothing(land: Landflow) -> None:
    import dataclasses

    st = land.runtime.open(officer(land, "desk.w1"), "small_test", "W1", dict(CONSENT), {})
    land.settings = dataclasses.replace(land.settings, demo=True)
    result = Sender(land).run_once()
    assert (result.sent, result.skipped) == (0, 2)
    assert {r.state for r in rows(land, st.id)} == {"skipped"}
    assert outbox.troubles(land.db, "W1", land.clock.now() + timedelta(days=1), 60) == []  # nobody to blame


def test_outside_demo_mode_a_channel_without_settings_fails_for_the_desk_to_see(land: Landflow) -> None:
    st = land.runtime.open(officer(land, "desk.w1"), "small_test", "W1", dict(CONSENT), {})
    result = Sender(land).run_once()
    assert (result.sent, result.failed) == (0, 2)
    assert {(r.state, (r.last_error or "").split(":")[0]) for r in rows(land, st.id)} == {("failed", "not_configured")}


def test_the_scheduler_runs_the_sender_and_one_sender_at_a_time_on_postgresql(land: Landflow) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import text

    from engine.scheduler import build_scheduler, send_notifications
    from engine.scheduler.notify import NOTIFY_LOCK

    job = build_scheduler(land, BackgroundScheduler()).get_job("notify")
    assert job is not None and job.func is send_notifications
    land.runtime.open(officer(land, "desk.w1"), "small_test", "W1", dict(CONSENT), {})
    if land.db.dialect == "postgresql":  # another scheduler holds the sender's lock: this one skips its round
        with land.db.engine.connect() as other:
            other.execute(text("SELECT pg_advisory_lock(:k, hashtext(current_schema()))"), {"k": NOTIFY_LOCK})
            other.commit()
            assert send_notifications(land) is None
            other.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"), {"k": NOTIFY_LOCK})
            other.commit()
    result = send_notifications(land)
    assert result is not None and result.failed == 2  # nothing configured, not demo: failed for the desk


def test_a_row_whose_senders_keep_dying_is_given_up_and_the_phone_is_sent_as_digits(land: Landflow,
                                                                                   clock: FixedClock) -> None:
    st = land.runtime.open(officer(land, "desk.w1"), "small_test", "W1",
                           {**CONSENT, "phone": "0905 123.456", "notify": {"consent": True, "channels": ["sms"]}}, {})
    (row,) = rows(land, st.id)
    assert row.address == "0905123456"
    for _ in range(land.settings.notify_max_attempts):  # claimed, then its sender killed, every time
        assert outbox.claim_next(land.db, clock.now(), 0) is not None
    result = Sender(land).run_once()
    assert (result.sent, result.failed) == (0, 1)
    (row,) = rows(land, st.id)
    assert row.state == "failed" and (row.last_error or "").startswith("gave_up")
