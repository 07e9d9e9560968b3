"""A province's worth of dossiers, fast: templates made by the real engine, then cloned in bulk.

Generating a million dossiers through the commands would take hours; writing rows by hand would
test a database landflow never writes. So: a few hundred *template* dossiers go through the real
engine (land_transfer, six desks, receipt days over a year, every stage from just received to done,
some steps late), the real deadline sweep records their notices and the KPI facts, and then each
template is cloned many times into rows that are exactly what the engine would have written for
another dossier received the same day: a new id and dossier code (the desk's own per-day counter),
a new applicant, the decision signature made again over the new code with the same officer key, and
the hash chain computed again (the hash covers the dossier id). Snapshots, work items, signals,
deadline notices and KPI facts come along with new ids. `history.verify` passes on clones (the bench
checks a sample); the structure of the rows is the engine's, not a guess.

PostgreSQL is loaded with COPY, with the secondary indexes, unique and foreign-key constraints of
the big tables dropped during the load and built again after it (then ANALYZE); SQLite with
executemany in large transactions. Both continue the id sequences and dossier-code counters, so
commands run on the result as on any database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import random
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, select, text

from config.settings import Settings
from engine.bootstrap import Landflow, build, load_bundled_organisation, seed
from engine.clock import FixedClock
from engine.eventlog import GENESIS, event_hash
from engine.jsoncanon import canonical, iso
from engine.signatures import decision_document, officer_key, sign_decision
from engine.store.models import CodeCounterRow

from .common import LAND_TRANSFER_PATH

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PLACES = ("haichau", "bengiang", "tamky", "haivan", "lienchieu", "hoavang")
ROLE_OF_STEP = {"receive": "desk", "check_rights": "branch", "send_form19": "branch", "tax_assess": "tax",
                "tax_payment": "tax", "update_register": "branch", "return_result": "desk"}
# How long an officer takes over a step (working time): mostly in time, sometimes late.
GAPS = (("PT1H", 30), ("PT3H", 30), ("P1D", 20), ("P2D", 10), ("P4D", 6), ("P7D", 4))
TABLES = ("dossier", "work_item", "case_event", "signal", "dossier_state", "deadline_notice", "kpi_item")
DB_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores naive UTC instants (both databases)
FIXTURE_NOW = datetime(2026, 6, 30, 16, 0, tzinfo=VN)


def db_time(value: datetime | None) -> str | None:
    """A stored instant as text; naive values (read without the model's types) are UTC already."""
    if value is None:
        return None
    return (value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)).strftime(DB_TIME)


@dataclass
class FixtureInfo:
    dossiers: int
    open_dossiers: int
    events: int
    work_items: int
    templates: int
    seconds: float
    now: datetime
    phases: dict[str, float] = field(default_factory=dict)


def pg_option(url: str, option: str) -> str:
    """Add a server setting (`-cname=value`) to a PostgreSQL URL's libpq `options`."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = " ".join(filter(None, (query.get("options"), option)))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


# -- the templates: the real engine --------------------------------------------------------------------

def engine_for(url: str, var_dir: Path, clock: FixedClock) -> Landflow:
    """`landflow init` (migrations, bundled procedures) plus the bundled officers; the bench's clock."""
    from api.cli.setup import initialise

    if not url.startswith("sqlite"):  # a fixture is rebuilt, never recovered: no waiting for the disk
        url = pg_option(url, "-csynchronous_commit=off")
    settings = Settings.from_env({}, database_url=url, var_dir=var_dir, checkpoint_minutes=0,
                             ed25519_keys=True)  # the development option: benches sign with Ed25519
    lf = build(settings, clock=clock)
    initialise(lf, procedures=True, say=lambda _s: None)
    seed(lf, load_bundled_organisation(settings), with_officers=True)
    return lf


def working_days(lf: Landflow, end: datetime, count: int) -> list[datetime]:
    """The last `count` working days before `end` (local midnight of each)."""
    days: list[datetime] = []
    day = end.astimezone(VN).replace(hour=0, minute=0, second=0, microsecond=0)
    while len(days) < count:
        day -= timedelta(days=1)
        probe = day.replace(hour=10)
        if lf.calendar.add(probe, "PT1M") == probe + timedelta(minutes=1):  # 10:00 lies in working time
            days.append(day)
    return days


def make_templates(lf: Landflow, clock: FixedClock, key_dir: Path, finished_days: int, open_days: int,
                   seed_: int = 7) -> list[int]:
    """Template dossiers through the real engine: per desk, one finished dossier per receipt day over the
    year, and for the last `open_days` working days one open dossier at each stage 0..6."""
    rng = random.Random(seed_)
    now = clock.now()
    keys = {p: officer_key(lf.db, key_dir, f"branch.{p}", now) for p in PLACES}
    officers = lf.directory.refresh().officers
    commune = {p: officers[f"desk.{p}"].unit for p in PLACES}
    year = working_days(lf, now - timedelta(days=21), 230)
    finished = [year[int(i * len(year) / finished_days)] for i in range(finished_days)]
    recent = working_days(lf, now, open_days)
    plan = [(day, place, 7) for day in finished for place in PLACES]
    plan += [(day, place, stage) for day in recent for place in PLACES for stage in range(7)]
    ids = []
    for n, (day, place, stage) in enumerate(plan):
        t = day.replace(hour=7, minute=30) + timedelta(minutes=rng.randrange(0, 200))
        if t >= now:
            continue
        clock.set(t)
        st = lf.runtime.open(officers[f"desk.{place}"], "land_transfer", commune[place],
                             {"name": f"APPLICANT-T{n:06d}", "id_number": f"ID-T{n:06d}"},
                             {"sheet": rng.randrange(1, 90), "number": rng.randrange(1, 900)})
        for step, data in LAND_TRANSFER_PATH[:stage]:
            t = lf.calendar.add(t, rng.choices([g for g, _ in GAPS], [w for _, w in GAPS])[0])
            if t >= now:
                break
            clock.set(t)
            (item,) = st.open_items()
            who = officers[f"{ROLE_OF_STEP[step]}.{place}"]
            signature = None
            if step == "update_register":
                signature = sign_decision(keys[place], st.code, step, item.ordinal, data, who.username, t).as_dict()
            st = lf.runtime.complete(who, item.id or 0, data, signature=signature)
        ids.append(st.id)
    clock.set(now)
    return ids


# -- reading a template back -----------------------------------------------------------------------------

@dataclass
class EventT:
    seq: int
    type: str
    actor: str
    unit: str | None
    step: str | None
    at: str
    head_pre: str
    head_post: str
    payload: str
    signed: dict[str, Any] | None  # for re-signing: step, item, data, officer, signed_at, old value


@dataclass
class Template:
    id: int
    code: str
    name: str
    id_number: str
    place: str
    dossier: dict[str, Any]
    items: list[dict[str, Any]]
    events: list[EventT]
    signals: list[dict[str, Any]]
    notices: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    snapshot: tuple[int, int, str] | None  # version, seq, JSON text
    is_open: bool


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: db_time(v) if isinstance(v, datetime) else v for k, v in row.items()}


def _head_parts(dossier_id: int, ev: Any) -> tuple[str, str]:
    head = canonical({"d": dossier_id, "s": ev.seq, "t": ev.type, "a": ev.actor, "u": ev.unit, "st": ev.step,
                      "at": iso(ev.at)})
    marker = f'"d":{dossier_id},'
    i = head.index(marker) + len('"d":')
    return head[:i], head[i + len(str(dossier_id)):]


def read_template(conn: Connection, dossier_id: int) -> Template:
    def rows(sql: str) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in conn.execute(text(sql), {"d": dossier_id})]

    (d,) = rows("SELECT * FROM dossier WHERE id = :d")
    applicant = json.loads(d["applicant"])
    events = []
    for ev in conn.execute(text("SELECT * FROM case_event WHERE dossier_id = :d ORDER BY seq"), {"d": dossier_id}):
        ev_at = ev.at if isinstance(ev.at, datetime) else datetime.fromisoformat(str(ev.at))
        ev_at = ev_at.replace(tzinfo=UTC) if ev_at.tzinfo is None else ev_at
        payload = json.loads(ev.payload)
        signed = None
        if "signature" in payload:
            signed = {"step": ev.step, "item": payload["item"], "data": payload.get("data", {}), "officer": ev.actor,
                      "signed_at": payload["signature"]["signed_at"], "old": payload["signature"]["value"]}

        pre, post = _head_parts(dossier_id, SimpleNamespace(seq=ev.seq, type=ev.type, actor=ev.actor, unit=ev.unit,
                                                            step=ev.step, at=ev_at))
        assert event_hash(ev.prev_hash, dossier_id, ev.seq, ev.type, ev.actor, ev.unit, ev.step, ev_at,
                          ev.payload) == ev.hash, "the fixture's hash does not match the engine's"
        events.append(EventT(ev.seq, ev.type, ev.actor, ev.unit, ev.step, db_time(ev_at) or "", pre, post,
                             ev.payload, signed))
    snap = conn.execute(text("SELECT version, seq, state FROM dossier_state WHERE dossier_id = :d"),
                        {"d": dossier_id}).first()
    place = next(p for p in PLACES if d["desk_unit"] == _PLACE_UNITS.get(p))
    return Template(
        id=dossier_id, code=d["code"], name=applicant["name"], id_number=applicant["id_number"], place=place,
        dossier=_plain(d), items=[_plain(r) for r in rows("SELECT * FROM work_item WHERE dossier_id = :d ORDER BY id")],
        events=events, signals=[_plain(r) for r in rows("SELECT * FROM signal WHERE dossier_id = :d ORDER BY id")],
        notices=[_plain(r) for r in rows("SELECT * FROM deadline_notice WHERE dossier_id = :d ORDER BY id")],
        facts=[_plain(r) for r in rows("SELECT * FROM kpi_item WHERE dossier_id = :d")],
        snapshot=None if snap is None else (snap.version, snap.seq, zlib.decompress(bytes(snap.state)).decode()),
        is_open=d["status"] not in ("done", "stopped", "cancelled"))


_PLACE_UNITS: dict[str, str] = {}


# -- cloning -----------------------------------------------------------------------------------------------

@dataclass
class Ids:
    dossier: int
    item: int
    event: int
    signal: int
    notice: int


@dataclass
class Batch:
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> None:
        if table not in self.columns:
            self.columns[table] = tuple(row)
        self.rows[table].append(tuple(row.values()))

    def size(self) -> int:
        return sum(len(r) for r in self.rows.values())


def clone(t: Template, ids: Ids, code: str, key: Ed25519PrivateKey, batch: Batch) -> None:
    did = ids.dossier
    ids.dossier += 1
    name = f"Nguyễn Văn {did}"
    id_number = f"{did:012d}"
    ascii_name = json.dumps(name)[1:-1]  # snapshots are ASCII JSON

    def swap(s: str) -> str:
        return s.replace(t.code, code).replace(t.name, name).replace(t.id_number, id_number)

    prev = GENESIS
    for ev in t.events:
        payload = swap(ev.payload)
        if ev.signed is not None:
            s = ev.signed
            doc = decision_document(code, s["step"], s["item"], s["data"], s["officer"], s["signed_at"])
            payload = payload.replace(s["old"], base64.b64encode(key.sign(doc)).decode())
        h = hashlib.sha256(f"{prev}\n{ev.head_pre}{did}{ev.head_post}\n{payload}".encode()).hexdigest()
        batch.add("case_event", {"id": ids.event, "dossier_id": did, "seq": ev.seq, "type": ev.type,
                                 "actor": ev.actor, "unit": ev.unit, "step": ev.step, "at": ev.at, "payload": payload,
                                 "prev_hash": prev, "hash": h})
        ids.event += 1
        prev = h
    d = dict(t.dossier)
    d.update(id=did, code=code, applicant=swap(d["applicant"]), head_hash=prev)
    batch.add("dossier", d)
    item_ids: dict[int, int] = {}
    for it in t.items:
        row = dict(it)
        item_ids[it["id"]] = ids.item
        row.update(id=ids.item, dossier_id=did)
        ids.item += 1
        batch.add("work_item", row)
    for sg in t.signals:
        row = dict(sg)
        row.update(id=ids.signal, dossier_id=did, reason=swap(row["reason"]) if row["reason"] else row["reason"])
        ids.signal += 1
        batch.add("signal", row)
    for nt in t.notices:
        row = dict(nt)
        row.update(id=ids.notice, dossier_id=did)
        ids.notice += 1
        batch.add("deadline_notice", row)
    for f in t.facts:
        row = dict(f)
        row.update(work_item_id=item_ids[f["work_item_id"]], dossier_id=did)
        batch.add("kpi_item", row)
    if t.snapshot is not None:
        version, seq, state = t.snapshot
        state = state.replace(t.code, code).replace(t.name, ascii_name).replace(t.id_number, id_number)
        batch.add("dossier_state", {"dossier_id": did, "version": version, "seq": seq,
                                    "state": zlib.compress(state.encode(), 6)})


# -- writing ------------------------------------------------------------------------------------------------

class Loader:
    """Bulk writes for one dialect; `prepare` and `finish` wrap the whole load."""

    def __init__(self, lf: Landflow):
        self.lf = lf
        self.dialect = lf.db.dialect
        self.saved: list[tuple[str, str]] = []  # (kind, statement) to run again after the load

    def prepare(self) -> None:
        if self.dialect != "postgresql":
            return
        with self.lf.db.engine.begin() as conn:
            cons = conn.execute(text(
                "SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype "
                "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(:t) AND c.contype IN ('u', 'f') "
                "ORDER BY c.contype DESC"), {"t": list(TABLES)}).all()
            idx = conn.execute(text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(:t) "
                "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname)"), {"t": list(TABLES)}).all()
            for name, table, definition, kind in cons:
                conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
                self.saved.append((str(kind), f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
            for name, definition in idx:
                conn.execute(text(f'DROP INDEX "{name}"'))
                self.saved.append(("i", str(definition)))

    def write(self, batch: Batch) -> None:
        raw = self.lf.db.engine.raw_connection()
        try:
            cur = raw.cursor()
            if self.dialect == "postgresql":
                cur.execute("SET synchronous_commit = off")
                for table, rows in batch.rows.items():
                    if not rows:
                        continue
                    cols = ", ".join(batch.columns[table])
                    with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                cur.execute("BEGIN")
                for table, rows in batch.rows.items():
                    if rows:
                        names = batch.columns[table]
                        cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                                        f"({', '.join('?' * len(names))})", rows)
            raw.commit() if self.dialect == "postgresql" else cur.execute("COMMIT")
        finally:
            raw.close()

    def finish(self, say: Callable[[str], None]) -> None:
        if self.dialect == "postgresql":
            # unique and primary-key backed indexes first, then plain indexes, foreign keys last
            order = {"u": 0, "i": 1, "f": 2}
            with self.lf.db.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("SET maintenance_work_mem = '512MB'"))
                conn.execute(text("SET max_parallel_maintenance_workers = 2"))
                for _kind, statement in sorted(self.saved, key=lambda s: order[s[0]]):
                    t0 = time.perf_counter()
                    conn.execute(text(statement))
                    say(f"  {statement[:90]} ({time.perf_counter() - t0:.1f} s)")
                for table in ("dossier", "work_item", "case_event", "signal", "deadline_notice"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT coalesce(max(id), 1) FROM {table}))"))
                conn.execute(text("ANALYZE"))
        else:
            with self.lf.db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()


def _next_ids(conn: Connection) -> Ids:
    def nxt(table: str) -> int:
        return int(conn.execute(text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")).scalar_one())

    return Ids(nxt("dossier"), nxt("work_item"), nxt("case_event"), nxt("signal"), nxt("deadline_notice"))


def build_fixture(url: str, var_dir: Path, dossiers: int, open_share: float = 0.2, now: datetime = FIXTURE_NOW,
                  say: Callable[[str], None] = print, finished_days: int | None = None,
                  open_days: int | None = None) -> FixtureInfo:
    """`dossiers` dossiers (`open_share` of them open) in the empty database at `url`."""
    from engine.scheduler import Sweeper

    t_start = time.perf_counter()
    phases: dict[str, float] = {}
    clock = FixedClock(now)
    lf = engine_for(url, var_dir, clock)
    try:
        officers = lf.directory.get().officers
        _PLACE_UNITS.update({p: officers[f"desk.{p}"].unit for p in PLACES})
        small = dossiers < 5000
        ids = make_templates(lf, clock, var_dir / "keys", finished_days or (8 if small else 60),
                             open_days or (3 if small else 10))
        clock.set(now)
        Sweeper(lf).sweep()  # notices of the templates' deadlines, and their KPI facts
        phases["templates"] = time.perf_counter() - t_start
        say(f"  {len(ids)} template dossiers through the engine ({phases['templates']:.1f} s)")
        with lf.db.engine.connect() as conn:
            templates = [read_template(conn, i) for i in ids]
            start = _next_ids(conn)
            counters = {(a, d): n for a, d, n in conn.execute(
                select(CodeCounterRow.agency, CodeCounterRow.day, CodeCounterRow.last))}
            existing = set(counters)
        keys = {p: officer_key(lf.db, var_dir / "keys", f"branch.{p}", now) for p in PLACES}
        opened = [t for t in templates if t.is_open]
        closed = [t for t in templates if not t.is_open]
        n_open = max(0, round(dossiers * open_share) - len(opened))
        n_closed = max(0, dossiers - len(templates) - n_open)
        plan = list(_spread(opened, n_open)) + list(_spread(closed, n_closed))
        codes = []
        for t in plan:  # each clone's code, decided up front so that producers can split the plan
            agency, day, _n = t.code.rsplit("-", 2)
            counters[(agency, day)] = counters.get((agency, day), 0) + 1
            codes.append(f"{agency}-{day}-{counters[(agency, day)]:04d}")
        t0 = time.perf_counter()
        loader = Loader(lf)
        loader.prepare()
        producers = 1 if lf.db.dialect == "sqlite" or len(plan) < 20_000 else max(1, min(4, os.cpu_count() or 1))
        slices = [(i * len(plan) // producers, (i + 1) * len(plan) // producers) for i in range(producers)]
        starts = []
        at = Ids(start.dossier, start.item, start.event, start.signal, start.notice)
        for lo, hi in slices:
            starts.append(Ids(at.dossier, at.item, at.event, at.signal, at.notice))
            for t in plan[lo:hi]:
                at.dossier += 1
                at.item += len(t.items)
                at.event += len(t.events)
                at.signal += len(t.signals)
                at.notice += len(t.notices)
        if producers == 1:
            _produce(loader.write, plan, codes, starts[0], keys, say, t0)
        else:
            # one process per core, each with its own COPY connection: row making (Python) and COPY
            # ingestion (the server) overlap. Forked after the parent's pool is closed: no connection
            # crosses the fork.
            lf.db.dispose()
            ctx = multiprocessing.get_context("fork")
            procs = [ctx.Process(target=_produce_in_child,
                                 args=(lf.db.url, plan[lo:hi], codes[lo:hi], starts[i], keys, i == 0, t0))
                     for i, (lo, hi) in enumerate(slices)]
            for proc in procs:
                proc.start()
            for proc in procs:
                proc.join()
            if any(proc.exitcode != 0 for proc in procs):
                raise RuntimeError("a fixture producer failed")
        made = len(plan)
        phases["clones"] = time.perf_counter() - t0
        say(f"  {made:,} clones written ({phases['clones']:.1f} s)")
        t0 = time.perf_counter()
        with lf.db.engine.begin() as conn:  # the desks' per-day counters continue after the clones
            for (agency, day), n in counters.items():
                conn.execute(text("UPDATE code_counter SET last = :n WHERE agency = :a AND day = :d"
                                  if (agency, day) in existing else
                                  "INSERT INTO code_counter (agency, day, last) VALUES (:a, :d, :n)"),
                             {"n": n, "a": agency, "d": day})
        loader.finish(say)
        phases["indexes"] = time.perf_counter() - t0
        with lf.db.engine.connect() as conn:
            events = int(conn.execute(text("SELECT count(*) FROM case_event")).scalar_one())
            items = int(conn.execute(text("SELECT count(*) FROM work_item")).scalar_one())
            total = int(conn.execute(text("SELECT count(*) FROM dossier")).scalar_one())
            still_open = int(conn.execute(text(
                "SELECT count(*) FROM dossier WHERE status NOT IN ('done', 'stopped', 'cancelled')")).scalar_one())
        return FixtureInfo(total, still_open, events, items, len(templates), time.perf_counter() - t_start, now, phases)
    finally:
        lf.close()


def _produce(write: Callable[[Batch], None], plan: list[Template], codes: list[str], ids: Ids,
             keys: dict[str, Ed25519PrivateKey], say: Callable[[str], None] | None, t0: float) -> None:
    batch = Batch()
    for made, (t, code) in enumerate(zip(plan, codes, strict=True), start=1):
        clone(t, ids, code, keys[t.place], batch)
        if batch.size() >= 200_000:
            write(batch)
            batch = Batch()
            if say is not None and made % 50_000 < 1500:
                say(f"  {made:,} clones ({made / (time.perf_counter() - t0):,.0f}/s per producer)")
    write(batch)


def _produce_in_child(url: str, plan: list[Template], codes: list[str], ids: Ids,
                      keys: dict[str, Ed25519PrivateKey], talk: bool, t0: float) -> None:
    from engine.store import Database

    db = Database(url, pool_size=1)
    try:
        loader = Loader(SimpleNamespace(db=db))  # type: ignore[arg-type]
        _produce(loader.write, plan, codes, ids, keys, (lambda m: print(m, flush=True)) if talk else None, t0)
    finally:
        db.dispose()


def _spread(templates: list[Template], n: int) -> Iterator[Template]:
    """`n` clones, the templates taken in turn (so every receipt day and stage is represented)."""
    if not templates:
        return
    for i in range(n):
        yield templates[i % len(templates)]


def sample_ids(conn: Connection, n: int, seed_: int = 3) -> list[int]:
    top = int(conn.execute(text("SELECT max(id) FROM dossier")).scalar_one())
    rng = random.Random(seed_)
    return sorted({rng.randrange(1, top + 1) for _ in range(n)})


def verify_sample(lf: Landflow, ids: Iterable[int]) -> list[str]:
    """history.verify on some dossiers: the fixture must be a history the engine accepts."""
    from engine.history import verify

    problems = []
    for did in ids:
        with lf.db.read() as s:
            result = verify(s, lf.procedures, did)
        if not result.ok:
            problems.append(f"dossier {did}: {result.problems[:2]}")
    return problems


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.fixture --url URL --dossiers N`: build a fixture into an empty database you keep
    (then `landflow bench scale --pg-url URL` reuses it instead of building its own)."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--open-share", type=float, default=0.2)
    parser.add_argument("--var-dir", type=Path, default=None, help="keeps the officers' signing keys")
    args = parser.parse_args(argv)
    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="landflow-fixture."))
    info = build_fixture(args.url, var_dir, args.dossiers, args.open_share)
    print(f"{info.dossiers:,} dossiers ({info.open_dossiers:,} open), {info.events:,} events, "
          f"{info.work_items:,} work items in {info.seconds:.0f} s; phases {info.phases}")


if __name__ == "__main__":
    main()
