"""The sender: takes due outbox rows one at a time and delivers them (engine/scheduler runs it; so does
`landflow notify`).

One row at a time: claim it (its own transaction: `sending`, a lease, one more attempt), deliver it
with its idempotency key, then mark it sent, or pending again after an exponential wait, or failed.
A sender killed between delivering and marking leaves the row `sending`; after the lease, a sender
sends it again with the same key, and the gateway drops the repeat (docs/notifications.md).

Nothing is sent through a channel without settings. In demo mode (LANDFLOW_DEMO=1) such rows are
`skipped` quietly; outside it they fail, so the desk sees that nobody was told.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from config.settings import Settings

from ..bootstrap import Landflow
from ..lookup import lookup_address, lookup_key, lookup_token
from . import outbox
from .channels import DeliveryError, Mailer, SmsGateway
from .texts import message

log = logging.getLogger("landflow.notifications")


@dataclass
class SendResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped


def mailer_of(settings: Settings) -> Mailer | None:
    if not settings.smtp_host:
        return None
    return Mailer(settings.smtp_host, settings.smtp_port, settings.smtp_from or f"landflow@{settings.smtp_host}",
                  settings.smtp_user, settings.smtp_password, settings.smtp_starttls)


def gateway_of(settings: Settings) -> SmsGateway | None:
    return SmsGateway(settings.sms_url, settings.sms_token) if settings.sms_url else None


class Sender:
    """Delivers the outbox of one landflow installation."""

    def __init__(self, lf: Landflow, mailer: Mailer | None = None, gateway: SmsGateway | None = None):
        self.lf = lf
        self.mailer = mailer if mailer is not None else mailer_of(lf.settings)
        self.gateway = gateway if gateway is not None else gateway_of(lf.settings)
        self._key: bytes | None = None

    def link(self, code: str) -> str:
        if self._key is None:
            self._key = lookup_key(self.lf.settings.var_dir, self.lf.settings.lookup_key)
        return lookup_address(self.lf.settings.public_url, code, lookup_token(self._key, code))

    def run_once(self, limit: int = 100) -> SendResult:
        """Deliver up to `limit` due rows; returns what happened to them."""
        result = SendResult()
        s = self.lf.settings
        while result.tried < limit:
            claimed = outbox.claim_next(self.lf.db, self.lf.clock.now(), s.notify_lease_seconds)
            if claimed is None:
                break
            self._deliver(claimed, result)
        return result

    def _deliver(self, claimed: outbox.Claimed, result: SendResult) -> None:
        s, db = self.lf.settings, self.lf.db
        if claimed.attempts > s.notify_max_attempts:  # its senders kept dying while sending it
            outbox.mark_failed(db, claimed, f"gave_up: {claimed.attempts - 1} tries without an answer")
            result.failed += 1
            return
        channel = self.mailer if claimed.channel == "email" else self.gateway
        if channel is None:
            if s.demo:
                outbox.mark_skipped(db, claimed, "not_configured: demo mode, no settings for this channel")
                result.skipped += 1
            else:
                what = "LANDFLOW_SMTP_HOST" if claimed.channel == "email" else "LANDFLOW_SMS_URL"
                outbox.mark_failed(db, claimed, f"not_configured: {what} is not set")
                result.failed += 1
            return
        desk = self.lf.directory.get().units.get(claimed.desk_unit)
        desk_name = f"Bộ phận Một cửa {desk.name}" if desk is not None else "Bộ phận Một cửa"
        try:
            text = message(claimed.kind, claimed.code, claimed.params, self.link(claimed.code),
                           ZoneInfo(s.timezone), desk_name)
        except (ValueError, TypeError, KeyError) as err:  # a row no text can be made of: no retry helps
            outbox.mark_failed(db, claimed, f"no_text: {err}")
            result.failed += 1
            return
        try:
            if isinstance(channel, Mailer):
                channel.send(claimed.address, text.subject, text.body, claimed.idem_key)
            else:
                channel.send(claimed.address, text.sms, claimed.idem_key)
        except DeliveryError as err:
            log.warning("notification %s (%s) not delivered: %s", claimed.idem_key, claimed.channel, err)
            result.errors.append(str(err))
            if err.permanent:
                outbox.mark_failed(db, claimed, str(err))
                result.failed += 1
            else:
                outbox.mark_retry(db, claimed, str(err), self.lf.clock.now(), s.notify_max_attempts,
                                  s.notify_backoff_seconds)
                if claimed.attempts >= s.notify_max_attempts:
                    result.failed += 1
                else:
                    result.retried += 1
            return
        outbox.mark_sent(db, claimed, self.lf.clock.now())
        result.sent += 1
