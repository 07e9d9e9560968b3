"""bench http: land_transfer completions through the production HTTP server, against a trivial endpoint.

The server is `landflow serve` (gunicorn, gthread, 2 workers, no scheduler beside it: the bench measures
the API), on PostgreSQL (`--production`) and on the SQLite file. Clients are threads in this process,
each on one keep-alive connection, as a browser is: they sign in through POST /api/v1/auth/token,
then complete the seven land_transfer steps of dossiers opened in advance, each with the officer's
bearer token, `If-Match` with the version the previous answer gave, and for `update_register` the
branch officer's Ed25519 signature of the decision. At each concurrency (1, 4, 16 clients) the same
clients first hit GET /api/v1/ping (routing, the auth hook, a schema, JSON; no database) for the same
time: that is the floor the ratio is taken against.

Targets (issue 7): >= 1,000 completions/s, p95 <= 5 ms at one client, completions/s / ping/s >= 0.3
(the headline ratio: at the concurrency where completions peak).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config.settings import ROOT, Settings

from . import pg
from .common import LAND_TRANSFER_PATH, write_result

PASSWORD = "bench-password"  # noqa: S105 - a throwaway database
OFFICERS = {"receive": "desk.haichau", "check_rights": "branch.haichau", "send_form19": "branch.haichau",
            "tax_assess": "tax.haichau", "tax_payment": "tax.haichau", "update_register": "branch.haichau",
            "return_result": "desk.haichau"}
SIGNER = "branch.haichau"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the database and the server ---------------------------------------------------------------------

def prepare(url: str, var_dir: Path, dossiers: int) -> tuple[list[tuple[int, int, int]], Ed25519PrivateKey]:
    """Initialise the database as `landflow init` does, give the bench officers a password and the
    signer a key, and open `dossiers` land_transfer dossiers. Returns (dossier, first item, version)."""
    from api.auth import hash_password
    from api.cli.setup import initialise
    from engine.bootstrap import build, load_bundled_organisation
    from engine.org import add_officer
    from engine.signatures import officer_key

    settings = Settings.from_env({}, database_url=url, var_dir=var_dir)
    lf = build(settings)
    try:
        initialise(lf, procedures=True, say=lambda _s: None)
        org = load_bundled_organisation(settings)
        seeds = {o.username: o for o in org.officers}
        hashed = hash_password(PASSWORD)
        with lf.db.write() as s:
            for username in sorted(set(OFFICERS.values())):
                o = seeds[username]
                add_officer(s, o.username, o.name, o.unit, o.roles, password_hash=hashed)
        key = officer_key(lf.db, var_dir / "keys", SIGNER, lf.clock.now())
        desk = lf.directory.refresh().officers["desk.haichau"]
        out = []
        for i in range(dossiers):
            st = lf.runtime.open(desk, "land_transfer", "20242", {"name": f"Nguyễn Văn {i}", "id_number": f"{i:012d}"},
                                 {"sheet": i % 80, "number": i})
            (item,) = st.open_items()
            assert item.id is not None
            out.append((st.id, item.id, st.version))
        return out, key
    finally:
        lf.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(url: str, var_dir: Path, workers: int, threads: int) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {**os.environ, "LANDFLOW_DATABASE_URL": url, "LANDFLOW_VAR_DIR": str(var_dir), "LANDFLOW_DEMO": "0",
           "LANDFLOW_ED25519_KEYS": "1"}  # the development option: the bench signs with Ed25519
    args = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--threads", str(threads), "--no-scheduler"]
    if not url.startswith("sqlite"):
        args.append("--production")
    log = open(var_dir / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/api/v1/ping")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + (var_dir / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield port, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def server_cpu(proc: subprocess.Popen[bytes]) -> float:
    """CPU seconds used so far by the server's process group (master + workers)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parts = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state ppid pgrp ... utime(12) stime(13)
        if int(parts[2]) == proc.pid:
            total += (int(parts[11]) + int(parts[12])) / tick
    return total


# -- the clients ------------------------------------------------------------------------------------

@dataclass
class Shared:
    port: int
    tokens: dict[str, str]
    key: Ed25519PrivateKey
    todo: list[tuple[int, int, int]]
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    measuring: threading.Event = field(default_factory=threading.Event)
    errors: list[str] = field(default_factory=list)

    def next_dossier(self) -> tuple[int, int, int] | None:
        with self.lock:
            return self.todo.pop() if self.todo else None


def connect(port: int) -> http.client.HTTPConnection:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.connect()
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def call(c: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes, http.client.HTTPResponse]:
    c.request(method, path, body, headers or {})
    resp = c.getresponse()
    return resp.status, resp.read(), resp


def sign_in(port: int, username: str) -> str:
    c = connect(port)
    status, body, _ = call(c, "POST", "/api/v1/auth/token", json.dumps({"username": username, "password": PASSWORD})
                           .encode(), {"Content-Type": "application/json"})
    c.close()
    if status != 200:
        raise RuntimeError(f"sign-in of {username}: {status} {body[:300]!r}")
    return str(json.loads(body)["token"])


def ping_client(shared: Shared, latencies: list[float]) -> None:
    c = connect(shared.port)
    while not shared.stop.is_set():
        t0 = time.perf_counter()
        status, _body, _ = call(c, "GET", "/api/v1/ping")
        took = time.perf_counter() - t0
        if status != 200:
            shared.errors.append(f"ping {status}")
        if shared.measuring.is_set():
            latencies.append(took)
    c.close()


def completion_client(shared: Shared, latencies: list[float]) -> None:
    from engine.signatures import sign_decision

    c = connect(shared.port)
    while not shared.stop.is_set():
        job = shared.next_dossier()
        if job is None:
            shared.errors.append("ran out of prepared dossiers: raise --dossiers")
            return
        _dossier, item, version = job
        code, ordinal = "", 1
        for step, data in LAND_TRANSFER_PATH:
            if shared.stop.is_set():
                break
            body: dict[str, Any] = {"data": data}
            if step == "update_register":
                sig = sign_decision(shared.key, code, step, ordinal, data, SIGNER, datetime.now(UTC))
                body["signature"] = sig.as_dict()
            headers = {"Authorization": f"Bearer {shared.tokens[OFFICERS[step]]}", "If-Match": f'"{version}"',
                       "Content-Type": "application/json"}
            t0 = time.perf_counter()
            status, raw, resp = call(c, "POST", f"/api/v1/work-items/{item}/complete", json.dumps(body).encode(),
                                     headers)
            took = time.perf_counter() - t0
            if status != 200:
                shared.errors.append(f"{step}: {status} {raw[:300]!r}")
                break
            if shared.measuring.is_set():
                latencies.append(took)
            answer = json.loads(raw)
            version = int(resp.headers["ETag"].strip('"'))
            code = answer["code"]
            ready = [w for w in answer["work_items"] if w["state"] == "ready"]
            if not ready:
                break
            item, ordinal = ready[0]["id"], ready[0]["ordinal"]
    c.close()


def run_level(shared: Shared, kind: str, clients: int, warmup: float, seconds: float,
              proc: subprocess.Popen[bytes]) -> dict[str, float]:
    target = ping_client if kind == "ping" else completion_client
    per_thread: list[list[float]] = [[] for _ in range(clients)]
    shared.stop.clear()
    shared.measuring.clear()
    threads = [threading.Thread(target=target, args=(shared, per_thread[i]), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    cpu0, own0 = server_cpu(proc), _own_cpu()
    shared.measuring.set()
    t0 = time.perf_counter()
    time.sleep(seconds)
    shared.measuring.clear()
    elapsed = time.perf_counter() - t0
    cpu1, own1 = server_cpu(proc), _own_cpu()
    shared.stop.set()
    for t in threads:
        t.join(timeout=60)
    lat = [x for xs in per_thread for x in xs]
    n = len(lat)
    return {"requests": n, "per_s": round(n / elapsed, 1), "p50_ms": round(percentile(lat, 0.50) * 1000, 2),
            "p95_ms": round(percentile(lat, 0.95) * 1000, 2), "p99_ms": round(percentile(lat, 0.99) * 1000, 2),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else float("nan"),
            "server_cpu_ms_per_request": round((cpu1 - cpu0) / max(n, 1) * 1000, 3),
            "client_cpu_ms_per_request": round((own1 - own0) / max(n, 1) * 1000, 3)}


def _own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def bench_database(label: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="landflow-bench-http.") as tmp:
        var_dir = Path(tmp)
        t0 = time.perf_counter()
        todo, key = prepare(url, var_dir, args.dossiers)
        print(f"[{label}] {len(todo)} dossiers opened in {time.perf_counter() - t0:.1f} s", flush=True)
        with server(url, var_dir, args.workers, args.threads) as (port, proc):
            tokens = {u: sign_in(port, u) for u in sorted(set(OFFICERS.values()))}
            todo.reverse()
            shared = Shared(port, tokens, key, todo)
            levels: dict[str, Any] = {}
            for clients in args.clients:
                ping = run_level(shared, "ping", clients, args.warmup, args.seconds, proc)
                done = run_level(shared, "complete", clients, args.warmup, args.seconds, proc)
                if shared.errors:
                    raise RuntimeError(f"[{label}] errors: {shared.errors[:5]}")
                ratio = done["per_s"] / ping["per_s"] if ping["per_s"] else 0.0
                levels[str(clients)] = {"complete": done, "ping": ping, "ratio": round(ratio, 3)}
                print(f"[{label}] {clients:>2} client(s): {done['per_s']:>7,.0f} completions/s "
                      f"(p50 {done['p50_ms']} ms, p95 {done['p95_ms']} ms, p99 {done['p99_ms']} ms; server CPU "
                      f"{done['server_cpu_ms_per_request']} ms each); ping {ping['per_s']:,.0f}/s "
                      f"(p95 {ping['p95_ms']} ms); ratio {ratio:.3f}", flush=True)
            return levels


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("both", "postgresql", "sqlite"), default="both")
    parser.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per level and endpoint")
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--dossiers", type=int, default=3000, help="opened in advance")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    databases = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    if "postgresql" in databases and not pg.available():
        print("PostgreSQL not found: only SQLite is measured")
        databases.remove("postgresql")
    results: dict[str, Any] = {}
    for label in databases:
        if label == "postgresql":
            with pg.postgres_url() as url:
                results[label] = bench_database(label, url, args)
        else:
            with tempfile.TemporaryDirectory(prefix="landflow-bench-sqlite.") as tmp:
                results[label] = bench_database(label, f"sqlite:///{Path(tmp) / 'landflow.db'}", args)
    head = results.get("postgresql") or results["sqlite"]
    peak = max(head.values(), key=lambda lv: lv["complete"]["per_s"])
    ratio = peak["ratio"]
    one = head.get("1", peak)
    targets = {"completions_per_s": {"target": 1000, "reached": peak["complete"]["per_s"],
                                     "met": peak["complete"]["per_s"] >= 1000},
               "p95_ms_one_client": {"target": 5.0, "reached": one["complete"]["p95_ms"],
                                     "met": one["complete"]["p95_ms"] <= 5.0},
               "ratio_to_ping": {"target": 0.3, "reached": ratio, "met": ratio >= 0.3}}
    figures = {"server": f"landflow serve: gunicorn gthread, {args.workers} workers x {args.threads} threads",
               "headline_database": "postgresql" if "postgresql" in results else "sqlite",
               "targets": targets, "seconds_per_level": args.seconds, "databases": results,
               "load": os.getloadavg()[0]}
    result = write_result("http", ratio, 0.3, figures)
    print(f"peak {peak['complete']['per_s']:,.0f} completions/s (target 1,000); one client p95 "
          f"{one['complete']['p95_ms']} ms (target 5); ratio to ping {ratio:.3f} (target >= 0.3)")
    return result


if __name__ == "__main__":
    main()
