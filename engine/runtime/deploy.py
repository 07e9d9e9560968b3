"""Deploying and checking procedure files: supervisors' acts on procedures, not commands on a dossier.

A refused file changes nothing; the refusal (of the officer, or of the file with its problems) is
recorded in the audit log. A deployed version is parsed into the process's procedure cache at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from .. import audit
from ..clock import Clock
from ..definitions import DefinitionRefused, check
from ..definitions.fragment_store import database_fragments
from ..definitions.fragments import FragmentResolver
from ..definitions.lint import LintReport, lint
from ..definitions.registry import Deployed, deploy
from ..errors import CommandRefused, refused
from ..org import DirectoryCache, Officer
from ..policy import check_deploy, check_validate
from ..store import Database
from . import workflow as wfm

RecordRefusal = Callable[[str, Officer, CommandRefused], None]


def deploy_procedure(db: Database, directory: DirectoryCache, clock: Clock, procedures: wfm.ProcedureCache,
                     record_refusal: RecordRefusal, officer: Officer, bpmn: bytes, dmns: list[bytes] | None = None,
                     max_bytes: int = 2_000_000, effective_from: date | None = None) -> Deployed:
    """Validate and store a procedure version; refused files change nothing and are recorded.
    `effective_from`: the day it takes effect (engine/definitions/versions.py)."""
    refusal = check_deploy(officer)
    if refusal is not None:
        err = refused(refusal)
        record_refusal("deploy", officer, err)
        raise err
    with db.read() as s:  # call activities bind to the fragment versions in force now
        checked, problems = check(bpmn, dmns, directory.get().step_roles(), max_bytes,
                                  fragments=database_fragments(s, clock.now()))
    if checked is None:
        audit.append(db, "deploy_refused", officer.username, officer.unit, clock.now(),
                     {"problems": len(problems), "rules": sorted({p.rule for p in problems})[:20]})
        raise DefinitionRefused(problems)
    result = deploy(db, checked, officer.username, clock.now(), effective_from)
    with db.read() as s:
        procedures.get(s, result.id)
    return result


def validate_procedure(directory: DirectoryCache, record_refusal: RecordRefusal, officer: Officer, bpmn: bytes,
                       dmns: list[bytes] | None = None, max_bytes: int = 2_000_000,
                       fragments: FragmentResolver | None = None) -> LintReport:
    """Every problem of a file, storing nothing; supervisors only (checking costs work), refusals recorded."""
    refusal = check_validate(officer)
    if refusal is not None:
        err = refused(refusal)
        record_refusal("validate", officer, err)
        raise err
    return lint(bpmn, dmns, directory.get().step_roles(), max_bytes, fragments)
