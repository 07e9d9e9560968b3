"""`landflow init` in demo mode makes the demo CA, trusts its root and issues the seal (once);
`landflow officers certificate` registers a certificate, never a key."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from config.settings import Settings
from engine.bootstrap import build
from engine.store import OfficerRow
from tests.api.test_cli_audit import env, text_of  # noqa: F401 (the CLI's environment)
from tests.support.pki import Pki


def test_demo_init_makes_the_demo_ca_once_and_a_certificate_is_registered(env: dict[str, str],  # noqa: F811
                                                                           tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--no-procedures"])
    assert first.exit_code == 0 and "demo seal certificate" in text_of(first), first.output
    var = Path(env["LANDFLOW_VAR_DIR"])
    for key in (var / "keys" / "demo-ca" / "root-ca.key", var / "keys" / "seal-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (var / "trust" / "landflow-demo-root.pem").exists()
    again = runner.invoke(main, ["init", "--no-procedures"])
    assert again.exit_code == 0 and "demo" not in text_of(again).split("officers", 1)[1]  # nothing made twice

    pki = Pki(datetime.now(UTC) - timedelta(days=1))
    officer = pki.officer("Nguyễn Văn A")
    cert_file, key_file = tmp_path / "a.pem", tmp_path / "a-key.pem"
    cert_file.write_text(pki.bundle(officer))
    key_file.write_bytes(officer.key_pem() + officer.pem.encode())
    refused = runner.invoke(main, ["officers", "certificate", "desk.haichau", str(key_file)])
    assert refused.exit_code == 1 and "certificate_only" in refused.output
    assert runner.invoke(main, ["officers", "certificate", "nobody", str(cert_file)]).exit_code == 1
    done = runner.invoke(main, ["officers", "certificate", "desk.haichau", str(cert_file)])
    assert done.exit_code == 0 and "registered" in text_of(done), done.output
    lf = build(Settings.from_env())
    with lf.db.read() as s:
        assert s.scalar(select(OfficerRow.public_key).where(OfficerRow.username == "desk.haichau")) \
            == pki.bundle(officer)
    lf.close()
