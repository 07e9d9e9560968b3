"""Backups that are proven (issue 19, point 2): `landflow backup` and `landflow restore` on SQLite (an
online copy while writers run) and PostgreSQL (a base backup plus the WAL archive, restored to an
instant), the papers' blob folder with them; after the restore, `landflow verify --all` says which
checkpoint the database is covered by, which events no checkpoint covers, and, against the checkpoint
copies kept outside the database, exactly which signed events the restored database lacks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from api.cli.setup import initialise
from config.settings import ROOT
from engine.bootstrap import Landflow
from engine.papers.documents import Upload, add_document
from engine.store import DossierRow
from tests.support.figures import Figures
from tests.support.files import pdf
from tests.support.private_postgres import PrivatePostgres

from .conftest import DemoDatabase
from .land import STEP_DATA, open_body

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def flat(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join((done.stdout + done.stderr).split())


def receive(lf: Landflow, n: int) -> int:
    """One dossier received at the Hải Châu desk with a scanned paper (a blob), and its receipt step done."""
    desk = lf.directory.get().officers["desk.haichau"]
    st = lf.runtime.open(desk, "land_transfer", "20242", open_body(n)["applicant"], {"number": str(n)})
    st = add_document(lf.runtime, desk, st.id, Upload.of(pdf(f"Don so {n}"), f"don-{n}.pdf", 10**6), lf.blobs)
    (item,) = st.open_items()
    assert item.id is not None
    lf.runtime.complete(desk, item.id, STEP_DATA["receive"])
    return st.id


class Writers:
    """Threads receiving dossiers through one engine until stopped; counts what they finished."""

    def __init__(self, lf: Landflow, threads: int):
        self.lf, self.done = lf, 0
        self.errors: list[str] = []
        self.lock, self.stop_flag = threading.Lock(), threading.Event()
        self.pool = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(threads)]

    def _run(self, t: int) -> None:
        n = 0
        while not self.stop_flag.is_set():
            n += 1
            try:
                receive(self.lf, 1_000_000 * (t + 1) + n)
            except Exception as err:  # noqa: BLE001 - reported by the test
                self.errors.append(f"{type(err).__name__}: {err}")
                return
            with self.lock:
                self.done += 1

    def __enter__(self) -> Writers:
        for t in self.pool:
            t.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop_flag.set()
        for t in self.pool:
            t.join(timeout=120)


def heads(url_env: dict[str, str]) -> dict[int, int]:
    """dossier id → last seq, read through the engine of that environment."""
    from config.settings import Settings
    from engine.bootstrap import build

    lf = build(Settings.from_env(url_env))
    try:
        with lf.db.read() as s:
            return {int(d): int(q) for d, q in s.execute(select(DossierRow.id, DossierRow.last_seq))}
    finally:
        lf.close()


@SQLITE_ONLY
def test_sqlite_online_backup_mid_load_restores_and_verifies(demo_db: DemoDatabase, tmp_path: Path,
                                                             figures: Figures) -> None:
    env = demo_db.env()
    lf = demo_db.engine()
    try:
        for n in range(5):
            receive(lf, n)
        first = cli(env, "checkpoint")
        assert first.returncode == 0, flat(first)
        with Writers(lf, threads=3) as writers:
            while writers.done < 10:
                time.sleep(0.05)
            before = writers.done
            taken = cli(env, "backup", str(tmp_path / "backup"))
            during = writers.done - before
            after, deadline = writers.done, time.monotonic() + 120
            while writers.done < after + 6 and time.monotonic() < deadline and not writers.errors:
                time.sleep(0.05)  # work goes on after the backup: the restore will not have it
        assert not writers.errors, writers.errors[:3]
        assert taken.returncode == 0, flat(taken)
        assert during > 0, "no writer finished anything while the backup ran: it was not taken mid-load"
        later = cli(env, "checkpoint")  # signed after the backup: its copy outside says what the backup lacks
        assert later.returncode == 0, flat(later)
    finally:
        lf.close()
    live = heads(env)
    copies = Path(env["LANDFLOW_VAR_DIR"]) / "checkpoints"
    assert sorted(p.name for p in copies.iterdir()) == ["checkpoint-00000001.json.gz", "checkpoint-00000002.json.gz"]

    # a new machine: the database and the papers from the backup, the keys from where they are kept
    new = tmp_path / "restored"
    renv = {**env, "LANDFLOW_DATABASE_URL": f"sqlite:///{new / 'landflow.db'}", "LANDFLOW_VAR_DIR": str(new),
            "LANDFLOW_CHECKPOINT_KEY": str(Path(env["LANDFLOW_VAR_DIR"]) / "keys" / "checkpoint.pem")}
    restored = cli(renv, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, flat(restored)
    assert re.search(r"papers: \d+ file\(s\) copied", flat(restored))
    held = heads(renv)
    assert 5 + before <= len(held) < len(live), (len(held), len(live))

    # against the copies taken with the backup (checkpoint 1 only): everything holds
    only_first = tmp_path / "copies-at-backup"
    only_first.mkdir()
    shutil.copy(copies / "checkpoint-00000001.json.gz", only_first)
    ok = cli(renv, "verify", "--all", "--copies", str(only_first))
    out = flat(ok)
    assert ok.returncode == 0, out
    assert "last checkpoint covered: 1," in out
    uncovered = int(re.search(r"not covered by any checkpoint: (\d+) event\(s\)", out).group(1))  # type: ignore[union-attr]
    assert uncovered > 0  # the writers' dossiers before the backup, signed by no checkpoint in it
    assert "missing after the last checkpoint: nothing" in out
    assert f"{len(held)} dossier(s) and 1 checkpoint(s) checked, 0 finding(s)" in out

    # against every copy (checkpoint 2 was signed after the backup): exactly what the restore lacks
    lost = cli(renv, "verify", "--all", "--copies", str(copies))
    out = flat(lost)
    assert lost.returncode == 1, out
    expected = {d: q for d, q in live.items() if held.get(d, 0) < q}
    assert expected
    missing_events = sum(q - held.get(d, 0) for d, q in expected.items())
    assert "checkpoint(s) 2 were signed" in out
    assert f"missing after the last checkpoint: {missing_events} signed event(s) in {len(expected)} dossier(s)" in out
    for d in sorted(expected)[:19]:  # the CLI prints the first 20 findings: the lost checkpoint, then these
        assert re.search(rf"dossier {d}( \([^)]*\))?: checkpoint 2 \(copy outside the database\) signed "
                         rf"{expected[d]} event\(s\), the database holds ", out), d
    figures.add("operations", writers.done + 5)
    figures.add("losses", 0)


# -- PostgreSQL: base backup, WAL archive, point in time -------------------------------------------------

@pytest.fixture
def archiving_pg(tmp_path: Path) -> Iterator[tuple[PrivatePostgres, Path]]:
    """A cluster of one's own (never with-postgres.sh's) that archives every WAL segment."""
    bin_dir = os.environ.get("LANDFLOW_TEST_PG_BIN")
    if not bin_dir:
        pytest.fail("LANDFLOW_TEST_PG_BIN is not set: run the suite with `make test` (scripts/with-postgres.sh)")
    pg = PrivatePostgres(bin_dir)
    archive = pg.dir / "wal-archive"
    archive.mkdir()
    if os.geteuid() == 0:
        shutil.chown(archive, "postgres")
    try:
        pg.configure(wal_level="replica", archive_mode="on", max_wal_senders="4",
                     archive_command=f"test ! -f {archive}/%f && cp %p {archive}/%f")
        pg.start()
        yield pg, archive
    finally:
        pg.destroy()


def wait_archived(pg: PrivatePostgres, timeout: float = 60) -> None:
    """Close the current WAL segment and wait until the archiver has copied it."""
    segment = pg.psql("SELECT pg_walfile_name(pg_switch_wal())")
    deadline = time.monotonic() + timeout
    while pg.psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < segment:
        assert time.monotonic() < deadline, f"WAL segment {segment} was not archived"
        time.sleep(0.2)


@pytest.mark.postgres
def test_postgresql_restored_to_an_instant_verifies(archiving_pg: tuple[PrivatePostgres, Path], tmp_path: Path,
                                                    figures: Figures) -> None:
    pg, archive = archiving_pg
    db = DemoDatabase(pg.url, tmp_path / "var")
    env = db.env()
    lf = db.engine()
    try:
        initialise(lf, say=lambda _msg: None)
        before_backup = [receive(lf, n) for n in range(4)]
        assert cli(env, "checkpoint").returncode == 0
        taken = cli(env, "backup", str(tmp_path / "backup"), "--pg-bin", str(pg.bin))
        assert taken.returncode == 0, flat(taken)
        after_backup = [receive(lf, n) for n in range(100, 104)]  # in the WAL only, not in the base backup
        second = cli(env, "checkpoint")
        assert second.returncode == 0, flat(second)
        uncovered = [receive(lf, 200)]  # after the last checkpoint, before the instant
        time.sleep(1.1)
        instant = datetime.now(UTC)
        time.sleep(1.1)
        after_instant = [receive(lf, n) for n in range(300, 304)]
        # the papers written since the base backup, added to it as often as the WAL is archived (without
        # this, verify names every paper received after the base backup as missing)
        synced = cli(env, "backup", "--blobs-only", str(tmp_path / "backup"))
        assert synced.returncode == 0 and "papers: 9 file(s) copied" in flat(synced), flat(synced)
    finally:
        lf.close()
    wait_archived(pg)
    pg.stop("immediate")  # the disk is lost

    restored_pg = PrivatePostgres(str(pg.bin), init=False)
    try:
        renv = {**env, "LANDFLOW_DATABASE_URL": restored_pg.url, "LANDFLOW_BLOB_DIR": str(tmp_path / "new-blobs")}
        done = cli(renv, "restore", str(tmp_path / "backup"), "--pg-data", str(restored_pg.data), "--wal-archive",
                   str(archive), "--until", instant.isoformat())
        assert done.returncode == 0, flat(done)
        if restored_pg.as_user:
            subprocess.run(["chown", "-R", "postgres", str(restored_pg.data)], check=True)
        restored_pg.start()
        deadline = time.monotonic() + 60
        while restored_pg.psql("SELECT pg_is_in_recovery()") != "f":
            assert time.monotonic() < deadline, "the restored server did not finish its recovery"
            time.sleep(0.2)
        held = heads(renv)
        assert set(before_backup + after_backup + uncovered) <= set(held)
        assert not set(after_instant) & set(held), "dossiers received after the instant are back"
        verified = cli(renv, "verify", "--all")
        out = flat(verified)
        assert verified.returncode == 0, out
        assert "last checkpoint covered: 2," in out
        assert re.search(r"not covered by any checkpoint: \d+ event\(s\) in 1 dossier\(s\)", out), out
        assert "missing after the last checkpoint: nothing" in out
        assert f"{len(held)} dossier(s) and 2 checkpoint(s) checked, 0 finding(s)" in out
    finally:
        restored_pg.destroy()
    figures.add("operations", len(before_backup + after_backup + uncovered + after_instant))
    figures.add("faults")
    figures.add("losses", 0)
