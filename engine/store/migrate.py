"""Schema migrations with Alembic, run programmatically (`landflow init`, tests)."""

from __future__ import annotations

from functools import lru_cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from config.settings import ROOT


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    """The revisions the code's migrations end at (one, once the branches are merged). Read once per process."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def database_heads(engine: Engine) -> frozenset[str]:
    """The revisions the database says it is at (empty: never migrated, e.g. built by `create_all`)."""
    with engine.connect() as conn:
        return frozenset(MigrationContext.configure(conn).get_current_heads())
