"""Papers attached to a dossier: checked from their bytes, stored by hash, named in the chain, verified."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from engine.bootstrap import Landflow
from engine.history import verify
from engine.papers.documents import Upload, UploadRefused, add_document, documents
from engine.runtime import CommandRefused
from engine.store import CaseEventRow
from tests.conftest import officer
from tests.engine.test_commands import items
from tests.support.files import ELF, jpeg, pdf, png


def opened(lf: Landflow) -> int:
    return lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1", {"name": "A"}, {}).id


def event_count(lf: Landflow, dossier_id: int) -> int:
    with lf.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(CaseEventRow).where(CaseEventRow.dossier_id == dossier_id))
                   or 0)


def test_the_desk_adds_a_pdf_and_a_jpeg_and_verify_covers_their_bytes(small: Landflow) -> None:
    did = opened(small)
    desk = officer(small, "desk.w1")
    for data, name, paper in ((pdf(), "don 18.pdf", "don_mau_18"), (jpeg(), "giay chung nhan.jpeg", "gcn")):
        add_document(small.runtime, desk, did, Upload.of(data, name, 10_000_000), small.blobs, paper=paper)
    with small.db.read() as s:
        docs = documents(s, did)
        assert [(d.paper, d.media_type, d.name, d.actor) for d in docs] == [
            ("don_mau_18", "application/pdf", "don 18.pdf", "desk.w1"),
            ("gcn", "image/jpeg", "giay chung nhan.jpg", "desk.w1")]
        assert small.blobs.get(docs[0].sha256) == pdf()
        assert verify(s, small.procedures, did, small.blobs).ok
    # one stored file's bytes change: verify names the document
    path = small.blobs.path(docs[1].sha256)
    os.chmod(path, 0o640)
    path.write_bytes(jpeg()[:-3] + b"\x00\x00\x00")
    with small.db.read() as s:
        result = verify(s, small.procedures, did, small.blobs)
    assert not result.ok
    assert any("giay chung nhan.jpg" in p and "bytes changed" in p for p in result.problems), result.problems
    # and a removed one
    path.unlink()
    with small.db.read() as s:
        result = verify(s, small.procedures, did, small.blobs)
    assert any("giay chung nhan.jpg" in p and "missing" in p for p in result.problems), result.problems


@pytest.mark.parametrize("data,code", [(ELF, "unsupported_type"), (b"", "empty_file"),
                                       (b"%PDF-1.4\n" + b"x" * 200, "unsupported_type"),
                                       (pdf() + b" " * 2000, "file_too_large")])
def test_bad_files_are_refused_before_anything_is_stored(small: Landflow, data: bytes, code: str) -> None:
    with pytest.raises(UploadRefused) as err:
        Upload.of(data, "ho so.pdf", len(pdf()) + 1000)
    assert err.value.code == code
    assert not small.blobs.root.exists() or not any(p.is_file() for p in small.blobs.root.rglob("*"))


def test_an_officer_who_holds_nothing_of_the_dossier_is_refused_and_nothing_is_stored(small: Landflow) -> None:
    did = opened(small)
    before = event_count(small, did)
    with pytest.raises(CommandRefused) as err:
        add_document(small.runtime, officer(small, "land.w1"), did, Upload.of(png(), "x.png", 10**6), small.blobs)
    assert err.value.code == "wrong_unit"
    assert not small.blobs.root.exists() or not any(p.is_file() for p in small.blobs.root.rglob("*"))
    with small.db.read() as s:
        assert documents(s, did) == []
    assert event_count(small, did) == before + 1  # the refusal itself is recorded


def test_the_holder_of_the_current_step_adds_a_result_paper(small: Landflow) -> None:
    did = opened(small)
    (receive,) = [i for i in items(small, did) if i.state == "ready"]
    small.runtime.complete(officer(small, "desk.w1"), receive.id, {"complete": True})
    land = officer(small, "land.w1")
    add_document(small.runtime, land, did, Upload.of(pdf("Phieu xac minh"), "xac minh.pdf", 10**6), small.blobs,
                 kind="result")
    with small.db.read() as s:
        (doc,) = documents(s, did)
        assert (doc.kind, doc.step, doc.actor) == ("result", "verify", "land.w1")
        assert verify(s, small.procedures, did, small.blobs).ok
