"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.store import Base, Database
from engine.store.migrate import upgrade


def test_migrations_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db.engine)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert set(Base.metadata.tables) <= tables
        upgrade(db.engine)  # idempotent
    finally:
        db.dispose()
