"""The memo of verified heads never skips the files: a stored paper whose bytes change after a run that
passed is named by the next `verify --all` (engine/verified.py re-reads every named file)."""

from __future__ import annotations

import os
from pathlib import Path

from engine.bootstrap import Landflow
from engine.integrity import verify_everything
from engine.papers.documents import Upload, add_document, documents
from tests.conftest import officer
from tests.support.files import jpeg, pdf


def test_a_changed_file_is_found_after_the_memo_said_all_verified(small: Landflow, tmp_path: Path) -> None:
    did = small.runtime.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "A"}, {}).id
    other = small.runtime.open(officer(small, "desk.w1"), "small_test", "W1", {"name": "B"}, {}).id
    desk = officer(small, "desk.w1")
    add_document(small.runtime, desk, did, Upload.of(pdf(), "don.pdf", 10**7), small.blobs, paper="don_mau_18")
    add_document(small.runtime, desk, did, Upload.of(jpeg(), "gcn.jpeg", 10**7), small.blobs, paper="gcn")
    memo = tmp_path / "verified.sqlite3"

    def run() -> tuple[list[dict[str, object]], int]:
        report = verify_everything(small.db, small.procedures, small.settings.checkpoint_key, blobs=small.blobs,
                                   memo=memo)
        return report.findings, report.unchanged

    assert run() == ([], 0)
    assert run() == ([], 2)
    with small.db.read() as s:
        path = small.blobs.path(documents(s, did)[1].sha256)
    os.chmod(path, 0o640)
    path.write_bytes(jpeg()[:-3] + b"\x00\x00\x00")
    findings, unchanged = run()
    assert unchanged == 1 and [f["dossier"] for f in findings] == [did]
    assert "gcn.jpg" in str(findings[0]["message"]) and "bytes changed" in str(findings[0]["message"])
    path.unlink()
    findings, unchanged = run()
    assert unchanged == 1 and "missing" in str(findings[0]["message"]) and other != did
