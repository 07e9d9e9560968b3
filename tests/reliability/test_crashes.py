"""Power cuts: a real server under load is killed with SIGKILL at random moments and restarted; the
deadline scheduler is killed in the middle of its sweep and restarted. Afterwards every command that
was answered 2xx is in the history exactly where its answer said, nothing is half-applied (every
dossier's projections, snapshot and signals equal its replay), and `landflow verify --all` passes,
signed checkpoints included.

`make test` kills the server 5 times per database and the scheduler 4 times; `make soak` 20 and 12.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from config.settings import ROOT
from engine.bootstrap import build
from engine.clock import FixedClock, SystemClock
from engine.scheduler import Sweeper
from engine.store import CaseEventRow, DeadlineNoticeRow
from tests.support.figures import Figures
from tests.support.live_server import LiveServer

from .conftest import DemoDatabase, scale
from .land import STEP_DATA, open_body
from .workload import Signer, Workload, missing_acks, unverified_dossiers

NOTICE_EVENTS = ("step_overdue", "escalated", "dossier_overdue", "due_soon", "idle_claim")


def landflow_cli(db: DemoDatabase, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=db.env(), capture_output=True,
                          text=True, timeout=timeout)


def test_server_killed_with_sigkill_under_load(demo_db: DemoDatabase, tmp_path: Path, figures: Figures) -> None:
    kills = scale(5, 20)
    rng = random.Random(20250701)
    server = LiveServer(demo_db.env(), tmp_path / "server.log", workers=2, threads=4)
    server.start()
    load = Workload(server.base, Signer(demo_db, tmp_path / "keys"), threads=6, allowed={200, 201, 412})
    load.start()
    acked_at_kill: list[int] = []
    try:
        for k in range(kills):
            time.sleep(rng.uniform(0.4, 2.0))  # a random moment: mid-request, mid-commit, idle
            server.kill()
            acked_at_kill.append(len(load.tally.acks))
            figures.add("faults")
            time.sleep(rng.uniform(0.0, 0.5))  # clients keep knocking on a dead port meanwhile
            if k == kills // 2:
                cp = landflow_cli(demo_db, "checkpoint")  # a signed checkpoint between two power cuts
                assert cp.returncode == 0, cp.stdout + cp.stderr
            server.start()
        time.sleep(1.0)
    finally:
        load.stop()
        server.stop()
    tally = load.tally
    figures.add("operations", tally.operations)
    assert not tally.unexpected, tally.unexpected[:5]
    assert tally.bad_problems == 0
    assert tally.unknown > 0, "no request was cut off: the kills did not land under load"
    windows = [b - a for a, b in zip([0, *acked_at_kill], acked_at_kill, strict=False)]
    assert sum(w > 0 for w in windows) >= (kills + 1) // 2, windows  # the kills fell on a working server
    assert len(tally.acks) > acked_at_kill[-1], "nothing was acknowledged after the last restart"
    assert "unhandled error" not in server.tail(1_000_000)

    missing = missing_acks(demo_db, tally.acks)
    figures.add("losses", len(missing))
    assert not missing, missing[:5]
    kinds = Counter(a.event for a in tally.acks)
    assert {"opened", "claimed", "completed", "transferred"} <= set(kinds), kinds
    checked, bad = unverified_dossiers(demo_db)
    assert checked >= kinds["opened"] and not bad, bad[:3]
    after = landflow_cli(demo_db, "checkpoint")
    assert after.returncode == 0, after.stdout + after.stderr
    verified = landflow_cli(demo_db, "verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{checked} dossier(s) and 2 checkpoint(s) checked, 0 finding(s)" in " ".join(verified.stdout.split())


def overdue_history(db: DemoDatabase, dossiers: int, first: int = 0) -> None:
    """Dossiers received three weeks ago and left alone: every step and dossier is overdue now, some
    items claimed and idle; a sweep has three or four notices to record for each, one transaction each."""
    past = FixedClock(SystemClock().now() - timedelta(days=21))
    lf = build(db.settings(), clock=past)
    try:
        officers = lf.directory.get().officers
        desk, branch = officers["desk.haichau"], officers["branch.haichau"]
        for n in range(first, first + dossiers):
            st = lf.runtime.open(desk, "land_transfer", "20242", open_body(n)["applicant"], {"number": str(n)})
            past.advance(minutes=5)
            if n % 3:
                (item,) = st.open_items()
                st = lf.runtime.complete(desk, item.id, STEP_DATA["receive"])
                if n % 2:
                    (item,) = st.open_items()
                    lf.runtime.claim(branch, item.id)
    finally:
        lf.close()


def test_scheduler_killed_mid_sweep(demo_db: DemoDatabase, figures: Figures) -> None:
    """Each round, more overdue work arrives (the desks keep receiving); a scheduler starts sweeping it
    and is killed with SIGKILL a random moment after its first notice lands."""
    kills, per_round = scale(4, 12), scale(60, 150)
    rng = random.Random(7)
    lf = demo_db.engine()

    def notices() -> int:
        with lf.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(DeadlineNoticeRow)) or 0)

    try:
        mid_sweep = 0
        for k in range(kills):
            overdue_history(demo_db, per_round, first=k * per_round)
            before = notices()
            command = "scheduler" if k % 2 else "sweep"  # the long-running scheduler sweeps at once on start
            proc = subprocess.Popen([sys.executable, "-m", "api.cli", command], cwd=ROOT, env=demo_db.env(),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + 30
            while notices() == before and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)  # until it is recording
            time.sleep(rng.uniform(0.0, 0.15))
            proc.kill()  # SIGKILL, by the id we started
            proc.wait(timeout=30)
            figures.add("faults")
            left = Sweeper(lf).candidates("step_overdue", lf.clock.now()) + \
                Sweeper(lf).candidates("idle_claim", lf.clock.now())
            mid_sweep += notices() > before and bool(left)
        assert mid_sweep >= max(1, kills // 2), f"only {mid_sweep} of {kills} kills landed in the middle of a sweep"
        for _ in range(20):  # PostgreSQL: a killed sweeper's advisory lock goes with its connection
            done = landflow_cli(demo_db, "sweep")
            assert done.returncode == 0, done.stdout + done.stderr
            if "another scheduler" not in done.stdout:
                break
            time.sleep(0.5)
        # nothing left undone, nothing done twice: a sweep now finds nothing to record
        again = Sweeper(lf).sweep()
        assert not again.skipped and again.total == 0, again
        with lf.db.read() as s:
            rows = s.execute(select(DeadlineNoticeRow.dossier_id, DeadlineNoticeRow.item, DeadlineNoticeRow.kind,
                                    DeadlineNoticeRow.deadline)).all()
            events = s.execute(select(CaseEventRow.dossier_id, CaseEventRow.type)
                               .where(CaseEventRow.type.in_(NOTICE_EVENTS))).all()
        assert len(rows) == len(set(rows)) > 0
        per_dossier = Counter(r.dossier_id for r in rows)
        assert per_dossier == Counter(e.dossier_id for e in events), "a notice row without its event, or back"
        assert {"step_overdue", "escalated", "dossier_overdue", "idle_claim"} <= {r.kind for r in rows}
        assert len(per_dossier) == kills * per_round  # every dossier got its notices
        figures.add("operations", len(rows))
    finally:
        lf.close()
    checked, bad = unverified_dossiers(demo_db)
    figures.add("losses", len(bad))
    assert checked == kills * per_round and not bad, bad[:3]
    verified = landflow_cli(demo_db, "verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr
