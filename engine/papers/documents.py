"""Adding a file to a dossier (`document_added`), and reading back which files a dossier holds.

The file is checked (type from its bytes, size, not empty) before anything is written, stored in the
blob store inside the command, after the policy has accepted the officer and before the event that
names it is appended: a refused upload stores nothing, and an acknowledged one can never name a file
that is not there. The event carries the paper's code, the file's name, type, size and SHA-256, so
the hash chain covers the bytes and `verify` can name a changed or missing file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..events import DocumentAdded, SlipIssued, parse_as
from ..store import CaseEventRow
from .blobs import BlobStore, digest
from .media import ACCEPTED, clean_filename, sniff

if TYPE_CHECKING:
    from ..org import Officer
    from ..runtime import DossierState, Runtime

KINDS = ("received", "result", "supplement")
MAX_PAPER_CODE = 40


class UploadRefused(ValueError):
    """An upload refused before the engine saw it: `code` is stable, the message says what to do."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str
    media_type: str
    sha256: str

    @classmethod
    def of(cls, data: bytes, filename: str | None, max_bytes: int) -> Upload:
        if not data:
            raise UploadRefused("empty_file", "the file is empty")
        if len(data) > max_bytes:
            raise UploadRefused("file_too_large", f"the file is larger than {max_bytes} bytes")
        media_type = sniff(data)
        if media_type is None:
            raise UploadRefused("unsupported_type", "only PDF, JPEG and PNG files are accepted "
                                f"({', '.join(ACCEPTED.values())}), judged by their content, not their name")
        return cls(data, clean_filename(filename, media_type), media_type, digest(data))


@dataclass(frozen=True)
class Document:
    seq: int
    at: datetime
    actor: str
    unit: str | None
    step: str | None
    paper: str | None
    kind: str
    name: str
    media_type: str
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "unit": self.unit, "step": self.step,
                "paper": self.paper, "kind": self.kind, "name": self.name, "media_type": self.media_type,
                "size": self.size, "sha256": self.sha256}


def add_document(runtime: Runtime, officer: Officer, dossier_id: int, upload: Upload, blobs: BlobStore,
                 paper: str | None = None, kind: str = "received",
                 expected_version: int | None = None) -> DossierState:
    """One engine command: the receiving desk, or the officer who holds the dossier's current step."""
    from ..errors import Conflict, Invalid

    def body(work: Any) -> None:
        if kind not in KINDS:
            raise Invalid("invalid_data", f"kind must be one of {', '.join(KINDS)}")
        if paper is not None and (not paper or len(paper) > MAX_PAPER_CODE):
            raise Invalid("invalid_data", "the paper code is empty or too long")
        held = [i for i in work.state.open_items() if i.unit == officer.unit and i.role in officer.roles]
        stored = blobs.put(upload.data)
        if stored != upload.sha256:  # the store hashed other bytes than were checked: never name them
            raise Conflict("blob_mismatch", "the stored file differs from the upload")
        runtime.emit(work, DocumentAdded(paper=paper, kind_=kind, name=upload.filename, media_type=upload.media_type,
                                         size=len(upload.data), sha256=upload.sha256),
                     step=held[0].step if held else None)

    return runtime._dossier_command("add_document", officer, dossier_id, expected_version, body)


def documents(session: Session, dossier_id: int) -> list[Document]:
    """The files a dossier holds, oldest first, as its events name them."""
    rows = session.execute(select(CaseEventRow.seq, CaseEventRow.at, CaseEventRow.actor, CaseEventRow.unit,
                                  CaseEventRow.step, CaseEventRow.payload)
                           .where(CaseEventRow.dossier_id == dossier_id, CaseEventRow.type == "document_added")
                           .order_by(CaseEventRow.seq)).all()
    out = []
    for seq, at, actor, unit, step, payload in rows:
        p = parse_as(DocumentAdded, payload)
        out.append(Document(seq, at, actor, unit, step, p.paper, p.kind_ or "received", p.name, p.media_type, p.size,
                            p.sha256))
    return out


def document_problems(session: Session, dossier_id: int, blobs: BlobStore) -> list[str]:
    """For `verify`: every named file that is missing or whose bytes changed, named as an auditor reads it."""
    problems = []
    for doc in documents(session, dossier_id):
        wrong = blobs.check(doc.sha256, doc.size)
        if wrong:
            what = f"paper {doc.paper}" if doc.paper else doc.kind
            problems.append(f"document {doc.name!r} ({what}, event {doc.seq}, sha256 {doc.sha256[:12]}…): {wrong}")
    for slip in issued_slips(session, dossier_id):
        wrong = blobs.check(slip["sha256"], slip["size"])
        if wrong:
            problems.append(f"slip {slip['slip']} {slip['number']} (event {slip['seq']}): {wrong}")
    return problems


def record_slip(runtime: Runtime, officer: Officer, dossier_id: int, kind: str, as_of: int, number: str,
                pdf: bytes, blobs: BlobStore) -> DossierState:
    """`slip_issued`: the PDF stored by its hash and named in the chain, once per distinct slip (printing the
    same slip again gives the same bytes and records nothing new: callers check `issued_slips` first)."""
    sha = digest(pdf)

    def body(work: Any) -> None:
        if blobs.put(pdf) != sha:
            from ..errors import Conflict

            raise Conflict("blob_mismatch", "the stored slip differs from the one rendered")
        runtime.emit(work, SlipIssued(slip=kind, as_of=as_of, number=number, size=len(pdf), sha256=sha))

    return runtime._dossier_command("issue_slip", officer, dossier_id, None, body)


def issued_slips(session: Session, dossier_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(CaseEventRow.seq, CaseEventRow.at, CaseEventRow.actor, CaseEventRow.payload)
                           .where(CaseEventRow.dossier_id == dossier_id, CaseEventRow.type == "slip_issued")
                           .order_by(CaseEventRow.seq)).all()
    out = []
    for seq, at, actor, payload in rows:
        p = parse_as(SlipIssued, payload)
        out.append({"seq": seq, "at": at, "actor": actor, "slip": p.slip, "as_of": p.as_of, "number": p.number,
                    "size": p.size, "sha256": p.sha256})
    return out
