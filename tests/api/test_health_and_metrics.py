"""Liveness, readiness and the Prometheus metrics, through the real app on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from api.app import create_app
from engine.bootstrap import Landflow
from engine.scheduler.heartbeat import Heartbeat
from engine.store import SchedulerBeatRow
from tests.support import defective


def scrape(client: FlaskClient, **kw: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = client.get("/metrics", **kw)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "text/plain"
    out = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def delta(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_health_live_and_the_old_health_answer(client: FlaskClient) -> None:
    assert client.get("/api/v1/health/live").json == {"status": "alive"}
    old = client.get("/api/v1/health")
    assert old.status_code == 200 and old.json["status"] == "ok" and old.json["database"] in ("sqlite", "postgresql")


def test_ready_needs_a_recent_scheduler_heartbeat(client: FlaskClient, demo_lf: Landflow) -> None:
    resp = client.get("/api/v1/health/ready")
    assert resp.status_code == 503 and resp.mimetype == "application/problem+json"
    checks = resp.json["checks"]
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert not checks["scheduler"]["ok"] and checks["scheduler"]["last_beat"] is None
    assert resp.json["code"] == "not_ready" and resp.json["detail"] == "not ready: scheduler"

    Heartbeat.of_this_process(demo_lf.db).beat()
    resp = client.get("/api/v1/health/ready")
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "ready" and resp.json["checks"]["scheduler"]["ok"]

    with demo_lf.db.write() as s:  # the scheduler went silent four minutes ago (the limit is three)
        for row in s.query(SchedulerBeatRow):
            row.beat_at = datetime.now(UTC) - timedelta(minutes=4)
    resp = client.get("/api/v1/health/ready")
    assert resp.status_code == 503
    assert not resp.json["checks"]["scheduler"]["ok"] and resp.json["checks"]["scheduler"]["age_seconds"] >= 240


def test_ready_needs_the_schema_at_the_code_s_migration_head(client: FlaskClient, demo_lf: Landflow) -> None:
    Heartbeat.of_this_process(demo_lf.db).beat()
    assert client.get("/api/v1/health/ready").status_code == 200
    with demo_lf.db.engine.begin() as conn:  # as if the code were upgraded and `landflow init` not run
        conn.execute(text("UPDATE alembic_version SET version_num = '0015'"))
    resp = client.get("/api/v1/health/ready")
    assert resp.status_code == 503
    migrations = resp.json["checks"]["migrations"]
    assert not migrations["ok"] and migrations["database"] == ["0015"] and migrations["code"] != ["0015"]
    assert resp.json["checks"]["scheduler"]["ok"]


def test_metrics_count_commands_refusals_latency_and_incidents(client: FlaskClient, demo_lf: Landflow,
                                                                sign_in: Any) -> None:
    demo_lf.runtime.deploy(demo_lf.directory.get().officers["supervisor"], defective.deadlock().to_xml())
    before = scrape(client)
    desk, supervisor = sign_in("desk.haichau"), sign_in("supervisor")
    dossier = desk.post("/api/v1/dossiers", json={"procedure": "deadlock_test", "commune": "20242",
                                                  "applicant": {"name": "Trần Văn B"}}).json
    (receive,) = dossier["work_items"]
    resp = desk.post(f"/api/v1/work-items/{receive['id']}/complete", json={"data": {"fast": True}})
    assert resp.status_code == 200
    (a,) = [i for i in resp.json["work_items"] if i["state"] == "ready"]
    assert desk.post(f"/api/v1/work-items/{a['id']}/complete", json={"data": {}}).status_code == 409  # incident
    middle = scrape(client)
    assert middle[("landflow_open_incidents", ())] == before[("landflow_open_incidents", ())] + 1
    did = dossier["id"]
    resp = desk.post(f"/api/v1/dossiers/{did}/move-to-step", json={"to_step": "after", "reason": "tắc"})
    assert resp.json["code"] == "wrong_role"
    resp = supervisor.post(f"/api/v1/dossiers/{did}/move-to-step", json={"to_step": "after"})
    assert resp.json["code"] == "missing_reason"
    resp = supervisor.post(f"/api/v1/dossiers/{did}/move-to-step", json={"to_step": "after", "reason": "Cổng tắc"})
    assert resp.status_code == 200
    (open_item,) = [i for i in resp.json["work_items"] if i["state"] == "ready"]
    stranger = sign_in("desk.bengiang")  # another commune's desk: the item is not theirs to read
    assert stranger.post(f"/api/v1/work-items/{open_item['id']}/claim").status_code == 404
    after = scrape(client)

    c = "landflow_commands_total"
    assert delta(before, after, c, kind="open", outcome="ok") == 1
    assert delta(before, after, c, kind="complete", outcome="ok") == 1
    assert delta(before, after, c, kind="complete", outcome="incident") == 1
    assert delta(before, after, c, kind="move_to_step", outcome="refused") == 2
    assert delta(before, after, c, kind="move_to_step", outcome="ok") == 1
    r = "landflow_refusals_total"
    assert delta(before, after, r, code="wrong_role", category="out_of_scope") == 1
    assert delta(before, after, r, code="missing_reason", category="invalid_input") == 1
    assert delta(before, after, r, code="procedure_incident", category="out_of_scope") == 0  # no blame
    assert delta(before, after, c, kind="claim", outcome="refused") == 1
    assert delta(before, after, r, code="not_found", category="out_of_scope") == 1
    assert after[("landflow_open_incidents", ())] == before[("landflow_open_incidents", ())]
    h = "landflow_http_request_duration_seconds_count"
    opened = [k for k in after if k[0] == h and ("method", "POST") in k[1] and ("status", "4xx") in k[1]]
    assert sum(delta(before, after, h, **dict(k[1])) for k in opened) == 4  # incident 409, refusals 403, 422, 404
    assert sum(v for k, v in after.items() if k[0] == h) > sum(v for k, v in before.items() if k[0] == h)


def test_metrics_read_the_sweep_and_heartbeat_of_the_scheduler(client: FlaskClient, demo_lf: Landflow) -> None:
    assert ("landflow_sweep_duration_seconds", ()) not in scrape(client)
    beat = Heartbeat.of_this_process(demo_lf.db)
    beat.swept(2.5, skipped=False)
    beat.swept(0.01, skipped=True)  # a round another scheduler swept: not a sweep duration
    got = scrape(client)
    assert got[("landflow_sweep_duration_seconds", ())] == 2.5
    assert abs(got[("landflow_scheduler_heartbeat_timestamp_seconds", ())] - datetime.now(UTC).timestamp()) < 60
    assert got[("landflow_outbox_backlog", ())] == 0  # no applicant agreed to be told: nothing waits


def test_outbox_backlog_counts_the_notifications_not_sent_yet(client: FlaskClient, sign_in: Any,
                                                              demo_lf: Landflow) -> None:
    """An applicant who agreed to be told by SMS and email: receiving the dossier queues two notifications;
    once one is sent, the backlog is the other, still being sent."""
    from sqlalchemy import select, update

    from engine.store import NotificationRow
    from tests.api.test_reception_api import body

    before = scrape(client)[("landflow_outbox_backlog", ())]
    b = body()
    b["applicant"]["notify"] = {"consent": True, "channels": ["sms", "email"]}
    opened = sign_in("desk.haichau").post("/api/v1/dossiers", json=b)
    assert opened.status_code == 201, opened.json
    assert scrape(client)[("landflow_outbox_backlog", ())] == before + 2
    with demo_lf.db.engine.begin() as conn:
        ids = sorted(conn.execute(select(NotificationRow.id)
                                  .where(NotificationRow.dossier_id == opened.json["id"])).scalars())
        conn.execute(update(NotificationRow).where(NotificationRow.id == ids[0]).values(state="sent"))
        conn.execute(update(NotificationRow).where(NotificationRow.id == ids[1]).values(state="sending"))
    assert scrape(client)[("landflow_outbox_backlog", ())] == before + 1


def test_metrics_are_read_only_from_allowed_addresses_or_with_the_token(demo_lf: Landflow) -> None:
    from dataclasses import replace

    demo_lf.settings = replace(demo_lf.settings, metrics_token="s3cret-metrics", metrics_allow=("10.0.0.0/8",))
    app: Flask = create_app(demo_lf)
    client = app.test_client()
    far = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.get("/metrics", environ_base=far).status_code == 404
    assert client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base=far,
                      headers={"Authorization": "Bearer s3cret-metrics"}).status_code == 200
    near = {"REMOTE_ADDR": "10.2.3.4"}
    assert client.get("/metrics", environ_base=near).status_code == 200
    # through a proxy landflow was not told to trust, the address is the proxy's: not trusted
    assert client.get("/metrics", environ_base=near, headers={"X-Forwarded-For": "10.9.9.9"}).status_code == 404
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not in this allow list
