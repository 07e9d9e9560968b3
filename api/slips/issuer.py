"""Decision records issued beside the request, not inside it (docs/decisions/0172).

Rendering and sealing a decision record (WeasyPrint, then pyHanko) costs ~85 ms of CPU; inside the
completion's request it made a signed completion's answer wait for it. The completion is what is
acknowledged and durable (its `completed` event holds the signature); the record is derived from
that event and can be issued at any time after, once (`issue_decision_at` finds an issued one). So the
request hands (dossier, seq) to this process's issuer and answers; one worker thread issues in order.
What a crash loses is only the *rendering*: the dossier page and the record's URL issue a missing
record when someone asks for it (`ensure`), so no signed completion stays without its record.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bootstrap import Landflow
from engine.definitions.model import ProcedureMeta
from engine.store import CaseEventRow

from .decision import issue_decision_at, last_signed_completion, vietnamese_labels
from .results import documents_of

log = logging.getLogger(__name__)
STOP = (-1, -1)


class DecisionIssuer:
    """One per application: a queue of (dossier id, event seq) and the thread that issues them."""

    def __init__(self, app: Flask, engine: Callable[[], Landflow]) -> None:
        self._app = app
        self._engine = engine
        self._queue: queue.Queue[tuple[int, int]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.issued = 0

    def submit(self, dossier_id: int, step: str) -> None:
        """After a signed completion of `step` (already committed): issue its record soon."""
        seq = last_signed_completion(self._engine(), dossier_id, step)
        if seq is not None:
            self.submit_at(dossier_id, seq)

    def submit_at(self, dossier_id: int, seq: int) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="decision-issuer", daemon=True)
                self._thread.start()
        self._queue.put((dossier_id, seq))

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until what was submitted is issued (tests, and a clean shutdown); True when it was."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            dossier_id, seq = self._queue.get()
            try:
                if (dossier_id, seq) == STOP:
                    return
                with self._app.app_context():  # the record's words come from the pages' catalogue
                    issue_decision_at(self._engine(), dossier_id, seq, vietnamese_labels)
                self.issued += 1
            except Exception:  # noqa: BLE001 - the record is issued again when it is asked for
                log.exception("the decision record of dossier %s at event %s could not be issued", dossier_id, seq)
            finally:
                self._queue.task_done()


def issuer() -> DecisionIssuer:
    found: DecisionIssuer = current_app.extensions["landflow_decisions"]
    return found


def install(app: Flask, engine: Callable[[], Landflow]) -> DecisionIssuer:
    made = DecisionIssuer(app, engine)
    app.extensions["landflow_decisions"] = made
    return made


def ensure(lf: Landflow, dossier_id: int, seq: int) -> bytes | None:
    """The record of the signed completion at `seq`, issued now if the issuer has not done it yet (or a
    crash lost its turn); None when that event is no signed completion."""
    try:
        return issue_decision_at(lf, dossier_id, seq, vietnamese_labels)
    except Exception:  # noqa: BLE001 - a failed rendering is logged; the caller answers "not found"
        log.exception("the decision record of dossier %s at event %s could not be issued", dossier_id, seq)
        return None


def records_to_issue(session: Session, dossier_id: int, issued: list[dict[str, Any]],
                     meta: ProcedureMeta) -> list[int]:
    """The seqs of the dossier's signed completions whose decision record, or a result document their
    step declares, is not issued yet (`issued`: its issued slips): what the dossier page hands the
    issuer and links to all the same."""
    done = {(x["slip"], x["as_of"]) for x in issued}
    rows = session.execute(select(CaseEventRow.seq, CaseEventRow.step, CaseEventRow.payload).where(
        CaseEventRow.dossier_id == dossier_id, CaseEventRow.type == "completed")).all()
    out = []
    for seq, step, payload in rows:
        body = json.loads(payload) if isinstance(payload, str) else payload
        if not (isinstance(body, dict) and body.get("signature")):
            continue
        wanted = ["decision", *documents_of(meta, step or "")]
        if any((kind, seq) not in done for kind in wanted):
            out.append(seq)
    return out
