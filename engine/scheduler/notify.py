"""The scheduler's notification job: deliver the outbox (engine/notifications/sender.py).

On PostgreSQL it runs only while it holds its own advisory lock, so of several schedulers one sends at
a time, like the sweep. The lock is an economy, not the guarantee: each row is claimed by a
compare-and-set with a lease, so two senders never hold one row at once, and a repeat after a killed
sender carries the same idempotency key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from ..bootstrap import Landflow
from ..notifications.sender import Sender, SendResult

log = logging.getLogger("landflow.scheduler")
NOTIFY_LOCK = 0x1A4DF71  # pg advisory lock class of the notification sender (two-key form: class, schema)


@contextmanager
def exclusive(lf: Landflow) -> Iterator[bool]:
    """PostgreSQL: hold the sender's advisory lock for the whole run, or skip it."""
    if lf.db.dialect != "postgresql":
        yield True
        return
    with lf.db.engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"),
                                {"k": NOTIFY_LOCK}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"), {"k": NOTIFY_LOCK})
                conn.commit()


def send_notifications(lf: Landflow, sender: Sender | None = None, limit: int = 200) -> SendResult | None:
    """One round of the sender; None when another scheduler holds the lock."""
    with exclusive(lf) as got:
        if not got:
            return None
        result = (sender or Sender(lf)).run_once(limit)
    if result.tried:
        log.info("notifications: %d sent, %d to retry, %d failed, %d skipped", result.sent, result.retried,
                 result.failed, result.skipped)
    return result
