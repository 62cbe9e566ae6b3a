"""Migration 0002 keeps every list item's link, up and down, on both backends."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from contactlists.core.migrate import alembic_config
from tests.conftest import (
    DEFAULT_POSTGRES_URL,
    POSTGRES_URL_VARIABLE,
    _administer,
    _in_thread,
    _postgres_unavailable,
)

# A three-part link: the downgrade keeps its first part, the profile id.
THREE_PART = "UPDATE contact_list_items SET sales_navigator_lead = 'ACwAAB,NAME_SEARCH,k3Xz'"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own (migrations run down here), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    admin = make_url(os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL))
    name = f"contactlists_migration_{secrets.token_hex(6)}"
    try:
        _administer(admin, f'CREATE DATABASE "{name}"')
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        _postgres_unavailable(f"PostgreSQL is unreachable: {exc!r}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        _administer(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    move = command.downgrade if down else command.upgrade
    _in_thread(lambda: move(alembic_config(url), revision))


def _run(url: str, statements: list[str]) -> list[object]:
    """Statements in one transaction through the service's async driver; the
    first column of each one's first row."""

    async def go() -> list[object]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                results = [await conn.execute(sa.text(s)) for s in statements]
                return [r.scalar() if r.returns_rows else None for r in results]
        finally:
            await engine.dispose()

    return _in_thread(lambda: asyncio.run(go()))


def test_an_items_link_survives_the_migration_both_ways(empty_database: str) -> None:
    url = empty_database
    _migrate(url, "0001")
    _run(url, _SEED)
    _migrate(url, "head")
    # An item from before keeps its profile id: the link's one-part form.
    assert _run(url, ["SELECT sales_navigator_lead FROM contact_list_items"]) == ["ACwAAB"]
    _run(url, [THREE_PART])
    _migrate(url, "0001", down=True)
    assert _run(url, ["SELECT profile_id FROM contact_list_items"]) == ["ACwAAB"]


_SEED = [
    "INSERT INTO accounts (id, name, unlimited, created_at) "
    "VALUES ('acct_1', 'a', true, '2026-11-27 00:00:00+00')",
    "INSERT INTO contact_lists (id, account_id, mode, name, filters, contact_count, provider, "
    "created_at, updated_at) VALUES ('cl_1', 'acct_1', 'live', 'l', '{}', 1, 'sandbox', "
    "'2026-11-27 00:00:00+00', '2026-11-27 00:00:00+00')",
    "INSERT INTO base_contacts (id, account_id, mode, profile_id, created_at, updated_at) "
    "VALUES ('bc_1', 'acct_1', 'live', 'ACwAAB', '2026-11-27 00:00:00+00', "
    "'2026-11-27 00:00:00+00')",
    "INSERT INTO contact_list_items (id, list_id, position, base_contact_id, profile_id, "
    "seniority, created_at) VALUES ('ci_1', 'cl_1', 0, 'bc_1', 'ACwAAB', '[]', "
    "'2026-11-27 00:00:00+00')",
]
