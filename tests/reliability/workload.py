"""Client threads driving land_transfer dossiers over HTTP while the test breaks things (kills the
server, stops the database), and the check that every acknowledged command is in the history.

Each thread drives its own dossiers, one command at a time, always with If-Match (the version it just
read): open, claim, complete (signing update_register), sometimes release, sometimes transfer to
another branch and back. A 2xx is an acknowledgement: the response's `last_seq` names the event it
wrote (no one else writes to that dossier: no scheduler runs), so after the storm the event at that
seq must exist with that type and actor. A connection error is an unknown outcome — the command may or
may not have been applied — and the thread simply reads the dossier again.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from engine.history import verify
from engine.store import CaseEventRow, DossierRow
from tests.support.live_server import Http, Reply

from .conftest import DemoDatabase
from .land import STEP_OFFICER, Signer, is_problem, open_body, open_items

OTHER_BRANCH = {"CN-KV01": "CN-KV12", "CN-KV12": "CN-KV01"}
BRANCH_STEPS = {"check_rights", "send_form19", "update_register"}
OFFICERS = ("desk.haichau", "branch.haichau", "tax.haichau", "branch.bengiang", "auditor")


@dataclass(frozen=True)
class Ack:
    dossier: int
    seq: int
    event: str
    actor: str


@dataclass
class Tally:
    acks: list[Ack] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    unknown: int = 0  # connection errors: outcome not known to the client
    unexpected: list[str] = field(default_factory=list)
    bad_problems: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def operations(self) -> int:
        return sum(self.statuses.values()) + self.unknown


class Workload:
    def __init__(self, base: str, signer: Signer, threads: int, allowed: set[int], seed: int = 7):
        self.http = Http(base, timeout=30)
        self.signer = signer
        self.threads = threads
        self.allowed = allowed
        self.seed = seed
        self.tally = Tally()
        self.tokens: dict[str, str] = {}
        self._stop = threading.Event()
        self._pool: list[threading.Thread] = []

    # -- control ------------------------------------------------------------------------------------------
    def sign_in(self) -> None:
        for username in OFFICERS:
            self.tokens[username] = self.http.sign_in(username)

    def start(self) -> None:
        if not self.tokens:
            self.sign_in()
        self._stop.clear()
        self._pool = [threading.Thread(target=self._thread, args=(n,), daemon=True) for n in range(self.threads)]
        for t in self._pool:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._pool:
            t.join(timeout=120)
            assert not t.is_alive(), "a client thread hung"

    # -- one thread ---------------------------------------------------------------------------------------
    def _send(self, method: str, path: str, **kw: Any) -> Reply | None:
        try:
            reply = self.http.request(method, path, **kw)
        except OSError:
            with self.tally.lock:
                self.tally.unknown += 1
            time.sleep(0.05)
            return None
        with self.tally.lock:
            self.tally.statuses[reply.status] += 1
            if reply.status not in self.allowed:
                self.tally.unexpected.append(f"{method} {path}: {reply.status} {reply.body[:200]!r}")
            if reply.status >= 400 and not is_problem(reply):
                self.tally.bad_problems += 1
        if reply.status == 503:
            time.sleep(0.1)
        return reply

    def _ack(self, reply: Reply, event: str, actor: str) -> None:
        body = reply.json
        with self.tally.lock:
            self.tally.acks.append(Ack(body["id"], body["last_seq"], event, actor))

    def _thread(self, n: int) -> None:
        rng = random.Random(self.seed * 100 + n)
        mine: list[int] = []
        counter = 0
        while not self._stop.is_set():
            if len(mine) < 3 or rng.random() < 0.05:
                counter += 1
                reply = self._send("POST", "/api/v1/dossiers", token=self.tokens["desk.haichau"],
                                   json_body=open_body(n * 100_000 + counter))
                if reply is not None and reply.status == 201:
                    self._ack(reply, "opened", "desk.haichau")
                    mine.append(reply.json["id"])
                continue
            dossier = rng.choice(mine)
            seen = self._send("GET", f"/api/v1/dossiers/{dossier}", token=self.tokens["auditor"])
            if seen is None or seen.status != 200:
                continue
            items = open_items(seen.json)
            if not items:
                mine.remove(dossier)  # finished
                continue
            item = items[0]
            self._act(rng, seen, item)

    def _act(self, rng: random.Random, seen: Reply, item: dict[str, Any]) -> None:
        dossier = seen.json
        actor = item["assignee"] or ("branch.bengiang" if item["unit"] == "CN-KV12" else STEP_OFFICER[item["step"]])
        headers = {"If-Match": seen.headers["etag"]}
        dice = rng.random()
        path = f"/api/v1/work-items/{item['id']}"
        body: dict[str, Any] | None = None
        if item["state"] == "claimed" and dice < 0.2:
            action, event = "release", "released"
        elif item["state"] == "ready" and dice < 0.3:
            action, event = "claim", "claimed"
        elif item["step"] in BRANCH_STEPS and dice < 0.4:
            action, event = "transfer", "transferred"
            body = {"to_unit": OTHER_BRANCH[item["unit"]], "reason": "chuyển chi nhánh đúng địa bàn"}
        else:
            action, event = "complete", "completed"
            body = self.signer.body(actor, dossier["code"], item)
        reply = self._send("POST", f"{path}/{action}", token=self.tokens[actor], json_body=body, headers=headers)

        if reply is not None and reply.status == 200:
            self._ack(reply, event, actor)


def missing_acks(db: DemoDatabase, acks: list[Ack]) -> list[Ack]:
    """The acknowledged commands whose event is not where the acknowledgement said."""
    lf = db.engine()
    missing: list[Ack] = []
    try:
        with lf.db.read() as s:
            for ack in acks:
                row = s.execute(select(CaseEventRow.type, CaseEventRow.actor).where(
                    CaseEventRow.dossier_id == ack.dossier, CaseEventRow.seq == ack.seq)).first()
                if row is None or (row.type, row.actor) != (ack.event, ack.actor):
                    missing.append(ack)
    finally:
        lf.close()
    return missing


def unverified_dossiers(db: DemoDatabase) -> tuple[int, list[tuple[int, list[str]]]]:
    """engine.history.verify on every dossier: (how many, the ones that fail with their problems)."""
    lf = db.engine()
    bad: list[tuple[int, list[str]]] = []
    try:
        with lf.db.read() as s:
            ids = list(s.scalars(select(DossierRow.id).order_by(DossierRow.id)))
        for did in ids:
            with lf.db.read() as s:
                result = verify(s, lf.procedures, did)
            if not result.ok:
                bad.append((did, result.problems))
    finally:
        lf.close()
    return len(ids), bad
