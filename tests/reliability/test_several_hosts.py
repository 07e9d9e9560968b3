"""Several application hosts (issue 19, point 1): two `landflow serve` processes, each with its own port,
its own gunicorn workers and its own scheduler, behind Debian's nginx with deploy/nginx/landflow-hosts.conf,
against one PostgreSQL. Client threads drive dossiers through the proxy while one host, then the other,
is killed with SIGKILL (master, workers and scheduler at once, as a power cut) and restarted; meanwhile
dossiers received three weeks ago keep arriving, so both schedulers have deadline notices to record.

Afterwards: every command answered 2xx is in the history where its answer said, exactly once (no
dossier opened twice, no two acknowledgements of one event); every overdue dossier got its notices,
none twice (the sweep's advisory lock and the notices' unique key); every chain verifies and
`landflow verify --all` passes, checkpoints included. `make test` kills twice, `make soak` eight times.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.scheduler import Sweeper
from engine.store import CaseEventRow, DeadlineNoticeRow, DossierRow
from tests.support.figures import Figures
from tests.support.live_server import LiveServer
from tests.support.nginx import Nginx

from .conftest import DemoDatabase, scale
from .land import Signer
from .test_crashes import NOTICE_EVENTS, landflow_cli, overdue_history
from .workload import Workload, missing_acks, unverified_dossiers

POSTGRES_ONLY = pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                        indirect=True)
OVERDUE_FIRST = 5_000_000  # parcel numbers of the overdue dossiers, apart from the workload's


def hosts_site(ports: list[int]) -> str:
    """deploy/nginx/landflow-hosts.conf with this test's hosts in its upstream."""
    site = (ROOT / "deploy/nginx/landflow-hosts.conf").read_text()
    sample = re.findall(r"^\s*server 10\.0\.0\.\d+:8080 (.*);$", site, flags=re.M)
    assert len(sample) == 2, "the sample upstream names two hosts"
    site = re.sub(r"^\s*server 10\.0\.0\.\d+:8080 .*;\n", "", site, flags=re.M)
    lines = "".join(f"    server 127.0.0.1:{p} {sample[0]};\n" for p in ports)
    return site.replace("    keepalive 16;", lines + "    keepalive 16;")


@POSTGRES_ONLY
def test_two_hosts_behind_nginx_one_killed_under_load(demo_db: DemoDatabase, tmp_path: Path,
                                                      figures: Figures) -> None:
    kills, per_round = scale(2, 8), scale(20, 40)
    rng = random.Random(19)
    env = demo_db.env(LANDFLOW_SWEEP_SECONDS="1", LANDFLOW_PROXIES="1")
    hosts = [LiveServer(env, tmp_path / f"host{n}.log", workers=2, threads=4, scheduler=True) for n in range(2)]
    proxy = Nginx(hosts_site([h.port for h in hosts]), tmp_path / "nginx")
    overdue_history(demo_db, per_round, first=OVERDUE_FIRST)
    overdue = per_round
    load: Workload | None = None
    acked_at_kill: list[int] = []
    try:
        for host in hosts:
            host.start(timeout=120)
        proxy.start()
        load = Workload(proxy.base, Signer(demo_db, tmp_path / "keys"), threads=6, allowed={200, 201, 412, 502})
        load.start()
        for k in range(kills):
            time.sleep(rng.uniform(1.5, 3.0))
            overdue_history(demo_db, per_round, first=OVERDUE_FIRST + overdue)  # more work for the schedulers
            overdue += per_round
            victim = hosts[k % 2]
            victim.kill()  # master, workers and its scheduler, mid-request and perhaps mid-sweep
            acked_at_kill.append(len(load.tally.acks))
            figures.add("faults")
            time.sleep(rng.uniform(1.0, 2.0))  # the other host carries the load meanwhile
            if k == 0:
                cp = landflow_cli(demo_db, "checkpoint")  # a signed checkpoint while one host is down
                assert cp.returncode == 0, cp.stdout + cp.stderr
            victim.start(timeout=120)
        time.sleep(2.0)
        load.stop()
        settle = time.monotonic() + 60  # the schedulers record the last round's notices
        lf = demo_db.engine()
        try:
            while time.monotonic() < settle and Sweeper(lf).candidates("step_overdue", lf.clock.now()):
                time.sleep(0.5)
        finally:
            lf.close()
    finally:
        if load is not None:
            load.stop()
        proxy.stop()
        for host in hosts:
            host.stop()

    assert load is not None
    tally = load.tally
    figures.add("operations", tally.operations)
    assert not tally.unexpected, tally.unexpected[:5]
    assert tally.bad_problems == 0, "a refusal or a proxy error that is not problem+json"
    assert len(tally.acks) > acked_at_kill[-1], "nothing was acknowledged after the last restart"
    windows = [b - a for a, b in zip([0, *acked_at_kill], acked_at_kill, strict=False)]
    assert all(w > 0 for w in windows), windows
    for host in hosts:
        log = host.tail(5_000_000)
        assert "unhandled error" not in log
        assert len(re.findall(r'"POST /api/v1/', log)) > 0, "a host that took no action: the proxy did not spread"
        assert "scheduler started" in log

    # acknowledged: present, where the answer said, exactly once
    missing = missing_acks(demo_db, tally.acks)
    figures.add("losses", len(missing))
    assert not missing, missing[:5]
    assert len({(a.dossier, a.seq) for a in tally.acks}) == len(tally.acks), "one event acknowledged twice"
    lf = demo_db.engine()
    try:
        with lf.db.read() as s:
            applicants = Counter(json.loads(a)["id_number"] for a in s.scalars(select(DossierRow.applicant)))
            opened = sum(1 for a in tally.acks if a.event == "opened")
            assert len(applicants) >= opened + overdue
            assert applicants.most_common(1)[0][1] == 1, "a dossier opened twice"
        during = _notices(lf)
        assert during, "the schedulers recorded no notice during the run"
        for _ in range(40):  # anything the last round left: one sweep now (no host runs any more)
            if not Sweeper(lf).sweep().skipped:
                break
            time.sleep(0.5)
        again = Sweeper(lf).sweep()
        assert not again.skipped and again.total == 0, again
        rows = _notices(lf)
        with lf.db.read() as s:
            events = s.execute(select(CaseEventRow.dossier_id, CaseEventRow.type)
                               .where(CaseEventRow.type.in_(NOTICE_EVENTS))).all()
    finally:
        lf.close()
    assert len(rows) == len(set(rows))
    per_dossier = Counter(r[0] for r in rows)
    assert per_dossier == Counter(e.dossier_id for e in events), "a notice row without its event, or twice"
    assert len(per_dossier) == overdue, "an overdue dossier without its notices"
    assert {"step_overdue", "dossier_overdue"} <= {r[2] for r in rows}
    figures.add("operations", len(rows))

    checked, bad = unverified_dossiers(demo_db)
    assert checked >= opened + overdue and not bad, bad[:3]
    after = landflow_cli(demo_db, "checkpoint")
    assert after.returncode == 0, after.stdout + after.stderr
    verified = landflow_cli(demo_db, "verify", "--all")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{checked} dossier(s) and 2 checkpoint(s) checked, 0 finding(s)" in " ".join(verified.stdout.split())


def _notices(lf: Landflow) -> list[tuple[int, int, str, datetime]]:
    with lf.db.read() as s:
        return [(r[0], r[1], r[2], r[3]) for r in s.execute(select(DeadlineNoticeRow.dossier_id, DeadlineNoticeRow.item,
                                                   DeadlineNoticeRow.kind, DeadlineNoticeRow.deadline))]
