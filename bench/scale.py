"""bench scale: does the cost stay flat as the province's history grows?

(a) one command with 1k dossiers in the database against one with N (default 100k; the issue's figure
    is `--dossiers 1000000`): the same land_transfer commands, run in turns on both databases, medians;
(b) one command on a dossier with about 5 events against one with about 500 (claims and releases pad
    the history): claim and release (no workflow), and `complete` with the workflow cache emptied
    first (the snapshot is restored and the tail after it replayed), medians;
(c) on the big database: worklist first page p99, the deadline sweep with nothing newly due and with
    work to do (per notice), the KPI report for a year, `verify` on every core (events/s, on a random
    sample of dossiers), replay of a 50-event dossier.
Targets (issue 7): (a) and (b) ratios <= 1.2; worklist p99 <= 20 ms; sweep <= 1 s; KPI year <= 2 s;
verify >= 200k events/s; replay of 50 events <= 50 ms. The headline ratio is the worse of (a), (b).

Databases come from bench/fixture.py (templates through the engine, cloned in bulk). PostgreSQL by
default (a throwaway cluster, or `--pg-url` of a database that already holds a fixture built with
`python -m bench.fixture`); `--database sqlite` runs (a), (b) and (c) on SQLite files.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

from config.settings import Settings
from engine.bootstrap import Landflow, build
from engine.clock import FixedClock
from engine.signatures import officer_key, sign_decision

from . import fixture, pg
from .common import LAND_TRANSFER_PATH, write_result


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 3) if values else float("nan")


def pct_ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3) if ordered else float("nan")


@dataclass
class Db:
    label: str
    lf: Landflow
    clock: FixedClock
    var_dir: Path
    info: fixture.FixtureInfo | None


def open_db(label: str, url: str, var_dir: Path, now: datetime, info: fixture.FixtureInfo | None) -> Db:
    clock = FixedClock(now)
    settings = Settings.from_env({}, database_url=url, var_dir=var_dir, checkpoint_minutes=0,
                             ed25519_keys=True)  # the development option: benches sign with Ed25519
    lf = build(settings, clock=clock)
    return Db(label, lf, clock, var_dir, info)


class StatementCounter:
    def __init__(self, lf: Landflow):
        self.n = 0
        for engine in {lf.db.engine, lf.db.read_engine}:
            event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.n += 1


# -- (a) and (b): one command -----------------------------------------------------------------------------

def land_transfer_commands(db: Db, timings: dict[str, list[float]], statements: dict[str, list[int]],
                           counter: StatementCounter, place: str = "haichau") -> None:
    """Open one dossier and take it through the happy path, timing every command."""
    lf = db.lf
    o = lf.directory.get().officers
    key = officer_key(lf.db, db.var_dir / "keys", f"branch.{place}", db.clock.now())
    who = {"desk": o[f"desk.{place}"], "branch": o[f"branch.{place}"], "tax": o[f"tax.{place}"]}
    t0, n0 = time.perf_counter(), counter.n
    st = lf.runtime.open(who["desk"], "land_transfer", who["desk"].unit, {"name": "Trần Thị Bench", "id_number": "1"},
                         {"sheet": 3, "number": 77})
    timings["open"].append(time.perf_counter() - t0)
    statements["open"].append(counter.n - n0)
    for step, data in LAND_TRANSFER_PATH:
        (item,) = st.open_items()
        officer = who[fixture.ROLE_OF_STEP[step]]
        signature = None
        if step == "update_register":
            signature = sign_decision(key, st.code, step, item.ordinal, data, officer.username,
                                      db.clock.now()).as_dict()
        t0, n0 = time.perf_counter(), counter.n
        st = lf.runtime.complete(officer, item.id or 0, data, signature=signature)
        timings["complete"].append(time.perf_counter() - t0)
        statements["complete"].append(counter.n - n0)


def bench_dossier_count(small: Db, big: Db, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    per: dict[str, dict[str, list[float]]] = {d.label: {"open": [], "complete": []} for d in (small, big)}
    stm: dict[str, dict[str, list[int]]] = {d.label: {"open": [], "complete": []} for d in (small, big)}
    counters = {d.label: StatementCounter(d.lf) for d in (small, big)}
    for d in (small, big):  # warm the caches (procedure, directory) before measuring
        land_transfer_commands(d, {"open": [], "complete": []}, {"open": [], "complete": []}, counters[d.label])
    for _ in range(rounds):
        for d in (small, big):
            land_transfer_commands(d, per[d.label], stm[d.label], counters[d.label])
    for d in (small, big):
        every = per[d.label]["open"] + per[d.label]["complete"]
        out[d.label] = {"dossiers": d.info.dossiers if d.info else None, "commands": len(every),
                        "median_ms": median_ms(every), "open_median_ms": median_ms(per[d.label]["open"]),
                        "complete_median_ms": median_ms(per[d.label]["complete"]),
                        "statements_per_complete": statistics.median(stm[d.label]["complete"]),
                        "statements_per_open": statistics.median(stm[d.label]["open"])}
    out["ratio"] = round(out[big.label]["median_ms"] / out[small.label]["median_ms"], 3)
    return out


def pad(db: Db, dossier_id: int, item_id: int, events: int) -> None:
    """Claims and releases until the dossier has `events` events (each is an event with effects)."""
    lf = db.lf
    o = lf.directory.get().officers["branch.haichau"]
    with lf.db.read() as s:
        have = int(s.execute(text("SELECT last_seq FROM dossier WHERE id = :d"), {"d": dossier_id}).scalar_one())
    while have + 2 <= events:
        lf.runtime.claim(o, item_id)
        lf.runtime.release(o, item_id)
        have += 2


def bench_history_length(db: Db, dossiers: int, rounds: int = 6, short: int = 4, long: int = 498) -> dict[str, Any]:
    """Claim, release, and `complete` (workflow cache emptied: snapshot + tail) on short and long dossiers.

    Each long dossier takes `rounds` claim/release pairs (498 -> 510 events); each short measurement
    uses a fresh short dossier, so that "short" stays at 5 events.
    """
    lf = db.lf
    o = lf.directory.get().officers
    desk, branch = o["desk.haichau"], o["branch.haichau"]

    def at_check_rights(size: int) -> tuple[int, int]:
        st = lf.runtime.open(desk, "land_transfer", desk.unit, {"name": "Lê Văn Dài", "id_number": "2"}, {})
        (item,) = st.open_items()
        st = lf.runtime.complete(desk, item.id or 0, dict(LAND_TRANSFER_PATH[0][1]))
        (item,) = st.open_items()
        pad(db, st.id, item.id or 0, size)
        return st.id, item.id or 0

    longs = [at_check_rights(long) for _ in range(dossiers)]
    shorts = [at_check_rights(short) for _ in range(dossiers * rounds)]
    t: dict[str, dict[str, list[float]]] = {k: {"claim": [], "release": [], "complete_cold": []}
                                            for k in ("short", "long")}

    def pair(kind: str, item_id: int) -> None:
        for action in ("claim", "release"):
            t0 = time.perf_counter()
            getattr(lf.runtime, action)(branch, item_id)
            t[kind][action].append(time.perf_counter() - t0)

    def complete_cold(kind: str, dossier_id: int, item_id: int) -> None:
        lf.workflows.evict(dossier_id)
        t0 = time.perf_counter()
        lf.runtime.complete(branch, item_id, dict(LAND_TRANSFER_PATH[1][1]))
        t[kind]["complete_cold"].append(time.perf_counter() - t0)

    for r in range(rounds):  # in turns, so that a busy moment of the machine hits both alike
        for i, (_dossier_id, item_id) in enumerate(longs):
            pair("long", item_id)
            pair("short", shorts[r * dossiers + i][1])
    for i, (dossier_id, item_id) in enumerate(longs):
        complete_cold("long", dossier_id, item_id)
        complete_cold("short", *shorts[i])
    out: dict[str, Any] = {"dossiers_each": dossiers, "samples": {k: len(v) for k, v in t["long"].items()},
                           "events": {"short": short + 1, "long": long + 1}}
    for kind in t:
        out[kind] = {k: median_ms(v) for k, v in t[kind].items()}
    out["ratios"] = {k: round(out["long"][k] / out["short"][k], 3) for k in t["short"]}
    out["ratio"] = max(out["ratios"].values())
    return out


# -- (c): reads, sweeps, reports, verification, replay on the big database --------------------------------

def bench_worklist(db: Db, rounds: int) -> dict[str, Any]:
    from engine import queries

    officers = db.lf.directory.get().officers
    names = [f"{r}.{p}" for p in fixture.PLACES for r in ("desk", "branch", "tax")]
    lat: list[float] = []
    sizes: dict[str, int] = {}
    for _ in range(rounds):
        for name in names:
            t0 = time.perf_counter()
            page = queries.worklist(db.lf.db, officers[name], limit=100)
            lat.append(time.perf_counter() - t0)
            sizes[name] = len(page.rows)
    with db.lf.db.read() as s:
        open_items = int(s.execute(text("SELECT count(*) FROM work_item WHERE state IN ('ready', 'claimed')"))
                         .scalar_one())
    return {"queries": len(lat), "p50_ms": pct_ms(lat, 0.5), "p95_ms": pct_ms(lat, 0.95), "p99_ms": pct_ms(lat, 0.99),
            "open_work_items": open_items, "page": 100, "officers": len(names)}


def bench_sweep(db: Db, notices: int = 300) -> dict[str, Any]:
    """The sweep when nothing new is due (what nearly every minute's sweep is), and the cost of one
    notice when there is work: `notices` of the step_overdue/escalated notices that fall due two working
    hours later are recorded one by one (each is its own transaction, as in a real sweep)."""
    from engine.scheduler import Sweeper

    sweeper = Sweeper(db.lf)
    base = db.clock.now()
    sweeper.sweep()  # catch up with the commands (a) ran: their KPI facts
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        result = sweeper.sweep()
        runs.append((time.perf_counter() - t0, result.total))
    quiet = min(r[0] for r in runs)
    with db.lf.db.read() as s:
        latest = s.execute(text("SELECT max(at) FROM deadline_notice")).scalar()
    later = base
    if latest is not None:  # an earlier run on a kept fixture may have recorded some already
        latest_dt = latest if isinstance(latest, datetime) else datetime.fromisoformat(str(latest))
        later = max(base, latest_dt.replace(tzinfo=UTC) if latest_dt.tzinfo is None else latest_dt)
    later = db.lf.calendar.add(later, "PT2H")
    directory = db.lf.directory.get()
    t0 = time.perf_counter()
    found = sweeper.candidates("step_overdue", later)[: notices // 2]
    found += sweeper.candidates("escalated", later)[: notices - len(found)]
    find_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    recorded = sum(sweeper.record(c, later, directory) for c in found)
    busy_s = time.perf_counter() - t0
    with db.lf.db.read() as s:
        open_items = int(s.execute(text("SELECT count(*) FROM work_item WHERE state IN ('ready', 'claimed')"))
                         .scalar_one())
    return {"open_work_items": open_items, "nothing_new_s": round(quiet, 3),
            "nothing_new_runs_s": [round(r[0], 3) for r in runs], "notices_recorded": recorded,
            "finding_them_s": round(find_s, 3),
            "ms_per_notice": round(busy_s / recorded * 1000, 3) if recorded else None}


def bench_kpi(db: Db) -> dict[str, Any]:
    from engine.kpi import RatingRules, kpi_report
    from engine.kpi_facts import refresh_item_facts

    lf = db.lf
    now = db.clock.now()
    refresh_item_facts(lf.db, lf.calendar, now)
    rules = RatingRules.load(lf.settings.kpi_file)
    out: dict[str, Any] = {}
    for group in ("unit", "officer", "procedure"):
        best = None
        for _ in range(2):
            t0 = time.perf_counter()
            with lf.db.read() as s:
                report = kpi_report(s, group, now - timedelta(days=365), now, now, rules)
            took = time.perf_counter() - t0
            best = took if best is None else min(best, took)
        out[group] = {"seconds": round(best or 0, 3), "rows": len(report.rows),
                      "handled": sum(r.handled for r in report.rows)}
    out["worst_s"] = max(v["seconds"] for v in out.values() if isinstance(v, dict))
    return out


def bench_verify(db: Db, sample: int, workers: int) -> dict[str, Any]:
    """The full check (chain, replay, projections, signatures) on a random sample of dossiers, and
    the streamed chain layer (`verify --all --chains`) over every event of the database."""
    from engine.chains import verify_chains
    from engine.integrity import IntegrityReport, verify_parallel

    with db.lf.db.engine.connect() as conn:
        ids = fixture.sample_ids(conn, sample)
    t0 = time.perf_counter()
    report = IntegrityReport()
    verify_parallel(db.lf.db, db.lf.procedures, ids, report, workers)
    events, findings = report.events, report.findings
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    chain_events, chain_findings = verify_chains(db.lf.db, workers=workers)
    chain_took = time.perf_counter() - t0
    return {"dossiers": len(ids), "events": events, "seconds": round(took, 2), "workers": workers,
            "events_per_s": round(events / took), "findings": len(findings), "first": findings[0] if findings else None,
            "chains": {"events": chain_events, "seconds": round(chain_took, 1),
                       "events_per_s": round(chain_events / chain_took), "findings": len(chain_findings)}}


def bench_replay(db: Db, reps: int) -> dict[str, Any]:
    from engine.history import replay
    from engine.runtime.workflow import ProcedureCache

    lf = db.lf
    o = lf.directory.get().officers
    desk = o["desk.haichau"]
    st = lf.runtime.open(desk, "land_transfer", desk.unit, {"name": "Phan Văn Năm Mươi", "id_number": "3"}, {})
    (item,) = st.open_items()
    st = lf.runtime.complete(desk, item.id or 0, dict(LAND_TRANSFER_PATH[0][1]))
    (item,) = st.open_items()
    pad(db, st.id, item.id or 0, 50)
    warm: list[float] = []
    cold: list[float] = []
    events = 0
    for _ in range(reps):
        t0 = time.perf_counter()
        with lf.db.read() as s:
            r = replay(s, lf.procedures, st.id)
        warm.append(time.perf_counter() - t0)
        assert not r.problems, r.problems
        events = r.state.last_seq
        fresh = ProcedureCache()  # `landflow replay` in a new process: the procedure is loaded too
        t0 = time.perf_counter()
        with lf.db.read() as s:
            replay(s, fresh, st.id)
        cold.append(time.perf_counter() - t0)
    return {"events": events, "median_ms": median_ms(warm), "cold_procedure_median_ms": median_ms(cold)}


# -- running it ---------------------------------------------------------------------------------------------

@contextmanager
def databases(args: argparse.Namespace, say: Callable[[str], None]) -> Iterator[tuple[Db, Db]]:
    tmp = Path(tempfile.mkdtemp(prefix="landflow-bench-scale."))
    opened: list[Db] = []
    try:
        if args.database == "sqlite":
            urls = {"small": f"sqlite:///{tmp / 'small.db'}", "big": f"sqlite:///{tmp / 'big.db'}"}
            yield _prepare(urls, tmp, args, say, opened, reuse=False)
            return
        if args.pg_url:
            # `--pg-url`: its fixture is kept between runs; the small one goes into a schema beside it
            small_url = _schema(args.pg_url, "bench_small")
            yield _prepare({"small": small_url, "big": args.pg_url}, tmp, args, say, opened, reuse=True)
            return
        with pg.postgres_url() as url:
            yield _prepare({"small": _schema(url, "bench_small"), "big": _schema(url, "bench_big")}, tmp, args,
                           say, opened, reuse=False)
    finally:
        for d in opened:
            d.lf.close()


def _schema(url: str, name: str) -> str:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        c.execute(text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    return fixture.pg_option(url, f"-csearch_path={name}")


def _prepare(urls: dict[str, str], tmp: Path, args: argparse.Namespace, say: Callable[[str], None],
             opened: list[Db], reuse: bool) -> tuple[Db, Db]:
    dbs = {}
    for label, n in (("small", args.small), ("big", args.dossiers)):
        var_dir = tmp / label
        var_dir.mkdir(exist_ok=True)
        info = None
        if label == "big" and reuse:
            var_dir = args.var_dir or var_dir
            engine = create_engine(urls[label])
            with engine.connect() as c:
                count = int(c.execute(text("SELECT count(*) FROM dossier")).scalar_one())
                still_open = int(c.execute(text("SELECT count(*) FROM dossier WHERE status NOT IN "
                                                "('done', 'stopped', 'cancelled')")).scalar_one())
            engine.dispose()
            info = fixture.FixtureInfo(count, still_open, 0, 0, 0, 0.0, fixture.FIXTURE_NOW)
            say(f"[big] reusing the fixture at --pg-url: {count:,} dossiers ({still_open:,} open)")
        else:
            say(f"[{label}] building a fixture of {n:,} dossiers")
            def tagged(message: str, tag: str = label) -> None:
                say(f"[{tag}] {message}")

            info = fixture.build_fixture(urls[label], var_dir, n, args.open_share, say=tagged)
            say(f"[{label}] {info.dossiers:,} dossiers ({info.open_dossiers:,} open), {info.events:,} events, "
                f"built in {info.seconds:.0f} s")
        d = open_db(label, urls[label], var_dir, fixture.FIXTURE_NOW, info)
        opened.append(d)
        dbs[label] = d
    return dbs["small"], dbs["big"]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("postgresql", "sqlite"),
                        default="postgresql" if pg.available() else "sqlite")
    parser.add_argument("--dossiers", type=int, default=100_000, help="dossiers in the big database")
    parser.add_argument("--small", type=int, default=1_000, help="dossiers in the small database")
    parser.add_argument("--open-share", type=float, default=0.2)
    parser.add_argument("--pg-url", default=None, help="a database holding a fixture (python -m bench.fixture)")
    parser.add_argument("--var-dir", type=Path, default=None, help="the --var-dir that fixture was built with")
    parser.add_argument("--rounds", type=int, default=40, help="(a): dossiers taken through the happy path per db")
    parser.add_argument("--long-dossiers", type=int, default=12, help="(b): dossiers of each history length")
    parser.add_argument("--verify-sample", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, flush=True)

    figures: dict[str, Any] = {"database": args.database, "load_before": os.getloadavg()[0]}
    with databases(args, say) as (small, big):
        figures["fixture"] = {"dossiers": big.info.dossiers if big.info else None,
                              "open": big.info.open_dossiers if big.info else None,
                              "events": big.info.events if big.info else None,
                              "build_s": round(big.info.seconds, 1) if big.info else None,
                              "phases_s": {k: round(v, 1) for k, v in (big.info.phases if big.info else {}).items()}}
        if big.info and big.info.seconds:
            figures["fixture"]["sample_problems"] = _sample_check(big)
        a = bench_dossier_count(small, big, args.rounds)
        say(f"(a) one command: {a['small']['median_ms']} ms with {a['small']['dossiers']:,} dossiers, "
            f"{a['big']['median_ms']} ms with {a['big']['dossiers']:,}: ratio {a['ratio']} (target <= 1.2); "
            f"statements per complete {a['small']['statements_per_complete']} vs "
            f"{a['big']['statements_per_complete']}")
        b = bench_history_length(small, args.long_dossiers)
        say(f"(b) 5 vs 500 events: {b['short']} vs {b['long']}: ratios {b['ratios']} (target <= 1.2)")
        c: dict[str, Any] = {}
        c["worklist"] = bench_worklist(big, 30)
        say(f"(c) worklist: p50 {c['worklist']['p50_ms']} ms, p99 {c['worklist']['p99_ms']} ms (target <= 20) over "
            f"{c['worklist']['open_work_items']:,} open work items")
        c["sweep"] = bench_sweep(big)
        say(f"(c) sweep: nothing new {c['sweep']['nothing_new_s']} s (target <= 1); with work: "
            f"{c['sweep']['ms_per_notice']} ms per notice ({c['sweep']['notices_recorded']} recorded)")
        c["kpi"] = bench_kpi(big)
        say(f"(c) KPI for a year: {c['kpi']['worst_s']} s at worst (target <= 2): {c['kpi']}")
        c["replay"] = bench_replay(big, 15)
        say(f"(c) replay of {c['replay']['events']} events: {c['replay']['median_ms']} ms "
            f"({c['replay']['cold_procedure_median_ms']} ms loading the procedure too; target <= 50)")
        c["verify"] = bench_verify(big, args.verify_sample, args.workers)
        say(f"(c) verify: {c['verify']['events_per_s']:,} events/s with {args.workers} processes, full check "
            f"({c['verify']['dossiers']} dossiers sampled, {c['verify']['findings']} findings); hash chains only: "
            f"{c['verify']['chains']['events_per_s']:,} events/s over all {c['verify']['chains']['events']:,} "
            f"({c['verify']['chains']['findings']} findings); target >= 200,000")
    ratio = max(a["ratio"], b["ratio"])
    targets = {
        "command_1k_vs_big": {"target": 1.2, "reached": a["ratio"], "met": a["ratio"] <= 1.2},
        "command_5_vs_500_events": {"target": 1.2, "reached": b["ratio"], "met": b["ratio"] <= 1.2},
        "worklist_p99_ms": {"target": 20, "reached": c["worklist"]["p99_ms"], "met": c["worklist"]["p99_ms"] <= 20},
        "sweep_nothing_new_s": {"target": 1.0, "reached": c["sweep"]["nothing_new_s"],
                                "met": c["sweep"]["nothing_new_s"] <= 1.0},
        "kpi_year_s": {"target": 2.0, "reached": c["kpi"]["worst_s"], "met": c["kpi"]["worst_s"] <= 2.0},
        "verify_events_per_s": {"target": 200_000, "reached": c["verify"]["events_per_s"],
                                "met": c["verify"]["events_per_s"] >= 200_000},
        "verify_chains_events_per_s": {"target": 200_000, "reached": c["verify"]["chains"]["events_per_s"],
                                       "met": c["verify"]["chains"]["events_per_s"] >= 200_000},
        "replay_50_events_ms": {"target": 50, "reached": c["replay"]["median_ms"],
                                "met": c["replay"]["median_ms"] <= 50},
    }
    figures.update(targets=targets, dossier_count=a, history_length=b, big_database=c,
                   load_after=os.getloadavg()[0])
    result = write_result("scale", ratio, 1.2, figures, higher_is_better=False)
    missed = [k for k, v in targets.items() if not v["met"]]
    say(f"ratio {ratio} (worse of (a) and (b); target <= 1.2); targets missed: {', '.join(missed) or 'none'}")
    return result


def _sample_check(db: Db) -> list[str]:
    with db.lf.db.engine.connect() as conn:
        ids = fixture.sample_ids(conn, 50)
    return fixture.verify_sample(db.lf, ids)


if __name__ == "__main__":
    main()
