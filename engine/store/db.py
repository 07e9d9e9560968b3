"""Database connections: SQLite (embedded default) or PostgreSQL, with the locking each needs.

Commands lock their dossier row before reading it (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite
every write transaction starts with `BEGIN IMMEDIATE`, which takes the database write lock up
front). Without that, two officers completing the same item would both read version n and one would
fail late, at commit, with a less useful error.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from .models import Base


def _drop_if_closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pre-ping without a round trip. An idle connection has nothing to read; one the server closed
    (restart, failover, `pg_terminate_backend`, idle timeout) has its farewell or EOF waiting on the
    socket. SQLAlchemy's `pool_pre_ping` sends a query instead: one round trip per checkout, three per
    HTTP request, a quarter of a completion's time on this machine (bench/http_api.py)."""
    try:
        poller = select.poll()  # not select.select: it fails on descriptors above 1023
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        events = poller.poll(0)
    except (OSError, ValueError) as err:
        raise DisconnectionError("the connection's socket is gone") from err
    if events:
        raise DisconnectionError("the server closed this connection")  # the pool opens a fresh one


class Database:
    """One database: an engine for writes, one for reads, and session factories for both."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5, busy_timeout: float = 30.0):
        self.url = url
        parsed = make_url(url)
        self.dialect = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql"
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = self._sqlite_engine(url, immediate=True, echo=echo, busy=busy_timeout)
            self.read_engine = self._sqlite_engine(url, immediate=False, echo=echo, busy=busy_timeout)
        else:
            self.engine = create_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=pool_size * 2, pool_recycle=3600, future=True,
            )
            event.listen(self.engine, "checkout", _drop_if_closed_by_server)
            self.read_engine = self.engine
        # One-statement look-ups made on every request (the token, the dossier an answer shows): no
        # transaction around them on PostgreSQL, so BEGIN and COMMIT cost no round trips. Same pool.
        self.lookup_engine = (self.read_engine if self.dialect == "sqlite"
                              else self.read_engine.execution_options(isolation_level="AUTOCOMMIT"))
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @staticmethod
    def _sqlite_engine(url: str, *, immediate: bool, echo: bool, busy: float = 30.0) -> Engine:
        # A pool, not a connection per transaction: opening SQLite and setting its pragmas costs more
        # than a whole command.
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": busy, "check_same_thread": False},
            pool_size=8, max_overflow=16,
        )

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction on a Core connection: the command path, where the ORM costs too much."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def lookup(self) -> Iterator[Connection]:
        """A connection for single-statement reads (one statement sees one consistent snapshot)."""
        with self.lookup_engine.connect() as conn:
            yield conn

    def lock_clause(self) -> dict[str, Any]:
        return {"with_for_update": True} if self.dialect == "postgresql" else {}

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        Base.metadata.drop_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
