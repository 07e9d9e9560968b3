"""Assemble the engine from settings: one object that owns the database, caches and runtime.

The API's app factory, the CLI and the tests build a Landflow and pass it down explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config.organisation import Organisation, load_organisation
from config.settings import Settings

from .audit import AttemptGate
from .calendar import WorkingCalendar
from .certificates import Trust
from .clock import Clock, SystemClock
from .org import DirectoryCache, seed_organisation
from .papers.blobs import FolderBlobStore
from .runtime import Runtime, RuntimeSettings
from .runtime.succession import SuccessorLookup
from .runtime.workflow import ProcedureCache, WorkflowCache
from .store import Database


@dataclass
class Landflow:
    settings: Settings
    db: Database
    calendar: WorkingCalendar
    clock: Clock
    directory: DirectoryCache
    procedures: ProcedureCache
    workflows: WorkflowCache
    runtime: Runtime
    blobs: FolderBlobStore
    attempts: AttemptGate = field(default_factory=AttemptGate)  # unseen-target attempts written (engine/audit.py)

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings, clock: Clock | None = None, db: Database | None = None) -> Landflow:
    db = db or Database(settings.database_url, busy_timeout=settings.sqlite_busy_seconds)
    calendar = WorkingCalendar.from_settings(settings.office_hours, settings.timezone, settings.calendar_file)
    clock = clock or SystemClock()
    directory = DirectoryCache(db)
    procedures = ProcedureCache()
    workflows = WorkflowCache(settings.workflow_cache)
    runtime = Runtime(
        db, directory, calendar, clock,
        RuntimeSettings(settings.sla_overrides, settings.remote_extension, settings.transitional_clock,
                        signature_window=settings.signature_window,
                        max_workflow_data=settings.max_workflow_data_bytes,
                        trust=Trust(roots_path=settings.trust_roots, crl=settings.crl, ocsp=settings.ocsp,
                                    ed25519_keys=settings.ed25519_keys)),
        procedures, workflows, SuccessorLookup(settings.organisation_dir),
    )
    return Landflow(settings, db, calendar, clock, directory, procedures, workflows, runtime,
                    FolderBlobStore(settings.blob_dir), AttemptGate(settings.unseen_attempts))


def load_bundled_organisation(settings: Settings) -> Organisation:
    return load_organisation(settings.organisation_dir)


def seed(lf: Landflow, org: Organisation, with_officers: bool) -> None:
    with lf.db.write() as s:
        seed_organisation(s, org, org.officers if with_officers else ())
    lf.directory.refresh()


def bundled_procedure_files(root: Path) -> list[tuple[Path, list[Path]]]:
    """Every BPMN under workflows/, with the DMN files beside it that share its stem; the fragments
    (workflows/fragments/) first, since the procedures calling them bind to them at deploy."""
    out = []
    for bpmn in sorted(root.glob("**/*.bpmn"), key=lambda p: (p.parent.name != "fragments", str(p))):
        dmns = sorted(bpmn.parent.glob(f"{bpmn.stem}*.dmn"))
        out.append((bpmn, dmns))
    return out
