"""The sample nginx site does not hand /metrics to the public; Prometheus reads it on the host itself."""

from __future__ import annotations

from tests.reliability.test_slow_clients import SQLITE_ONLY, nginx  # noqa: F401  (the fixture)
from tests.support.live_server import Http, LiveServer


@SQLITE_ONLY
def test_metrics_are_not_served_through_the_public_proxy(nginx: tuple[str, LiveServer]) -> None:  # noqa: F811
    base, server = nginx
    through = Http(base, timeout=10).get("/metrics")
    assert through.status == 404 and "landflow_commands" not in through.body.decode(errors="replace")
    direct = Http(f"http://127.0.0.1:{server.port}", timeout=10).get("/metrics")
    assert direct.status == 200 and b"landflow_open_incidents" in direct.body
    assert Http(base, timeout=10).get("/api/v1/health/live").status == 200
