"""The decision document an officer signs before completing a `signed` step (engine/signatures.py).

A client cannot be left to rebuild the document itself: the engine normalises the form data
(`"50"` → `50.0` for a number field, `"yes"` → `true`) and the document holds the item's ordinal and
the dossier's code, which the client may not know. So the engine answers with the exact bytes it will
check: the same policy as `complete` (only the officer who may complete the item gets a document),
the same form check, the same normalisation. Reading it changes nothing; a refused read is recorded
in the dossier's history like a refused command (`action_refused`, action `prepare_decision`), since
asking for another unit's decision is the same attempt as completing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ..clock import Clock
from ..definitions.forms import clean_submission
from ..errors import CommandRefused, Conflict, Invalid, NotFound
from ..jsoncanon import iso, parse_iso
from ..org import Officer
from ..policy import check_item_action
from ..signatures import CLOCK_SKEW, decision_document
from ..store import Database, DossierRow, WorkItemRow
from .context import Rules
from .decide import check
from .refusals import refusal_of
from .state import state_from_rows
from .workflow import ProcedureCache

RecordRefusal = Callable[[str, Officer, int | None, int | None, str | None, CommandRefused], None]

ITEM = WorkItemRow.__table__
DOSSIER = DossierRow.__table__


@dataclass(frozen=True)
class DecisionDraft:
    dossier_id: int
    dossier_code: str
    item_id: int
    item: int  # the item's ordinal in its dossier
    step: str
    step_name: str
    signed: bool  # the step needs a signature; when False, `complete` ignores one
    officer: str
    public_key: str | None  # the officer's registered key; None: `complete` will refuse no_public_key
    signed_at: str
    valid_until: datetime
    data: dict[str, Any]
    document: str  # canonical JSON; sign its UTF-8 bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.document.encode("utf-8")).hexdigest()


def prepare_decision(db: Database, procedures: ProcedureCache, rules: Rules, clock: Clock,
                     record_refusal: RecordRefusal, officer: Officer, item_id: int, data: Any,
                     signed_at: str | None = None) -> DecisionDraft:
    """The document `officer` must sign to complete work item `item_id` with `data`.

    `signed_at` is the instant the signer will put in the signature (default: now); it must be the
    exact spelling `2026-02-05T02:00:00.000000Z` and within the signature window.
    """
    dossier_id: int | None = None
    ordinal: int | None = None
    step: str | None = None
    try:
        with db.read() as s:
            conn = s.connection()
            found = conn.execute(select(ITEM.c.dossier_id, ITEM.c.ordinal, ITEM.c.step)
                                 .where(ITEM.c.id == item_id)).first()
            if found is None:
                raise NotFound("not_found", f"work item {item_id} does not exist")
            dossier_id, ordinal, step = found
            row = conn.execute(select(DOSSIER).where(DOSSIER.c.id == dossier_id)).one()
            items = conn.execute(select(ITEM).where(ITEM.c.dossier_id == dossier_id,
                                                    ITEM.c.state.in_(("ready", "claimed"))))
            state = state_from_rows(row, items)
            item = state.items.get(ordinal)
            if item is None:
                raise Conflict("not_ready", "the item is no longer open")
            check(check_item_action("complete", officer, state, item))
            procedure = procedures.get(conn, state.procedure_version_id).meta
            meta = procedure.steps[item.step]
        if not isinstance(data, dict):
            raise Invalid("invalid_data", "data must be an object")
        clean, problems = clean_submission(list(meta.form), dict(data))
        if problems:
            raise Invalid("invalid_data", "the form is not filled in correctly: " + "; ".join(problems),
                      problems=problems)
        refusal_of(procedure, meta, clean)  # a refusal without its reason: refused before anything is signed
        now = clock.now()
        when = signed_at if signed_at is not None else iso(now)
        try:
            instant = parse_iso(when)
        except ValueError:
            raise Invalid("bad_signature", "signed_at must be like 2026-02-05T02:00:00.000000Z") from None
        window = timedelta(seconds=rules.settings.signature_window)
        if instant > now + CLOCK_SKEW:
            raise Invalid("bad_signature", "signed_at is in the future")
        if now - instant > window:
            raise Invalid("signature_expired",
                         f"signed_at is older than {rules.settings.signature_window} seconds")
        document = decision_document(state.code, item.step, item.ordinal, clean, officer.username, when)
        return DecisionDraft(state.id, state.code, item_id, item.ordinal, item.step, item.name, meta.signed,
                             officer.username, officer.public_key, when, instant + window, clean,
                             document.decode("utf-8"))
    except CommandRefused as err:
        err.dossier_id = dossier_id
        record_refusal("prepare_decision", officer, dossier_id, ordinal, step, err)
        raise
