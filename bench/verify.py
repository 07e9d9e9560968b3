"""bench verify: how many events per second `landflow verify --all` checks, on a demo database.

Target (issue 14, point 4): >= 20,000 events/s for a whole-database check. The check replays only the
dossiers that changed since they last passed (engine/verified.py), so the bench measures, on the same
database and in the same run:

- reference: SHA-256 over the very bytes the chains hash (each event's previous hash, head and stored
  payload), in a plain loop: what hashing alone costs on this machine now;
- first: `verify --all` with an empty memo (every dossier replayed through SpiffWorkflow);
- unchanged: the runs after it, nothing changed (every chain re-hashed, every stored row and file re-read);
  the best of three, as the reference is the best of ten passes;
- changed: the run after `--changed` dossiers (default 1%) were told apart as changed (their memo entries
  dropped: exactly what a new event or an edited row does to them), so those are replayed.

One process (`--workers 1`) so that CPU time is measured too: this machine is shared, and wall-clock
figures move with the other processes on it. The ratio reported is unchanged / reference (events/s).
`--var-dir` reuses a database made by `landflow demo` (copied, never changed); without it, one of
`--dossiers` dossiers is made first (about a minute per 1,000).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from config.settings import Settings
from engine.bootstrap import build
from engine.integrity import IntegrityReport, verify_everything
from engine.verified import Memo

from .common import write_result

TARGET = 20_000


def make_demo(var_dir: Path, dossiers: int) -> None:
    env = {**os.environ, "LANDFLOW_VAR_DIR": str(var_dir), "LANDFLOW_DATABASE_URL": f"sqlite:///{var_dir}/landflow.db",
           "LANDFLOW_DEMO": "1"}
    cli = [sys.executable, "-m", "api.cli"]
    subprocess.run([*cli, "init"], env=env, check=True, capture_output=True)
    subprocess.run([*cli, "demo", "--dossiers", str(dossiers)], env=env, check=True, capture_output=True)


def reference(settings: Settings) -> dict[str, float]:
    """SHA-256 over each event's hashed bytes, read once; the hashing loop alone is timed."""
    lf = build(settings)
    try:
        with lf.db.read_engine.connect() as conn:
            rows = conn.execute(text("SELECT prev_hash, type, actor, payload FROM case_event")).all()
    finally:
        lf.close()
    data = [f"{prev}\n{{\"t\":\"{etype}\",\"a\":\"{actor}\"}}\n{payload}".encode()
            for prev, etype, actor, payload in rows]
    best_wall = best_cpu = float("inf")
    for _ in range(10):  # the best of ten passes: this machine is shared, a pass can lose its core
        wall, cpu = time.perf_counter(), time.process_time()
        for chunk in data:
            hashlib.sha256(chunk).hexdigest()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, max(time.process_time() - cpu, 1e-6))
    return {"events": len(data), "events_per_s": round(len(data) / best_wall),
            "events_per_cpu_s": round(len(data) / best_cpu)}


def timed(settings: Settings, memo: Path) -> tuple[IntegrityReport, dict[str, Any]]:
    lf = build(settings)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        report = verify_everything(lf.db, lf.procedures, settings.checkpoint_key, workers=1, blobs=lf.blobs,
                                   memo=memo)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        lf.close()
    if report.findings:
        raise RuntimeError(f"the demo database does not verify: {report.first}")
    return report, {"events": report.events, "dossiers": report.dossiers,
                    "replayed": report.dossiers - report.unchanged,
                    "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                    "events_per_s": round(report.events / wall), "events_per_cpu_s": round(report.events / cpu)}


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--var-dir", type=Path, default=None, help="a var dir holding a `landflow demo` database")
    parser.add_argument("--changed", type=float, default=0.01, help="share of dossiers changed before the last run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp) / "var"
        if args.var_dir:
            shutil.copytree(args.var_dir, var_dir, ignore=shutil.ignore_patterns("verified.sqlite3*"))
        else:
            var_dir.mkdir()
            make_demo(var_dir, args.dossiers)
        settings = Settings.from_env({"LANDFLOW_VAR_DIR": str(var_dir)})  # its database, keys and files
        memo = Path(tmp) / "verified.sqlite3"
        ref = reference(settings)
        _first_report, first = timed(settings, memo)
        unchanged = max((timed(settings, memo)[1] for _ in range(3)), key=lambda r: r["events_per_s"])  # best of 3
        ref_again = reference(settings)  # the machine's load moves: the reference is taken around the run
        m = Memo(memo)
        ids = [d for (d,) in m.con.execute("SELECT dossier_id FROM verified ORDER BY dossier_id")]
        step = max(1, round(1 / args.changed)) if args.changed > 0 else 0
        dropped = ids[::step] if step else []
        m.update({}, dropped)
        m.close()
        _report, changed = timed(settings, memo)
    reference_eps = max(ref["events_per_s"], ref_again["events_per_s"])
    figures = {"reference_hashlib": {**ref, "again_events_per_s": ref_again["events_per_s"]},
               "first_run": first, "unchanged": unchanged, "changed": {**changed, "changed_dossiers": len(dropped)},
               "target_events_per_s": TARGET, "workers": 1,
               "met_wall": unchanged["events_per_s"] >= TARGET, "met_cpu": unchanged["events_per_cpu_s"] >= TARGET}
    ratio = unchanged["events_per_s"] / reference_eps
    # the ratio's target is the absolute one in the same run's units: met exactly when >= 20,000 events/s
    result = write_result("verify", ratio, TARGET / reference_eps, figures)
    print(f"verify --all over {unchanged['events']:,} events: first run {first['events_per_s']:,} events/s, "
          f"unchanged {unchanged['events_per_s']:,} events/s ({unchanged['events_per_cpu_s']:,} per CPU second), "
          f"{len(dropped)} changed {changed['events_per_s']:,} events/s; hashlib alone {reference_eps:,} events/s; "
          f"ratio {ratio:.4f}; target {TARGET:,} events/s: {'met' if result['met'] else 'missed'}")
    return result


if __name__ == "__main__":
    main()
