"""Exactly once per event and channel across a killed sender.

A local HTTP server stands in for the SMS gateway: it records every request, accepts a key the first
time (that is the message going out to a phone), answers a repeat of an accepted key 200 without sending
again, and holds its answer to the third request until `landflow notify` has been killed with SIGKILL: the
kill lands in the middle of the batch while that request is in flight, after the gateway accepted it and
before the sender could mark the row sent. The restarted sender must
retry that row (after its lease) with the same key, and every other row once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from config.settings import ROOT, Settings
from engine.bootstrap import Landflow
from engine.store import NotificationRow
from tests.conftest import officer
from tests.support.bpmn_builder import small_procedure

DOSSIERS = 8
DELAY = 0.1  # seconds the gateway takes to answer
HELD = 3  # the gateway holds its answer to this request until the sender has been killed


@dataclass
class Gateway:
    """What the SMS gateway stand-in saw: every request, and the keys it accepted (sent to a phone)."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    holding: threading.Event = field(default_factory=threading.Event)   # the HELD-th request has arrived
    release: threading.Event = field(default_factory=threading.Event)   # answer it now


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    seen = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            key = self.headers.get("Idempotency-Key", "")
            with seen.lock:
                seen.requests.append({"key": key, "auth": self.headers.get("Authorization"), **body})
                repeat = key in seen.accepted
                if not repeat:
                    seen.accepted[key] = body  # the SMS goes out now, before the answer
                held = len(seen.requests) == HELD
            if held:
                seen.holding.set()
                seen.release.wait(60)
            time.sleep(DELAY)
            answer = json.dumps({"accepted": True, "duplicate": repeat}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            try:
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):  # the held request's sender was killed
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    seen.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        seen.release.set()
        server.shutdown()
        server.server_close()


def sender_env(settings: Settings, gateway: Gateway) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LANDFLOW_")}
    env.update(LANDFLOW_DATABASE_URL=settings.database_url, LANDFLOW_VAR_DIR=str(settings.var_dir),
               LANDFLOW_CALENDAR_FILE=str(settings.calendar_file), LANDFLOW_SMS_URL=gateway.url,
               LANDFLOW_SMS_TOKEN="gateway-secret", LANDFLOW_NOTIFY_LEASE_SECONDS="3", LANDFLOW_DEMO="0")
    return env


def states(lf: Landflow) -> dict[str, str]:
    with lf.db.read() as s:
        return dict(s.execute(select(NotificationRow.idem_key, NotificationRow.state)).all())


def test_one_accepted_request_per_event_and_channel_across_a_sigkill(lf: Landflow, gateway: Gateway) -> None:
    lf.runtime.deploy(officer(lf, "supervisor"), small_procedure().to_xml())
    for n in range(DOSSIERS):
        lf.runtime.open(officer(lf, "desk.w1"), "small_test", "W1",
                        {"name": f"Người nộp {n}", "phone": f"09051234{n:02d}",
                         "notify": {"consent": True, "channels": ["sms"]}}, {})
    keys = set(states(lf))
    assert len(keys) == DOSSIERS

    env = sender_env(lf.settings, gateway)
    first = subprocess.Popen([sys.executable, "-m", "api.cli", "notify", "--once"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert gateway.holding.wait(120), first.stderr.read() if first.stderr else ""
        assert first.poll() is None  # the HELD-th request is in flight: accepted by the gateway, unanswered
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(30)
        gateway.release.set()
    killed_mid_send = [k for k, st in states(lf).items() if st == "sending"]
    assert len(killed_mid_send) == 1, states(lf)
    assert killed_mid_send[0] in gateway.accepted  # the gateway sent it; the sender never learnt
    assert 0 < sum(st == "sent" for st in states(lf).values()) < DOSSIERS  # the kill landed mid-batch

    time.sleep(3.2)  # the killed sender's lease runs out
    again = subprocess.run([sys.executable, "-m", "api.cli", "notify", "--once"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert set(states(lf).values()) == {"sent"}

    # exactly one accepted request per (event, channel): one key per row, the same key on the retry
    assert set(gateway.accepted) == keys
    per_message: dict[tuple[str, str], set[str]] = {}
    for r in gateway.requests:
        per_message.setdefault((r["to"], r["text"]), set()).add(r["key"])
        assert r["idempotency_key"] == r["key"] and r["auth"] == "Bearer gateway-secret"
    assert all(len(k) == 1 for k in per_message.values()) and len(per_message) == DOSSIERS
    repeats = [r["key"] for r in gateway.requests if r["key"] == killed_mid_send[0]]
    assert len(repeats) == 2 and len(gateway.requests) == DOSSIERS + 1
    assert all("Hồ sơ đã được tiếp nhận" in m["text"] and "/tra-cuu?ma=" in m["text"]
               for m in gateway.accepted.values())
