"""`landflow notify`: deliver the notifications outbox now (what the scheduler's job does every
LANDFLOW_NOTIFY_SECONDS), once or in a loop; `--failed` lists what the desks see as failed or late."""

from __future__ import annotations

import time

import click

from engine.notifications import outbox
from engine.scheduler.notify import send_notifications

from .common import console, landflow


@click.command("notify")
@click.option("--once", is_flag=True, help="one round, then stop (default: loop until interrupted)")
@click.option("--batch", default=200, show_default=True, help="rows delivered per round")
@click.option("--every", default=0.0, help="seconds between rounds (default LANDFLOW_NOTIFY_SECONDS)")
@click.option("--failed", "show_failed", is_flag=True, help="list failed and late notifications, send nothing")
def notify_cmd(once: bool, batch: int, every: float, show_failed: bool) -> None:
    """Send pending notifications to applicants (SMTP, SMS gateway)."""
    lf = landflow()
    try:
        if show_failed:
            for t in outbox.troubles(lf.db, None, lf.clock.now(), lf.settings.notify_late_minutes):
                console.print(f"{t.code}  {t.kind}  {t.channel}  {t.state}  tries {t.attempts}  {t.last_error}")
            return
        while True:
            result = send_notifications(lf, limit=batch)
            if result is None:
                console.print("another scheduler is sending; nothing done")
            elif result.tried or once:
                console.print(f"sent {result.sent}, to retry {result.retried}, failed {result.failed}, "
                              f"skipped {result.skipped}")
            if once:
                return
            time.sleep(every or max(1, lf.settings.notify_seconds))
    except KeyboardInterrupt:
        pass
    finally:
        lf.close()


COMMANDS = [notify_cmd]
