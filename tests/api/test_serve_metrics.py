"""`landflow serve` with several workers: readiness turns green once its scheduler beats, and one
scrape of /metrics, whichever worker answers it, counts the commands every worker ran."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.api.test_cli_server_demo import call, env, free_port, stop, wait_for  # noqa: F401  (env: fixture)


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status == 200
    except urllib.error.HTTPError:
        return False


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        body = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def test_several_workers_one_sum(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    env = {**env, "LANDFLOW_SWEEP_SECONDS": "1"}
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "3",
                                 "--threads", "1"], env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    root = f"http://127.0.0.1:{port}"
    base = f"{root}/api/v1"
    try:
        wait_for(lambda: call(f"{base}/health/live"), proc, log)
        wait_for(lambda: ready(f"{base}/health/ready"), proc, log, 60)  # the scheduler child has beaten
        desk = call(f"{base}/auth/token", {"username": "desk.haichau", "password": "demo"})["token"]
        opened = [call(f"{base}/dossiers", {"procedure": "land_transfer", "commune": "20242",
                                            "applicant": {"name": f"Người nộp {n}"}}, token=desk)
                  for n in range(6)]
        refused: list[Any] = []
        for dossier in opened:  # claimed, then claimed again: refused
            (item,) = dossier["work_items"]
            call(f"{base}/work-items/{item['id']}/claim", {}, token=desk)
            try:
                call(f"{base}/work-items/{item['id']}/claim", {}, token=desk)
            except urllib.error.HTTPError as err:
                refused.append((err.code, json.load(err)["code"]))
        assert len(refused) == 6 and len(set(refused)) == 1, refused
        ((_status, code),) = set(refused)
        # every worker wrote its own counters into the multiprocess folder
        folder = Path(env["LANDFLOW_VAR_DIR"]) / f"metrics-{port}"
        assert len(list(folder.glob("counter_*.db"))) >= 2, sorted(p.name for p in folder.iterdir())
        for _ in range(4):  # whichever worker answers, the sum is the same
            got = scrape(f"{root}/metrics")
            assert got[("landflow_commands_total", (("kind", "open"), ("outcome", "ok")))] == 6
            assert got[("landflow_commands_total", (("kind", "claim"), ("outcome", "ok")))] == 6
            assert got[("landflow_commands_total", (("kind", "claim"), ("outcome", "refused")))] == 6
            assert sum(v for (name, labels), v in got.items()
                       if name == "landflow_refusals_total" and ("code", code) in labels) == 6
        wait_for(lambda: ("landflow_sweep_duration_seconds", ()) in scrape(f"{root}/metrics"), proc, log, 30)
    finally:
        stop(proc)
