"""Alembic driven from code, so the installed package migrates without an ini file."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from contactlists.db import Database, DatabaseNotMigrated, EngineOptions


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("contactlists") / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(slug)s")
    return config


def upgrade(database_url: str, options: EngineOptions | None = None) -> None:
    """Migrate to head; `options` (pool, statement timeout) reach the engine env.py builds."""
    config = alembic_config(database_url)
    config.attributes["engine_options"] = options or {}
    command.upgrade(config, "head")


async def ensure_migrated(database: Database, database_url: str) -> None:
    """Refuse to serve a database whose schema is not at this code's head."""
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.engine.connect() as conn:
        revision = await conn.run_sync(current)
    if revision != head:
        raise DatabaseNotMigrated(
            f"The database at {database_url!r} is not migrated "
            f"(at {revision or 'an empty schema'}, code expects {head}). "
            "Run `contactlists migrate` first."
        )
