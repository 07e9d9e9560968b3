"""The authorization matrix, generated from the policy table (engine/policy.py RULES): every role of
the organisation × every action × an officer of the owning unit and of another unit, plus no token,
a garbage, expired or revoked token, a deactivated officer's token, and the auditor. Only the cases
the rules allow succeed; every refused case is recorded (an `action_refused` event in the dossier's
chain, or in the audit log for acts on no dossier and for acts on a dossier the officer cannot read —
answered 404 as a missing id —, each with an `unauthorised_attempt` signal);
requests without a valid token are 401 and go to the server log (nothing to attribute them to).

The oracle below is written from the RULES sentences, not from the policy functions, so a policy
that drifts from its own description fails here. Real Flask app, SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from api.app import create_app
from engine import accounts
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.org import add_officer
from engine.policy import ACCOUNTABILITY_ACTIONS, DOSSIER_ACTIONS, ITEM_ACTIONS, RULES
from engine.store import (
    ApiTokenRow,
    AuditEntryRow,
    CaseEventRow,
    DossierRow,
    OfficerRow,
    ProcedureVersionRow,
    SignalRow,
    WorkItemRow,
)
from tests.conftest import local
from tests.support.bpmn_builder import small_procedure
from tests.support.figures import Figures
from tests.support.files import pdf

from .conftest import DemoDatabase
from .land import STEP_DATA, open_body

PROBLEM = "application/problem+json"
OWNER = "CN-KV01"  # the registration branch serving Hải Châu (20242): check_rights is its step
DESK = "20242"
UNITS = (OWNER, "CN-KV12", DESK, "20710")  # owning branch, another branch, receiving desk, another desk
CLAIMANT = f"m.registration_branch.{OWNER.lower()}"


def allowed(action: str, role: str, unit: str) -> bool:
    """RULES, read by a person: who may do `action` on a land_transfer dossier received at 20242 whose
    check_rights step (registration_branch, CN-KV01) is open."""
    step_owner = role == "registration_branch" and unit == OWNER
    desk = role == "one_stop_desk" and unit == DESK
    return {
        "open": role == "one_stop_desk",  # at any desk (boundary-free)
        "claim": step_owner,
        "release": step_owner,  # the item is claimed by CLAIMANT, this very officer
        "complete": step_owner,
        "return": step_owner,
        "transfer": step_owner,
        "request_supplement": step_owner,
        "receive_supplement": desk,
        "apologise": unit == OWNER and role in ("registration_branch", "unit_head"),
        "stop": desk,
        "cancel": desk or role == "supervisor",
        "deploy": role == "supervisor",
        "add_document": desk or step_owner,
        "issue_slip": desk or (unit == OWNER and role not in ("auditor", "inspector")),  # desk, or unit holding a step
        "validate": role == "supervisor",
    }[action]


def reads_the_dossier(role: str, unit: str) -> bool:
    """docs/api.md "Roles and read scopes": auditors, inspectors and supervisors read every dossier; anyone else
    their unit touched — here the receiving desk's commune (20242) and the branch holding check_rights."""
    return role in ("auditor", "inspector", "supervisor") or unit in (DESK, OWNER)


@dataclass(frozen=True)
class Target:
    state: str  # ready | late | claimed | supplement | none
    own: str  # the unit the rule is about; "other" is the unit of the same kind that is not it
    other: str


TARGETS = {
    **{a: Target("claimed" if a == "release" else "ready", OWNER, "CN-KV12") for a in ITEM_ACTIONS},
    "receive_supplement": Target("supplement", DESK, "20710"),
    "apologise": Target("late", OWNER, "CN-KV12"),  # an apology is only for a dossier due soon or late
    "stop": Target("ready", DESK, "20710"),
    "cancel": Target("ready", DESK, "20710"),
    "open": Target("none", DESK, "20710"),
    "deploy": Target("none", DESK, "20710"),
    "add_document": Target("ready", OWNER, "CN-KV12"),
    "issue_slip": Target("ready", OWNER, "CN-KV12"),
    "validate": Target("none", DESK, "20710"),
}

REASON = "lý do ghi rõ"
BODIES: dict[str, Any] = {
    "claim": None, "release": None, "complete": {"data": STEP_DATA["check_rights"]},
    "return": {"to_step": "receive", "reason": REASON}, "transfer": {"to_unit": "CN-KV12", "reason": REASON},
    "request_supplement": {"reason": REASON}, "receive_supplement": {"note": "đã nhận bổ sung"},
    "apologise": {"reason": REASON, "new_due": "2027-06-30T10:00:00+07:00"}, "stop": {"reason": REASON},
    "cancel": {"reason": REASON}, "open": open_body(1),
    "move_to_step": {"to_step": "receive", "reason": REASON},  # supervisors, out of a procedure incident
    # the document to sign before completing (a POST that stores nothing, but only the officer who may
    # complete the item gets it: an attempt by anyone else is refused and recorded like the others)
    "decision": {"data": STEP_DATA["check_rights"]},
}
ITEM_PATHS = {*ITEM_ACTIONS, "decision"}


class Matrix:
    """The app, the engine, the matrix officers (one per role and unit) and their tokens."""

    def __init__(self, lf: Landflow, client: FlaskClient):
        self.lf, self.client = lf, client
        self.roles = sorted(lf.directory.get().roles)
        now = lf.clock.now()
        self.tokens: dict[str, str] = {}
        with lf.db.write() as s:  # one transaction for the 48 officers and their tokens
            for role in self.roles:
                for unit in UNITS:
                    name = self.name(role, unit)
                    add_officer(s, name, name, unit, [role])
                    self.tokens[name] = secrets.token_urlsafe(32)
            for demo in ("auditor", "desk.haichau", "branch.haichau"):
                self.tokens[demo] = secrets.token_urlsafe(32)
            s.add_all(ApiTokenRow(token_hash=accounts.token_digest(t), username=u, created_at=now,
                                  expires_at=now + timedelta(hours=8)) for u, t in self.tokens.items())
        lf.directory.refresh()

    @staticmethod
    def name(role: str, unit: str) -> str:
        return f"m.{role}.{unit.lower()}"

    def officer(self, username: str) -> Any:
        return self.lf.directory.get().officers[username]

    def prepare(self, state: str) -> tuple[int, int]:
        """A dossier in `state`; returns (dossier id, check_rights item id)."""
        rt = self.lf.runtime
        desk = self.officer("desk.haichau")
        clock, now = self.lf.clock, self.lf.clock.now()
        assert isinstance(clock, FixedClock)
        if state == "late":  # received a month ago (the tokens are checked only at `now`)
            clock.set(now - timedelta(days=30))
        st = rt.open(desk, "land_transfer", DESK, open_body(0)["applicant"], {"sheet": "1"})
        (receive,) = st.open_items()
        st = rt.complete(desk, receive.id, STEP_DATA["receive"])
        if state == "late":
            clock.set(now)
        (item,) = st.open_items()
        assert item.step == "check_rights" and item.unit == OWNER
        if state == "claimed":
            rt.claim(self.officer(CLAIMANT), item.id)
        elif state == "supplement":
            rt.request_supplement(self.officer("branch.haichau"), item.id, "thiếu hợp đồng công chứng")
        assert item.id is not None
        return st.id, item.id

    def call(self, action: str, token: str | None, dossier: int, item: int) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if action == "open":
            return self.client.post("/api/v1/dossiers", json=BODIES["open"], headers=headers)
        if action in ("deploy", "validate"):
            path = "/api/v1/procedures" + ("/validate" if action == "validate" else "")
            return self.client.post(path, data=small_procedure().to_xml(), content_type="application/xml",
                                    headers=headers)
        if action == "add_document":
            return self.client.post(f"/api/v1/dossiers/{dossier}/documents", headers=headers,
                                    content_type="multipart/form-data",
                                    data={"file": (io.BytesIO(pdf()), "don.pdf"), "paper": "don_mau_18"})
        if action == "issue_slip":
            return self.client.post(f"/api/v1/dossiers/{dossier}/slips/control", headers=headers)
        path = action.replace("_", "-")
        url = f"/api/v1/work-items/{item}/{path}" if action in ITEM_PATHS else f"/api/v1/dossiers/{dossier}/{path}"
        body = BODIES[action]
        return self.client.post(url, json=body, headers=headers) if body is not None \
            else self.client.post(url, headers=headers)

    def refusals_of(self, username: str, dossier: int | None) -> int:
        """Recorded refusals of this officer: in the dossier's chain, or in the audit log; with their signals."""
        with self.lf.db.read() as s:
            if dossier is not None:
                events = s.scalar(select(func.count()).select_from(CaseEventRow).where(
                    CaseEventRow.dossier_id == dossier, CaseEventRow.type == "action_refused",
                    CaseEventRow.actor == username))
            else:
                events = s.scalar(select(func.count()).select_from(AuditEntryRow).where(
                    AuditEntryRow.type == "action_refused", AuditEntryRow.actor == username))
            signals = s.scalar(select(func.count()).select_from(SignalRow).where(
                SignalRow.kind == "unauthorised_attempt", SignalRow.officer == username,
                SignalRow.dossier_id == dossier if dossier is not None else SignalRow.dossier_id.is_(None)))
        assert events == signals, (username, dossier, events, signals)
        return int(events or 0)

    def version(self, dossier: int) -> tuple[int, list[tuple[Any, ...]]]:
        with self.lf.db.read() as s:
            version = s.scalar(select(DossierRow.version).where(DossierRow.id == dossier))
            items = s.execute(select(WorkItemRow.ordinal, WorkItemRow.state, WorkItemRow.unit, WorkItemRow.assignee)
                              .where(WorkItemRow.dossier_id == dossier).order_by(WorkItemRow.ordinal)).all()
        return int(version or 0), [tuple(i) for i in items]


@pytest.fixture
def matrix(demo_db: DemoDatabase) -> Iterator[Matrix]:
    lf = build(demo_db.settings(), clock=FixedClock(local(2026, 3, 2, 8, 0)))
    try:
        yield Matrix(lf, create_app(lf).test_client())
    finally:
        lf.close()


def test_the_matrix_covers_the_policy_table() -> None:
    # the acts on reviews and absences touch no dossier: tests/engine/test_reviews.py and test_absences.py
    assert set(RULES) - set(ACCOUNTABILITY_ACTIONS) == set(ITEM_ACTIONS) | set(DOSSIER_ACTIONS) | {
        "open", "deploy", "validate"} == set(TARGETS)


def test_only_the_rules_let_anyone_act(matrix: Matrix, figures: Figures, caplog: pytest.LogCaptureFixture) -> None:
    """One test per database over every action (the set-up, 48 officers on a fresh database, is shared)."""
    caplog.set_level(logging.INFO, logger="landflow.api")
    for action in sorted(set(RULES) - set(ACCOUNTABILITY_ACTIONS)):
        check_action(matrix, action, figures, caplog)


def check_action(matrix: Matrix, action: str, figures: Figures, caplog: pytest.LogCaptureFixture) -> None:
    target = TARGETS[action]
    on_dossier = target.state != "none"
    dossier, item = matrix.prepare(target.state) if on_dossier else (0, 0)
    before = matrix.version(dossier) if on_dossier else None
    tried = allowed_count = 0
    for role in matrix.roles:
        for unit in (target.own, target.other):
            username = matrix.name(role, unit)
            expected = allowed(action, role, unit)
            if expected:  # a fresh dossier in the same state: the shared one must stay untouched
                d, i = matrix.prepare(target.state) if on_dossier else (0, 0)
                resp = matrix.call(action, matrix.tokens[username], d, i)
                assert resp.status_code in (200, 201), (action, username, resp.status_code, resp.json)
                allowed_count += 1
            else:
                # out of the officer's read scope: 404 as for a missing id, recorded in the audit log and
                # the officer's signals, never in that dossier's chain (api/unseen.py)
                hidden = on_dossier and not reads_the_dossier(role, unit)
                where = dossier if on_dossier and not hidden else None
                recorded = matrix.refusals_of(username, where)
                on_chain = matrix.refusals_of(username, dossier) if hidden else 0
                resp = matrix.call(action, matrix.tokens[username], dossier, item)
                assert resp.status_code in ((404,) if hidden else (403, 409)), \
                    (action, username, resp.status_code, resp.json)
                assert resp.mimetype == PROBLEM and resp.json["code"] == "not_found" if hidden else resp.json["code"]
                assert matrix.refusals_of(username, where) == recorded + 1, (action, username, "refusal not recorded")
                if hidden:
                    assert matrix.refusals_of(username, dossier) == on_chain, (action, username, "on the chain")
                    assert unit not in resp.json["detail"] and OWNER not in resp.json["detail"]
                if role == "auditor":
                    assert resp.json["code"] == "read_only"
            tried += 1
    assert allowed_count >= 1, f"nobody may {action}: the matrix or the rules are wrong"
    # the demo auditor (DNG) too, and tokens that do not stand for anyone (any more)
    resp = matrix.call(action, matrix.tokens["auditor"], dossier, item)
    assert resp.status_code == 403 and resp.json["code"] == "read_only", resp.json
    # the tokens of someone the rules would let act, once they expire, are revoked, or the account is disabled
    role, unit = next((r, u) for r in matrix.roles for u in (target.own, target.other) if allowed(action, r, u))
    rightful = matrix.name(role, unit)
    now = matrix.lf.clock.now()
    expired = accounts.issue_token(matrix.lf.db, rightful, now - timedelta(hours=9), timedelta(hours=8))[0]
    revoked = accounts.issue_token(matrix.lf.db, rightful, now, timedelta(hours=8))[0]
    accounts.revoke_token(matrix.lf.db, revoked, now)
    ghost = f"m.ghost.{action.replace('_', '-')}"
    accounts.add_account(matrix.lf.db, accounts.CLI_ACTOR, now, ghost, ghost, unit, [role], None)
    deactivated = accounts.issue_token(matrix.lf.db, ghost, now, timedelta(hours=8))[0]
    accounts.set_active(matrix.lf.db, accounts.CLI_ACTOR, now, ghost, False)
    caplog.clear()
    for label, token in (("no token", None), ("garbage", "A" * 43), ("expired", expired), ("revoked", revoked),
                         ("deactivated", deactivated)):
        resp = matrix.call(action, token, dossier, item)
        assert resp.status_code == 401 and resp.mimetype == PROBLEM, (action, label, resp.status_code)
        assert resp.json["code"] in ("unauthenticated", "invalid_token")
        tried += 1
    logged = [r for r in caplog.records if r.getMessage().startswith(("rejected bearer token", "no bearer token"))]
    assert len(logged) == 5, action
    if on_dossier:  # nothing any refused caller did moved the dossier
        assert matrix.version(dossier) == before, action
        with matrix.lf.db.read() as s:
            actors = set(s.scalars(select(CaseEventRow.actor).where(CaseEventRow.dossier_id == dossier,
                                                                    CaseEventRow.type == "action_refused")))
        assert "m.ghost" not in " ".join(actors)  # 401s are not attributed to anyone
    figures.add("operations", tried + 1)
    figures.add("refusals_checked", tried + 1 - allowed_count)


def fingerprint(lf: Landflow) -> dict[str, Any]:
    """What an auditor must not be able to change (refusal records aside)."""
    with lf.db.read() as s:
        return {
            "dossiers": s.execute(select(DossierRow.id, DossierRow.version, DossierRow.status)
                                  .order_by(DossierRow.id)).all(),
            "items": s.execute(select(WorkItemRow.id, WorkItemRow.state, WorkItemRow.unit, WorkItemRow.assignee)
                               .order_by(WorkItemRow.id)).all(),
            "events": s.execute(select(CaseEventRow.dossier_id, CaseEventRow.seq, CaseEventRow.hash)
                                .where(CaseEventRow.type != "action_refused").order_by(CaseEventRow.id)).all(),
            "procedures": s.scalar(select(func.count()).select_from(ProcedureVersionRow)),
            "officers": s.execute(select(OfficerRow.username, OfficerRow.active, OfficerRow.roles,
                                         OfficerRow.password_hash).order_by(OfficerRow.username)).all(),
            "tokens": s.execute(select(ApiTokenRow.token_hash, ApiTokenRow.revoked_at)
                                .where(ApiTokenRow.username != "auditor").order_by(ApiTokenRow.token_hash)).all(),
        }


# Session endpoints are the auditor's own (signing in and out is not changing the records); validate
# stores nothing (it refuses an auditor too: test_only_the_rules_let_anyone_act). Everything else that is
# not a GET must refuse an auditor.
NOT_MUTATING = {("post", "/api/v1/auth/token"), ("delete", "/api/v1/auth/token"), ("post", "/api/v1/auth/revoke"),
                ("post", "/api/v1/procedures/validate"),
                # the citizen's rating takes no token at all: its proof is the receipt (tests/api/test_lookup.py)
                ("post", "/api/v1/public/rating")}


def test_auditor_tokens_change_nothing(matrix: Matrix, figures: Figures) -> None:
    spec = matrix.client.get("/api/v1/openapi.json").json
    operations = [(method, path) for path, ops in spec["paths"].items() for method in ops
                  if method in ("post", "put", "patch", "delete") and (method, path) not in NOT_MUTATING]
    assert len(operations) >= 16
    ready = matrix.prepare("ready")
    claimed = matrix.prepare("claimed")
    pending = matrix.prepare("supplement")
    officer_bodies: dict[str, Any] = {
        "/api/v1/officers": {"username": "mole", "name": "Mole", "unit": DESK, "roles": ["admin"],
                             "password": "long-enough-1"},
        "/api/v1/officers/{username}/password": {"password": "long-enough-2"},
    }
    calls: dict[tuple[str, str], Callable[[str], Any]] = {}
    for method, path in operations:
        tail = path.rsplit("/", 1)[-1].replace("-", "_")
        if path.startswith("/api/v1/work-items/"):
            d, i = claimed if tail == "release" else ready
            calls[(method, path)] = lambda tok, a=tail, d=d, i=i: matrix.call(a, tok, d, i)
        elif path == "/api/v1/dossiers/{dossier_id}/documents":
            calls[(method, path)] = lambda tok, d=ready[0]: matrix.call("add_document", tok, d, 0)
        elif path == "/api/v1/dossiers/{dossier_id}/slips/{kind}":
            calls[(method, path)] = lambda tok, d=ready[0]: matrix.call("issue_slip", tok, d, 0)
        elif path.startswith("/api/v1/dossiers/{dossier_id}/"):
            d, i = pending if tail == "receive_supplement" else ready
            calls[(method, path)] = lambda tok, a=tail, d=d, i=i: matrix.call(a, tok, d, i)
        elif path == "/api/v1/dossiers":
            calls[(method, path)] = lambda tok: matrix.call("open", tok, 0, 0)
        elif path == "/api/v1/procedures":
            calls[(method, path)] = lambda tok: matrix.call("deploy", tok, 0, 0)
        elif path.startswith("/api/v1/officers"):
            url = path.replace("{username}", "desk.haichau")
            body = officer_bodies.get(path)
            calls[(method, path)] = lambda tok, url=url, body=body: matrix.client.open(
                url, method="POST", json=body, headers={"Authorization": f"Bearer {tok}"})
        elif path == "/api/v1/me/certificate":  # an auditor signs nothing: refused, in the audit log
            calls[(method, path)] = lambda tok, url=path: matrix.client.open(
                url, method="PUT", json={"certificate": "-----BEGIN CERTIFICATE-----"},
                headers={"Authorization": f"Bearer {tok}"})
        elif path.startswith(("/api/v1/reviews", "/api/v1/absences")):  # acts on no dossier (audit log)
            url = path.replace("{review_id}", "1")
            body = {"/api/v1/reviews": {"dossier": ready[0], "seq": 1, "kind": "returned"},
                    "/api/v1/reviews/{review_id}/explanation": {"explanation": "giải trình"},
                    "/api/v1/reviews/{review_id}/verdict": {"verdict": "shirking_confirmed", "reason": "lý do"},
                    "/api/v1/absences": {"officer": "land.haichau", "deputy": "desk.haichau", "from": "2026-03-02",
                                         "to": "2026-03-03", "reason": "nghỉ"}}[path]
            calls[(method, path)] = lambda tok, url=url, body=body: matrix.client.open(
                url, method="POST", json=body, headers={"Authorization": f"Bearer {tok}"})
        elif path.startswith("/api/v1/procedures/{key}/") and tail in ("drafts", "whatif"):  # a supervisor's
            url, verb = path.replace("{key}", "land_transfer"), method.upper()
            calls[(method, path)] = lambda tok, url=url, verb=verb: matrix.client.open(
                url, method=verb, data=b"<definitions/>", content_type="application/xml",
                headers={"Authorization": f"Bearer {tok}"})
        elif "migrations" in path:  # moving running dossiers: supervisors only
            url = path.replace("{key}", "land_transfer").replace("{run_id}", "1")
            body = {"size": 1} if tail == "batch" else {"from_version": 1, "to_version": 1}
            calls[(method, path)] = lambda tok, url=url, body=body: matrix.client.post(
                url, json=body, headers={"Authorization": f"Bearer {tok}"})
        elif path == "/api/v1/messages":  # another agency's answer: an auditor delivers none (decision 0160)
            with matrix.lf.db.read() as s:
                code = s.scalar(select(DossierRow.code).where(DossierRow.id == ready[0]))
            body = {"dossier": code, "message": "tax_notice", "data": {}, "key": "auditor-1"}
            calls[(method, path)] = lambda tok, body=body: matrix.client.post(
                "/api/v1/messages", json=body, headers={"Authorization": f"Bearer {tok}"})
    missing = [op for op in operations if op not in calls]
    assert not missing, f"new mutating operations need a request here: {missing}"
    before = fingerprint(matrix.lf)
    for (method, path), call in calls.items():
        resp = call(matrix.tokens["auditor"])
        assert resp.status_code == 403 and resp.mimetype == PROBLEM, (method, path, resp.status_code, resp.json)
    assert fingerprint(matrix.lf) == before
    # every one of those attempts is on record, in a dossier's chain or in the audit log
    with matrix.lf.db.read() as s:
        on_dossiers = s.scalar(select(func.count()).select_from(CaseEventRow).where(
            CaseEventRow.actor == "auditor", CaseEventRow.type == "action_refused"))
        in_audit = s.scalar(select(func.count()).select_from(AuditEntryRow).where(
            AuditEntryRow.actor == "auditor", AuditEntryRow.type == "action_refused"))
    assert (on_dossiers or 0) + (in_audit or 0) == len(calls)
    figures.add("operations", len(calls))
    figures.add("refusals_checked", len(calls))
