"""The key's row kept between writes (`SqliteReadStore.one_current`) is never stale.

Every request authenticates; on SQLite the key's row (with the list its path
names) is kept until the database changes, checked with the WAL index's header
(or `PRAGMA data_version` on a database not in WAL mode). A write in any
worker — another app on the same database stands for one — must be seen by
the very next request: a revoked key, a deleted list, a new list.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from contactlists.accounts import service as accounts
from contactlists.core.auth import KEY_QUERY, hash_key
from contactlists.core.readstore import CURRENT_ROWS_MAX, SqliteReadStore, WalIndex
from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, asgi_client, running_app

LISTS = "/v1/contacts/lists"


@pytest.fixture
def sqlite_path(settings: Settings) -> Path:
    if not settings.is_sqlite:
        pytest.skip("the kept rows are SQLite's; PostgreSQL reads the key each time")
    return Path(settings.database_url.split("///", 1)[1])


async def _kept_until_a_commit(
    store: SqliteReadStore, writer: sqlite3.Connection, key: str, check: list[str]
) -> None:
    """A kept row costs the statements `check` (the version's), and a commit
    by `writer` makes the next lookup read the row again."""
    statements: list[str] = []
    params = {"key_hash": hash_key(key)}
    first = await store.one_current(KEY_QUERY, params)
    assert first is not None
    assert first[3] is None  # not revoked
    store._conn.set_trace_callback(statements.append)
    assert await store.one_current(KEY_QUERY, params) == first
    assert statements == check  # answered from the kept row
    writer.execute("UPDATE api_keys SET revoked_at = '2026-11-27 00:00:01.000000'")
    revoked = await store.one_current(KEY_QUERY, params)
    assert revoked is not None
    assert revoked[3] == "2026-11-27 00:00:01.000000"
    assert statements == [*check, *check, statements[-1]]  # the version, then the query
    assert statements[-1].startswith("SELECT")


async def test_rows_are_kept_until_another_connection_commits(
    sqlite_path: Path, acct: AccountKeys
) -> None:
    store = SqliteReadStore(str(sqlite_path))
    writer = sqlite3.connect(sqlite_path, isolation_level=None)
    await store.one(KEY_QUERY, {"key_hash": ""})  # opens the connection
    assert store._wal is not None  # the WAL index's header: no statement at all
    await _kept_until_a_commit(store, writer, acct.live_key, check=[])
    await store.close()
    writer.close()


async def test_without_wal_the_version_is_asked_of_sqlite(
    sqlite_path: Path, tmp_path: Path, acct: AccountKeys
) -> None:
    copy = tmp_path / "rollback-journal.db"
    with sqlite3.connect(sqlite_path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
    store = SqliteReadStore(str(copy))
    writer = sqlite3.connect(copy, isolation_level=None)
    await store.one(KEY_QUERY, {"key_hash": ""})
    assert store._wal is None
    await _kept_until_a_commit(store, writer, acct.live_key, check=["PRAGMA data_version"])
    await store.close()
    writer.close()


def test_a_header_being_rewritten_is_no_version(tmp_path: Path) -> None:
    """A commit writes the header's second copy, then its first: while they
    differ nothing may be kept under either."""
    shm = tmp_path / "db-shm"
    header = bytes(range(48))
    shm.write_bytes(header + header + bytes(32))
    index = WalIndex(str(shm))
    assert index.token() == header
    shm.write_bytes(header + bytes(48) + bytes(32))
    assert index.token() is None
    index.close()


async def test_a_row_read_while_a_commit_lands_is_not_kept(
    sqlite_path: Path, acct: AccountKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteReadStore(str(sqlite_path))
    await store.one(KEY_QUERY, {"key_hash": ""})
    assert store._wal is not None
    monkeypatch.setattr(store._wal, "token", lambda: None)
    params = {"key_hash": hash_key(acct.live_key)}
    assert await store.one_current(KEY_QUERY, params) is not None
    assert not store._current
    await store.close()


async def test_the_kept_rows_are_bounded(sqlite_path: Path) -> None:
    store = SqliteReadStore(str(sqlite_path))
    for n in range(CURRENT_ROWS_MAX + 10):
        assert await store.one_current(KEY_QUERY, {"key_hash": hash_key(f"unknown-{n}")}) is None
    assert len(store._current) <= CURRENT_ROWS_MAX
    await store.close()


async def test_a_write_in_another_worker_is_seen_by_the_next_request(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, acct: AccountKeys
) -> None:
    created = await client.post(LISTS, json=create_body("sandbox-exact-30"), headers=acct.live)
    list_id = created.json()["id"]
    page = f"{LISTS}/{list_id}/contacts"
    for _ in range(2):  # the second is served from the kept row and the page cache
        assert (await client.get(page, headers=acct.live)).status_code == 200
    async with running_app(settings) as other_worker, asgi_client(other_worker) as other:
        assert (await other.delete(f"{LISTS}/{list_id}", headers=acct.live)).status_code == 204
        assert_error(await client.get(page, headers=acct.live), 404, "LIST_NOT_FOUND")
        second = await other.post(LISTS, json=create_body("sandbox-exact-30"), headers=acct.live)
        second_id = second.json()["id"]
        found = await client.get(f"{LISTS}/{second_id}", headers=acct.live)
        assert found.status_code == 200
    for key in await accounts.list_keys(app.state.database, acct.id):
        if key.mode == "live":
            await accounts.revoke_key(app.state.database, key.id)
    assert_error(
        await client.get(f"{LISTS}/{second_id}", headers=acct.live), 401, "REVOKED_API_KEY"
    )
