"""The scheduler: APScheduler jobs for the deadline sweep, the signed checkpoints and the notifications
to applicants (engine/scheduler/notify.py).

`run_scheduler(lf)` runs them in the foreground: `landflow scheduler`, which `landflow serve` starts
as its child process (the gunicorn workers run none); `start_scheduler(lf)` runs them in a
background thread of the calling process (tests, embedding). Any number may run against one
PostgreSQL: the sweep takes an advisory lock, the notices have a unique key, checkpoints take their
own lock. On SQLite `run_scheduler` runs only while it holds the database's scheduler lock file
(engine/scheduler/sole.py): a second one raises SchedulerBusy.

Jobs never overlap themselves (`max_instances=1`) and a missed run is run once, not many times
(`coalesce`). APScheduler decides *when* a job runs (wall clock); what is due is decided by the
engine's clock (`lf.clock`), which tests freeze.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from ..backup.copies import write_copies
from ..bootstrap import Landflow
from ..checkpoints import create_checkpoint
from ..signatures import read_private_key
from .heartbeat import Heartbeat
from .notify import send_notifications
from .sole import SchedulerBusy, sole_scheduler
from .sweep import Sweeper, SweepResult

__all__ = ["SchedulerBusy", "Sweeper", "SweepResult", "build_scheduler", "checkpoint_now", "run_scheduler",
           "send_notifications", "start_scheduler"]
log = logging.getLogger("landflow.scheduler")
HEARTBEAT_SECONDS = 15  # beats at least this often; readiness allows LANDFLOW_SCHEDULER_STALE_SECONDS


def checkpoint_now(lf: Landflow) -> int | None:
    """Sign a checkpoint now; None when the key is missing (logged: `landflow init` creates it)."""
    path = lf.settings.checkpoint_key
    if not path.exists():
        log.warning("no checkpoint key at %s: run `landflow init`", path)
        return None
    number = create_checkpoint(lf.db, read_private_key(path), lf.clock.now()).id
    write_copies(lf.db, lf.settings.checkpoint_copies)  # the evidence a restored database is compared with
    return number


def timed_sweep(sweeper: Sweeper, heartbeat: Heartbeat) -> SweepResult:
    """A sweep whose duration goes into this scheduler's heartbeat row (`/metrics` reads it)."""
    started = time.monotonic()
    result = sweeper.sweep()
    try:
        heartbeat.swept(time.monotonic() - started, result.skipped)
    except Exception:  # a heartbeat that cannot be written must not stop the sweeps; readiness shows it
        log.exception("the sweep's heartbeat could not be written")
    return result


def beat(heartbeat: Heartbeat) -> None:
    try:
        heartbeat.beat()
    except Exception:
        log.exception("the scheduler's heartbeat could not be written")


def build_scheduler(lf: Landflow, scheduler: BaseScheduler, sweeper: Sweeper | None = None) -> BaseScheduler:
    sweeper = sweeper or Sweeper(lf)
    heartbeat = Heartbeat.of_this_process(lf.db)
    now = datetime.now(UTC)
    scheduler.add_job(beat, IntervalTrigger(seconds=max(1, min(HEARTBEAT_SECONDS, lf.settings.sweep_seconds))),
                      args=[heartbeat], id="heartbeat", name="scheduler heartbeat", max_instances=1,
                      coalesce=True, next_run_time=now, replace_existing=True)
    scheduler.add_job(timed_sweep, IntervalTrigger(seconds=max(1, lf.settings.sweep_seconds)),
                      args=[sweeper, heartbeat], id="sweep", name="deadline sweep", max_instances=1,
                      coalesce=True, next_run_time=now, replace_existing=True)
    if lf.settings.checkpoint_minutes > 0:
        scheduler.add_job(checkpoint_now, IntervalTrigger(minutes=lf.settings.checkpoint_minutes), args=[lf],
                          id="checkpoint", name="signed checkpoint", max_instances=1, coalesce=True,
                          replace_existing=True)
    if lf.settings.notify_seconds > 0:
        scheduler.add_job(send_notifications, IntervalTrigger(seconds=lf.settings.notify_seconds), args=[lf],
                          id="notify", name="notifications to applicants", max_instances=1, coalesce=True,
                          replace_existing=True)
    return scheduler


def start_scheduler(lf: Landflow, sweeper: Sweeper | None = None) -> BackgroundScheduler:
    """Start the jobs in a background thread; call `.shutdown()` on the result to stop them."""
    scheduler = BackgroundScheduler(timezone=UTC, daemon=True)
    build_scheduler(lf, scheduler, sweeper)
    scheduler.start()
    return scheduler


def run_scheduler(lf: Landflow, on_start: Callable[[], None] = lambda: None) -> None:
    """Run the jobs in the foreground until interrupted (`landflow scheduler`). On SQLite, only while
    holding the database's scheduler lock: SchedulerBusy when another scheduler has it."""
    with sole_scheduler(lf.settings.database_url):
        scheduler = BlockingScheduler(timezone=UTC)
        build_scheduler(lf, scheduler)
        on_start()
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            scheduler.start()
