"""The start-up schema check, which runs without Alembic: the head it reads from the
revision files is Alembic's own, and only a database at that head is served."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from contactlists.core.db import Database, DatabaseNotMigrated
from contactlists.core.migrate import alembic_config, ensure_migrated, head_revision
from contactlists.core.models import OPEN_RESERVATIONS
from tests.conftest import sqlite_copy


def test_head_is_alembics_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert head_revision() == script.get_current_head()


def test_head_follows_the_chain_and_merges() -> None:
    sources = [
        'revision = "b"\ndown_revision = "a"\n',
        'revision: str = "a"\ndown_revision: str | None = None\n',
        "revision: str = 'c'\ndown_revision: str | None = 'a'\n",
        'revision = "d"\ndown_revision = ("b", "c")\n',
    ]
    assert head_revision(sources) == "d"


def test_two_heads_are_refused() -> None:
    sources = ['revision = "a"\ndown_revision = None\n', 'revision = "b"\ndown_revision = None\n']
    with pytest.raises(RuntimeError, match="exactly one head"):
        head_revision(sources)


async def _check(database_url: str) -> None:
    database = Database(database_url)
    try:
        await ensure_migrated(database, database_url)
    finally:
        await database.dispose()


async def test_a_migrated_database_is_served(database_url: str) -> None:
    await _check(database_url)


async def test_an_empty_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatabaseNotMigrated, match="at an empty schema, code expects"):
        await _check(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")


async def test_a_database_at_another_revision_is_refused(
    migrated_template: Path, tmp_path: Path
) -> None:
    database_url = sqlite_copy(migrated_template, tmp_path)
    with closing(sqlite3.connect(tmp_path / "contactlists.db")) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = 'older'")
    with pytest.raises(DatabaseNotMigrated, match=f"at older, code expects {head_revision()}"):
        await _check(database_url)


def _reflected_predicates(connection: sa.Connection) -> dict[str, str]:
    return {
        str(index["name"]): str(where)
        for index in sa.inspect(connection).get_indexes("credit_ledger")
        for key, where in index.get("dialect_options", {}).items()
        if key.endswith("_where")
    }


async def test_the_open_reservations_index_is_the_models_on_both_backends(
    database_url: str,
) -> None:
    """The model names the partial index's rows for SQLite only (models.py says
    why); the migrated schema holds the same rows on either backend."""
    database = Database(database_url)
    try:
        async with database.engine.connect() as conn:
            predicates = await conn.run_sync(_reflected_predicates)
    finally:
        await database.dispose()
    # PostgreSQL shows its own rendering: `((kind)::text = 'reserve'::text) AND ...`.
    bare = re.sub(r"::\w+|[()\s]", "", predicates["ix_credit_ledger_open_reservations"])
    assert bare == re.sub(r"\s", "", OPEN_RESERVATIONS)
