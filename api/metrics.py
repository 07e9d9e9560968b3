"""Prometheus metrics at GET /metrics (docs/operations.md, "Monitoring"; decision 0136).

Counted in this process, as they happen:
- `landflow_commands_total{kind, outcome}`: every engine command the API, the pages or the CLI call
  (outcome ok | refused | incident | error). One hook: `instrument(runtime)` wraps the runtime's
  command methods once, when the app is built; the engine knows nothing of it.
- `landflow_refusals_total{code, category}`: refused commands by the refusal's stable code and its
  recorded category (out_of_scope, invalid_input, stale, ...; decision 0050), and actions on what the
  officer cannot read, refused by the API before the command (`not_found`, out_of_scope or missing).
- `landflow_http_request_duration_seconds{method, endpoint, status}`: latency per Flask endpoint
  (bounded label values: the route's name, never its URL) and status class (2xx, 4xx, 5xx).

Read from the database when scraped (they are facts of the whole system, whichever process or host
caused them): open procedure incidents, the last sweep's duration and when it ran, the age of the
newest scheduler heartbeat, and the notifications' outbox backlog (rows not sent yet).

Several gunicorn workers: prometheus-client's multiprocess mode. `landflow serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers start; each worker then writes its
counters to files there and a scrape, answered by any worker, sums them all. Without the variable
(tests, `flask run`, one process) the counters live in this process's memory.

Who may read: clients in LANDFLOW_METRICS_ALLOW (by default this machine only), or anyone sending
`Authorization: Bearer <LANDFLOW_METRICS_TOKEN>` when a token is set; everyone else gets 404, so the
endpoint does not announce itself.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from config.settings import Settings
from engine.bootstrap import Landflow
from engine.runtime import CommandRefused, Runtime
from engine.runtime.incidents import ProcedureIncident
from engine.scheduler.heartbeat import last_beat
from engine.store import DossierRow, NotificationRow

from .problems import problem

log = logging.getLogger("landflow.api")

# The runtime's methods that are commands (one transaction each, or a refusal recorded). Kinds are
# the method names without the trailing underscore of `return_`.
COMMANDS = ("open", "claim", "release", "complete", "return_", "transfer", "request_supplement",
            "receive_supplement", "apologise", "stop", "cancel", "move_to_step", "prepare_decision", "deploy",
            "validate", "fire_timer", "raise_stuck", "deliver_message")

# The notifications' outbox (engine/notifications): rows in these states are still to be sent.
UNSENT = ("pending", "sending")

# Counters live in this registry (in memory), or in PROMETHEUS_MULTIPROC_DIR's files when it is set.
_REGISTRY = CollectorRegistry(auto_describe=True)
COMMANDS_TOTAL = Counter("landflow_commands", "Engine commands by kind and outcome (ok, refused, incident, error)",
                         ("kind", "outcome"), registry=_REGISTRY)
REFUSALS_TOTAL = Counter("landflow_refusals", "Refused commands by refusal code and recorded category",
                         ("code", "category"), registry=_REGISTRY)
REQUEST_SECONDS = Histogram("landflow_http_request_duration_seconds", "HTTP request latency by endpoint",
                            ("method", "endpoint", "status"), registry=_REGISTRY,
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))


def count(kind: str, err: BaseException | None) -> None:
    if err is None:
        COMMANDS_TOTAL.labels(kind, "ok").inc()
    elif isinstance(err, ProcedureIncident):
        COMMANDS_TOTAL.labels(kind, "incident").inc()
    elif isinstance(err, CommandRefused):
        COMMANDS_TOTAL.labels(kind, "refused").inc()
        REFUSALS_TOTAL.labels(err.code, err.refusal.recorded_category).inc()
    else:
        COMMANDS_TOTAL.labels(kind, "error").inc()


def refused_unseen(action: str, category: str) -> None:
    """An action on a dossier or item the officer cannot read (or that does not exist), refused by the
    API before any command runs (api/unseen.py): counted as that command, refused `not_found`."""
    COMMANDS_TOTAL.labels(action.rstrip("_"), "refused").inc()
    REFUSALS_TOTAL.labels("not_found", category).inc()


def _counted(kind: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except BaseException as err:
            count(kind, err)
            raise
        count(kind, None)
        return result

    wrapper.__landflow_counted__ = True  # type: ignore[attr-defined]
    return wrapper


def instrument(runtime: Runtime) -> None:
    """Count every command called on this runtime (instance attributes shadow the class's methods; a
    second call changes nothing)."""
    for name in COMMANDS:
        method = getattr(runtime, name, None)
        if method is None or getattr(method, "__landflow_counted__", False):
            continue
        setattr(runtime, name, _counted(name.rstrip("_"), method))


# -- what the database knows ---------------------------------------------------------------------------
def outbox_backlog(lf: Landflow) -> int:
    """Notifications not sent yet (pending, or claimed by a sender that has not finished): the backlog."""
    with lf.db.lookup() as conn:
        query = select(func.count()).select_from(NotificationRow).where(NotificationRow.state.in_(UNSENT))
        return int(conn.execute(query).scalar_one())


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: the same answer whichever worker is asked."""

    def __init__(self, lf: Landflow):
        self.lf = lf

    def collect(self) -> Iterator[Metric]:
        with self.lf.db.lookup() as conn:
            incidents = conn.execute(select(func.count()).select_from(DossierRow)
                                     .where(DossierRow.incident.is_not(None))).scalar_one()
        yield GaugeMetricFamily("landflow_open_incidents", "Dossiers held by an open procedure incident",
                                value=incidents)
        beat = last_beat(self.lf.db)
        if beat.beat_at is not None:
            yield GaugeMetricFamily("landflow_scheduler_heartbeat_timestamp_seconds",
                                    "When some scheduler last beat (Unix time)", value=beat.beat_at.timestamp())
        if beat.sweep_at is not None and beat.sweep_seconds is not None:
            yield GaugeMetricFamily("landflow_sweep_duration_seconds", "How long the last deadline sweep took",
                                    value=beat.sweep_seconds)
            yield GaugeMetricFamily("landflow_sweep_last_timestamp_seconds", "When the last deadline sweep ended "
                                    "(Unix time)", value=beat.sweep_at.timestamp())
        yield GaugeMetricFamily("landflow_outbox_backlog", "Notifications waiting in the outbox",
                                value=outbox_backlog(self.lf))


class _Counted(Collector):
    """This process's counters (single-process mode)."""

    def collect(self) -> Iterable[Metric]:
        return _REGISTRY.collect()


def scrape(lf: Landflow) -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Counted())
    registry.register(DatabaseCollector(lf))
    return generate_latest(registry)


# -- who may read ----------------------------------------------------------------------------------
def allowed(settings: Settings) -> bool:
    token = settings.metrics_token
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    # An address is trusted only as the proxies configured to be trusted reported it: with
    # LANDFLOW_PROXIES=0 a request that came through a proxy (X-Forwarded-For) has the proxy's address.
    if settings.proxies == 0 and "X-Forwarded-For" in request.headers:
        return False
    try:
        addr = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(addr in ipaddress.ip_network(net, strict=False) for net in settings.metrics_allow)


def init_app(app: Flask, lf: Landflow) -> None:
    instrument(lf.runtime)

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(resp: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.endpoint or "unmatched"
            REQUEST_SECONDS.labels(request.method, endpoint, f"{resp.status_code // 100}xx").observe(
                time.perf_counter() - started)
        return resp

    @app.get("/metrics")
    def metrics() -> Response:
        if not allowed(lf.settings):
            return problem(404, "The requested URL was not found on the server.")
        return Response(scrape(lf), content_type=CONTENT_TYPE_LATEST)
