"""PostgreSQL connections the server closed are replaced at checkout, without a query to find out.

engine/store/db.py checks the socket instead of sending SQLAlchemy's pre-ping `SELECT 1` (a round trip
on every checkout, three per HTTP request).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from engine.store import Database

PG_URL = os.environ.get("LANDFLOW_TEST_PG_URL")


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.fail("LANDFLOW_TEST_PG_URL is not set: run with scripts/with-postgres.sh, or -m 'not postgres'")
    yield PG_URL


def backend_pid(db: Database) -> int:
    with db.lookup() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


@pytest.mark.postgres
def test_an_idle_connection_is_reused(pg_url: str) -> None:
    db = Database(pg_url, pool_size=1)
    try:
        assert backend_pid(db) == backend_pid(db) == backend_pid(db)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_a_connection_the_server_closed_is_replaced_at_checkout(pg_url: str) -> None:
    db = Database(pg_url, pool_size=1)
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        first = backend_pid(db)
        with admin.connect() as c:
            assert c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar_one() is True
            deadline = time.monotonic() + 10
            while c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": first}).scalar_one():
                assert time.monotonic() < deadline, "the backend did not go away"
                time.sleep(0.05)
        # the pooled connection is dead; the next command must not see an error
        marker = uuid.uuid4().hex
        with db.transaction() as conn:
            assert conn.execute(text("SELECT :m"), {"m": marker}).scalar_one() == marker
        assert backend_pid(db) != first
    finally:
        admin.dispose()
        db.dispose()
