"""The organisation-wide audit over HTTP: verify page by page, tampering found and named, checkpoints
listed and checked, XES and OCEL exports that parse and hold what the raw rows say."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from datetime import date, datetime, time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import text

from api.simulation import Stats
from engine.bootstrap import Landflow
from engine.clock import FixedClock
from tests.support.by_hand import fold, instant
from tests.support.tamper import rewrite_chain

PROBLEM = "application/problem+json"
XES = "{http://www.xes-standard.org/}"


def rows(lf: Landflow, sql: str, **params: Any) -> list[Any]:
    with lf.db.engine.connect() as c:
        return list(c.execute(text(sql), params))


def refusals(lf: Landflow) -> list[tuple[str, str]]:
    """(officer, action) of the refusals in the audit log, oldest first."""
    return [(a, json.loads(p)["action"]) for a, p in rows(
        lf, "SELECT actor, payload FROM audit_log WHERE type = 'action_refused' ORDER BY seq")]


def walk(auditor: Any, limit: int) -> list[dict[str, Any]]:
    """Every page of GET /audit/verify, following X-Next-Cursor."""
    pages, query = [], {"limit": limit}
    while True:
        resp = auditor.get("/api/v1/audit/verify", query_string=query)
        assert resp.status_code == 200, resp.json
        pages.append(resp.json)
        if "X-Next-Cursor" not in resp.headers:
            return pages
        assert resp.headers["Link"].endswith('>; rel="next"')
        query = {"limit": limit, "cursor": resp.headers["X-Next-Cursor"]}


def test_verify_page_by_page_and_tampering(sign_in: Any, demo_lf: Landflow, simulated: Stats) -> None:
    lf, auditor = demo_lf, sign_in("auditor")
    ids = [r[0] for r in rows(lf, "SELECT id FROM dossier ORDER BY id")]
    n_checkpoints = rows(lf, "SELECT count(*) FROM checkpoint")[0][0]
    assert len(ids) == simulated.opened and n_checkpoints == simulated.checkpoints > 0

    pages = walk(auditor, 7)
    assert len(pages) == -(-len(ids) // 7)
    assert [p["organisation_checked"] for p in pages] == [True] + [False] * (len(pages) - 1)
    assert pages[0]["checkpoints"] == n_checkpoints
    assert [(p["first_dossier"], p["last_dossier"], p["dossiers"]) for p in pages] == [
        (ids[i], ids[min(i + 7, len(ids)) - 1], min(7, len(ids) - i)) for i in range(0, len(ids), 7)]
    assert all(p["ok"] and p["first"] is None and p["findings"] == [] and p["scope"] == "page" for p in pages)

    # an insider edits one event in place (its hash no longer matches) and rewrites another dossier's
    # chain consistently (every hash recomputed): the first is a chain finding, the second only the
    # checkpoints can see
    edited, rewritten = ids[3], ids[10]
    with lf.db.engine.begin() as c:
        c.execute(text("UPDATE case_event SET actor = 'someone.else' WHERE dossier_id = :d AND seq = 2"), {"d": edited})
    # (a field the event's kind does not have would also be a replay finding: tests/engine/test_events_history.py)
    rewrite_chain(lf.db, rewritten, lambda seq, etype, p: {**p, "limit": "P99D"} if seq == 1 else p)
    signed = rows(lf, "SELECT max(last_seq) FROM checkpoint_head WHERE dossier_id = :d", d=rewritten)[0][0]
    assert signed >= 1

    pages = walk(auditor, 7)
    findings = [f for p in pages for f in p["findings"]]
    assert [(f["layer"], f["dossier"], f["seq"]) for f in findings if f["layer"] != "checkpoint"] == [
        ("chain", edited, 2)]
    assert pages[0]["first"] == findings[0] and pages[0]["ok"] is False
    drift = [f for f in findings if f["layer"] == "checkpoint"]
    assert drift and {f["dossier"] for f in drift} == {rewritten}  # the in-place edit kept the stored hashes
    assert all("rewritten after it was signed" in f["message"] for f in drift)
    assert [p["ok"] for p in pages[1:]] == [True] * (len(pages) - 1)  # the checkpoints are on page one

    one = auditor.get("/api/v1/audit/verify", query_string={"dossier": rewritten}).json
    assert (one["scope"], one["dossiers"], one["first_dossier"], one["ok"]) == ("dossier", 1, rewritten, False)
    assert {f["layer"] for f in one["findings"]} == {"checkpoint"}  # its own chain holds: only the signed heads tell
    assert one["first"]["dossier"] == rewritten and one["first"]["seq"] >= 1
    signed_heads = rows(lf, "SELECT count(*) FROM checkpoint_head WHERE dossier_id = :d", d=rewritten)[0][0]
    assert one["checkpoints"] == signed_heads
    clean = auditor.get("/api/v1/audit/verify", query_string={"dossier": ids[0]}).json
    assert clean["ok"] and clean["findings"] == [] and clean["first"] is None
    assert auditor.get("/api/v1/audit/verify", query_string={"dossier": 10**9}).status_code == 404
    resp = auditor.get("/api/v1/audit/verify", query_string={"cursor": "bm90LWEtY3Vyc29y"})
    assert (resp.status_code, resp.json["code"]) == (400, "invalid_cursor")

    # auditors only: a supervisor is refused too, recorded, and learns nothing
    for who in ("supervisor", "desk.haichau", "head.haichau"):
        resp = sign_in(who).get("/api/v1/audit/verify", query_string={"dossier": edited})
        assert (resp.status_code, resp.mimetype, resp.json["code"]) == (403, PROBLEM, "wrong_role")
        assert "findings" not in resp.json and str(edited) not in resp.json["detail"]
    assert refusals(lf)[-3:] == [("supervisor", "verify_all"), ("desk.haichau", "verify_all"),
                            ("head.haichau", "verify_all")]


def test_checkpoints_listed_and_checked(sign_in: Any, demo_lf: Landflow, simulated: Stats) -> None:
    lf, auditor = demo_lf, sign_in("auditor")
    stored = rows(lf, "SELECT id, events, dossiers, root, record, signature FROM checkpoint ORDER BY id DESC")
    assert len(stored) == simulated.checkpoints >= 3
    listed, query = [], {"limit": 2}
    while True:
        resp = auditor.get("/api/v1/checkpoints", query_string=query)
        assert resp.status_code == 200
        listed += resp.json
        if "X-Next-Cursor" not in resp.headers:
            break
        query = {"limit": 2, "cursor": resp.headers["X-Next-Cursor"]}
    assert [(c["id"], c["events"], c["dossiers"], c["root"], c["record"], c["signature"]) for c in listed] == \
        [tuple(r) for r in stored]
    assert all(c["verified"] is True and c["problem"] is None for c in listed)
    # anyone with the public key file checks a checkpoint without landflow
    public = lf.settings.checkpoint_key.with_name("checkpoint.pem.pub").read_text().strip()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public.removeprefix("ed25519:")))
    for c in listed:
        key.verify(base64.b64decode(c["signature"]), c["record"].encode())
        record = json.loads(c["record"])
        assert (record["id"], record["root"], record["prev"], record["audit_seq"]) == (
            c["id"], c["root"], c["prev"], c["audit_seq"])
        assert datetime.fromisoformat(record["at"].replace("Z", "+00:00")) == datetime.fromisoformat(c["at"])
    assert [c["id"] for c in listed] == list(range(len(listed), 0, -1))
    assert all(datetime.fromisoformat(c["at"]).astimezone(lf.calendar.tz).time() == time(17, 0) for c in listed)

    middle = listed[len(listed) // 2]["id"]
    with lf.db.engine.begin() as c:
        c.execute(text("UPDATE checkpoint SET root = :r WHERE id = :i"), {"r": "0" * 64, "i": middle})
    after = {c["id"]: c for c in auditor.get("/api/v1/checkpoints", query_string={"limit": 200}).json}
    assert after[middle]["verified"] is False and "differ from the signed record" in after[middle]["problem"]
    assert all(c["verified"] for i, c in after.items() if i != middle)

    for who in ("supervisor", "branch.haichau"):
        resp = sign_in(who).get("/api/v1/checkpoints")
        assert (resp.status_code, resp.json["code"]) == (403, "wrong_role")
        assert "root" not in resp.get_data(as_text=True)
    assert refusals(lf)[-2:] == [("supervisor", "read_checkpoints"), ("branch.haichau", "read_checkpoints")]


def test_exports_parse_and_hold_the_log(sign_in: Any, demo_lf: Landflow, demo_clock: FixedClock,
                                        simulated: Stats) -> None:
    lf, auditor = demo_lf, sign_in("auditor")
    tz = lf.calendar.tz
    start, end = date(2026, 2, 20), date(2026, 3, 3)
    lo, hi = datetime.combine(start, time(0), tz), datetime.combine(end, time(0), tz)
    expected = dict(rows(lf, "SELECT id, code FROM dossier WHERE procedure = 'land_transfer'"))
    # the period filter, by hand: the receipt instant the events record, in [lo, hi)
    history = fold(lf.db, lf.calendar)
    kept = {did: code for did, code in expected.items()
            if lo <= instant(history.dossiers[did].fields["received_at"]) < hi}
    assert 0 < len(kept) < len(expected)
    completes = {did: n for did, n in rows(lf, "SELECT dossier_id, count(*) FROM case_event WHERE type = 'completed' "
                                               "GROUP BY dossier_id")}

    query = {"procedure": "land_transfer", "from": start.isoformat(), "to": end.isoformat()}
    resp = auditor.get("/api/v1/audit/export.xes", query_string=query)
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    assert resp.headers["Content-Disposition"] == \
        'attachment; filename="landflow-land_transfer-2026-02-20-2026-03-03.xes"'
    body = resp.get_data()
    assert int(resp.headers["Content-Length"]) == len(body)
    log = ET.fromstring(body)
    traces = log.findall(f"{XES}trace")

    def attr(el: ET.Element, key: str) -> str | None:
        found = [a.get("value") for a in el if a.get("key") == key]
        return found[0] if found else None

    assert sorted(attr(t, "concept:name") or "" for t in traces) == sorted(kept.values())
    by_code = {code: did for did, code in kept.items()}
    n_events = 0
    for t in traces:
        events = t.findall(f"{XES}event")
        n_events += len(events)
        lifecycle = [attr(e, "lifecycle:transition") for e in events]
        assert lifecycle.count("complete") == completes.get(by_code[attr(t, "concept:name") or ""], 0)
        stamps = [attr(e, "time:timestamp") for e in events]
        assert stamps == sorted(stamps)  # same instant format throughout, so text order is time order

    resp = auditor.get("/api/v1/audit/export.ocel.json", query_string=query)
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.headers["Content-Disposition"] == \
        'attachment; filename="landflow-land_transfer-2026-02-20-2026-03-03.ocel.json"'
    doc = resp.json
    assert {o["id"] for o in doc["objects"] if o["type"] == "dossier"} == {f"dossier:{c}" for c in kept.values()}
    assert len(doc["events"]) == n_events
    assert {t["name"] for t in doc["objectTypes"]} == {"dossier", "parcel", "officer", "unit"}

    everything = auditor.get("/api/v1/audit/export.xes")
    assert everything.headers["Content-Disposition"] == 'attachment; filename="landflow-all.xes"'
    assert len(ET.fromstring(everything.get_data()).findall(f"{XES}trace")) == simulated.opened
    resp = auditor.get("/api/v1/audit/export.xes", query_string={"from": "2026-03-03", "to": "2026-03-01"})
    assert (resp.status_code, resp.mimetype) == (422, PROBLEM)
    for path in ("export.xes", "export.ocel.json"):
        resp = sign_in("supervisor").get(f"/api/v1/audit/{path}")
        assert (resp.status_code, resp.mimetype) == (403, PROBLEM) and "Content-Disposition" not in resp.headers
    assert refusals(lf)[-2:] == [("supervisor", "export_xes"), ("supervisor", "export_ocel")]
