"""`landflow demo`, `landflow officers …` and `landflow serve`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from api.cli import main
from config.settings import Settings
from engine.bootstrap import build
from engine.clock import FixedClock
from engine.store import CheckpointRow, DeadlineNoticeRow, DossierRow, OfficerRow, SignalRow


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"LANDFLOW_VAR_DIR": str(tmp_path / "var"), "LANDFLOW_DEMO": "1", "LANDFLOW_DATABASE_URL": database_url}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    return values


def history(url: str) -> list[tuple[str, str, str]]:
    lf = build(Settings.from_env({}, database_url=url))
    try:
        with lf.db.read() as s:
            return [(d.code, d.status, d.head_hash) for d in s.scalars(select(DossierRow).order_by(DossierRow.id))]
    finally:
        lf.close()


def test_demo_builds_a_verifiable_deterministic_history(env: dict[str, str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    args = ["demo", "--dossiers", "60", "--days", "10", "--until", "2026-03-13", "--seed", "11"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "60 dossiers from 2026-02-27 to 2026-03-13 17:00" in result.output
    first = history(env["LANDFLOW_DATABASE_URL"])
    assert len(first) == 60
    statuses = {status for _, status, _ in first}
    assert "done" in statuses and "in_progress" in statuses
    verified = runner.invoke(main, ["verify", "--all"])
    assert verified.exit_code == 0 and "11 checkpoint(s) checked, 0 finding(s)" in " ".join(verified.output.split())
    # the demo's checkpoints are also copied outside the database, and verify checks them (docs/operations/backups.md)
    said = " ".join(verified.output.split())
    assert "last checkpoint covered: 11," in said and "checkpoint copies: 11 checked" in said
    assert "missing after the last checkpoint: nothing" in said
    lf = build(Settings.from_env())
    with lf.db.read() as s:
        kinds = set(s.scalars(select(SignalRow.kind)))
        notices = s.scalar(select(func.count()).select_from(DeadlineNoticeRow))
        checkpoints = list(s.scalars(select(CheckpointRow.at).order_by(CheckpointRow.id)))
    lf.close()
    assert {"rerouted", "returned"} & kinds
    # the simulated scheduler swept: overdue steps, escalations to unit heads, idle claims are in the history
    assert {"step_overdue", "escalated", "idle_claim"} <= kinds
    assert f"{notices} deadline notices, 11 signed checkpoints" in " ".join(result.output.split()) and notices > 0
    # one signed checkpoint at the close of each of the 11 working days
    assert len(checkpoints) == 11 and len({c.date() for c in checkpoints}) == 11

    again = runner.invoke(main, args)
    assert again.exit_code == 0 and "already has 60 dossiers" in again.output
    assert len(history(env["LANDFLOW_DATABASE_URL"])) == 60

    other = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("LANDFLOW_DATABASE_URL", other)
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, args).exit_code == 0
    assert history(other) == first  # same seed and end: the same dossiers, to the last hash


def test_demo_needs_the_demo_officers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDFLOW_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("LANDFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'x.db'}")
    monkeypatch.setenv("LANDFLOW_DEMO", "0")
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    result = runner.invoke(main, ["demo", "--dossiers", "5"])
    assert result.exit_code == 1 and "demo officers are missing" in result.output


def test_officers_add_list_deactivate(env: dict[str, str]) -> None:
    runner = CliRunner()
    add = ["officers", "add", "le.van.c", "--name", "Lê Văn C", "--unit", "20242", "--role", "one_stop_desk",
           "--role", "unit_head"]
    result = runner.invoke(main, add, input="mot-mat-khau\nmot-mat-khau\n")
    assert result.exit_code == 0, result.output
    assert "le.van.c added to 20242 (one_stop_desk, unit_head)" in result.output
    assert runner.invoke(main, add, input="mot-mat-khau\nmot-mat-khau\n").exit_code == 1  # exists
    assert runner.invoke(main, [*add[:2], "x.y", *add[3:], "--password", "short"]).exit_code != 0
    bad_unit = runner.invoke(main, ["officers", "add", "x.z", "--name", "X", "--unit", "NOWHERE", "--role",
                                    "one_stop_desk", "--password", "mot-mat-khau"])
    assert bad_unit.exit_code == 1 and "NOWHERE" in bad_unit.output
    listed = runner.invoke(main, ["officers", "list", "--unit", "20242"], terminal_width=200)
    assert listed.exit_code == 0 and "le.van.c" in listed.output and "desk.haichau" in listed.output
    assert "branch.haichau" not in listed.output
    assert runner.invoke(main, ["officers", "deactivate", "le.van.c"]).exit_code == 0
    lf = build(Settings.from_env())
    with lf.db.read() as s:
        row = s.scalars(select(OfficerRow).where(OfficerRow.username == "le.van.c")).one()
        n = s.scalar(select(func.count()).select_from(OfficerRow).where(OfficerRow.username == "x.y"))
    lf.close()
    assert row.password_hash and row.password_hash.startswith("scrypt:") and not row.active and not row.demo
    assert n == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Any, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> Any:
    """Poll `check()` until it returns something truthy; the server must stay up meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = check()
        except OSError:
            found = None
        if found:
            return found
        assert proc.poll() is None, log.read_text()
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting; server log:\n{log.read_text()}")


def call(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(url, method="POST" if body is not None else "GET", headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.load(resp)


def scheduler(env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as f:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "scheduler"], env={**os.environ, **env}, stdout=f,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def test_serve_answers_and_its_scheduler_sweeps(env: dict[str, str], tmp_path: Path) -> None:
    """`landflow serve` starts the scheduler as its child: a dossier received 30 days ago gets its
    overdue notice within seconds. On SQLite a second scheduler is refused while serve's runs, and
    can start once serve (and with it its child) has stopped; on PostgreSQL several may run."""
    env = {**env, "LANDFLOW_SWEEP_SECONDS": "1"}
    past = build(Settings.from_env(env), clock=FixedClock(datetime.now(UTC) - timedelta(days=30)))
    try:
        late = past.runtime.open(past.directory.get().officers["desk.haichau"], "land_transfer", "20242",
                                 {"name": "Người nộp cũ"})
    finally:
        past.close()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                                env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}/api/v1"
    sqlite = env["LANDFLOW_DATABASE_URL"].startswith("sqlite")
    try:
        health = wait_for(lambda: call(f"{base}/health"), proc, log)
        assert health == {"status": "ok", "database": "sqlite" if sqlite else "postgresql"}, log.read_text()
        signed = call(f"{base}/auth/token", {"username": "chair.haichau", "password": "demo"})
        assert signed["officer"]["roles"] == ["commune_chairman"] and len(signed["token"]) > 30
        auditor = call(f"{base}/auth/token", {"username": "auditor", "password": "demo"})["token"]
        notices = wait_for(lambda: call(f"{base}/signals?kind=step_overdue&dossier={late.id}", token=auditor),
                           proc, log, 30)
        assert [(n["dossier"], n["unit"]) for n in notices] == [(late.id, "20242")]
        second = scheduler(env, tmp_path / "second.log")
        if sqlite:
            assert second.wait(timeout=30) == 1
            assert "another scheduler runs against this database" in (tmp_path / "second.log").read_text()
        else:
            time.sleep(2)
            assert second.poll() is None, (tmp_path / "second.log").read_text()
            stop(second)
    finally:
        stop(proc)
    output = log.read_text()
    assert "chair.haichau" in output  # the demo accounts are printed
    assert "scheduler started" in output and "scheduler: sweep every 1s" in output
    if sqlite:  # serve's scheduler ended with it: the lock is free again
        again = scheduler(env, tmp_path / "again.log")
        try:
            wait_for(lambda: "sweep every" in (tmp_path / "again.log").read_text(), again, tmp_path / "again.log", 30)
        finally:
            stop(again)


def test_serve_production_refuses_demo_mode(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["serve", "--production"])
    assert result.exit_code == 1 and "demo" in result.output
