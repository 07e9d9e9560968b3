"""`landflow backup` and `landflow restore` refuse what would lose or mix data, saying why, and change
nothing (the real backups and restores, with load and point in time: tests/reliability/test_backups.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"LANDFLOW_VAR_DIR": str(tmp_path / "var"), "LANDFLOW_DEMO": "1",
              "LANDFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'lf.db'}"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    assert CliRunner().invoke(main, ["init", "--no-procedures"]).exit_code == 0
    return values


def test_backup_and_restore_refuse_what_would_lose_or_mix_data(env: dict[str, str], tmp_path: Path) -> None:
    run = CliRunner().invoke
    db = Path(env["LANDFLOW_DATABASE_URL"].removeprefix("sqlite:///"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    refused = run(main, ["backup", str(busy)])
    assert refused.exit_code != 0 and "is not empty" in refused.output
    assert sorted(p.name for p in busy.iterdir()) == ["something"]
    assert "is not a landflow backup" in run(main, ["backup", "--blobs-only", str(busy)]).output
    assert "is not a landflow backup" in run(main, ["restore", str(busy)]).output

    made = run(main, ["backup", str(tmp_path / "b1")])
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "b1" / "backup.json").read_text())
    assert manifest["kind"] == "sqlite" and manifest["damaged_blobs"] == []
    before = db.read_bytes()
    over = run(main, ["restore", str(tmp_path / "b1")])
    assert over.exit_code != 0 and "--force" in over.output  # the live database is not replaced by mistake
    mixed = run(main, ["restore", str(tmp_path / "b1"), "--until", "2026-12-06T10:00:00+07:00"])
    assert mixed.exit_code != 0 and "PostgreSQL" in mixed.output
    assert db.read_bytes() == before
    (tmp_path / "b1" / "backup.json").write_text(json.dumps({**manifest, "kind": "tape"}))
    assert "unknown backup kind" in run(main, ["restore", str(tmp_path / "b1"), "--force"]).output
    (tmp_path / "b1" / "backup.json").write_text(json.dumps(manifest))
    forced = run(main, ["restore", str(tmp_path / "b1"), "--force"])
    assert forced.exit_code == 0 and "database restored" in forced.output


def test_a_postgresql_restore_needs_its_archive_and_an_instant_with_its_offset(env: dict[str, str],
                                                                               tmp_path: Path) -> None:
    run = CliRunner().invoke
    backup = tmp_path / "pg"
    (backup / "base").mkdir(parents=True)
    (backup / "backup.json").write_text(json.dumps({"kind": "postgresql"}))
    assert "needs --pg-data and --wal-archive" in run(main, ["restore", str(backup)]).output
    archive = tmp_path / "wal"
    archive.mkdir()
    args = ["restore", str(backup), "--pg-data", str(tmp_path / "data"), "--wal-archive", str(archive)]
    assert "offset" in run(main, [*args, "--until", "2026-12-06T10:00:00"]).output
    assert "not an ISO 8601 instant" in run(main, [*args, "--until", "yesterday"]).output
    assert "not a base backup" in run(main, [*args, "--until", "2026-12-06T10:00:00+07:00"]).output
    assert not (tmp_path / "data").exists()
