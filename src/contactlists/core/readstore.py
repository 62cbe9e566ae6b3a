"""The hot read path: API-key lookups and list/contact pages on the raw driver.

Measured (see `make bench`): through SQLAlchemy's async engine a 25-row page
spent most of its time in the engine and in aiosqlite's thread hop per
statement, not in SQLite. These reads are small indexed lookups, so they run
on the driver directly: on SQLite a per-process read-only `sqlite3`
connection called inline (each query is tens of microseconds; WAL lets it read
while another connection writes), on PostgreSQL an asyncpg pool. Writes stay
on SQLAlchemy. Rows come back as tuples in the column order of the SQL below,
with JSON columns and timestamps already in their wire form where the backend
allows it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from sqlalchemy.engine import make_url

from contactlists.core.db import SQLITE_BUSY_TIMEOUT_MS
from contactlists.core.settings import Settings

if TYPE_CHECKING:
    import asyncpg

POSITION_MAX = 2**31 - 1
KEY_SQL = (
    "SELECT k.id, k.account_id, k.mode, k.revoked_at, k.last_used_at, a.unlimited "
    "FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = {0}"
)
LIST_COLUMNS = "id, name, filters, contact_count, provider, created_at, updated_at"
# The key and the list a request's path names, in one indexed query: the
# list's row comes back (or NULLs) for the key's own account and mode only.
KEY_AND_LIST_SQL = (
    "SELECT k.id, k.account_id, k.mode, k.revoked_at, k.last_used_at, a.unlimited, "
    "l.id, l.name, l.filters, l.contact_count, l.provider, l.created_at, l.updated_at "
    "FROM api_keys k JOIN accounts a ON a.id = k.account_id "
    "LEFT JOIN contact_lists l ON l.id = {1} AND l.account_id = k.account_id "
    "AND l.mode = k.mode WHERE k.key_hash = {0}"
)
LIST_SQL = (
    f"SELECT {LIST_COLUMNS} FROM contact_lists "  # noqa: S608 - constant column list
    "WHERE id = {0} AND account_id = {1} AND mode = {2}"
)
LISTS_COUNT_SQL = "SELECT count(*) FROM contact_lists WHERE account_id = {0} AND mode = {1}"
LISTS_PAGE_SQL = (
    f"SELECT {LIST_COLUMNS} FROM contact_lists "  # noqa: S608 - constant column list
    "WHERE account_id = {0} AND mode = {1} ORDER BY created_at DESC, id DESC LIMIT {2} OFFSET {3}"
)
ITEMS_SQL = (
    "SELECT id, list_id, base_contact_id, first_name, last_name, full_name, role, "
    "company_name, location, seniority, profile_id, headline, linkedin_profile_url, created_at "
    "FROM contact_list_items WHERE list_id = {0} AND position >= {1} AND position < {2} "
    "ORDER BY position"
)


def _page_end(offset: int, limit: int) -> int:
    """The exclusive end position, kept within a 32-bit integer column's range."""
    return min(offset + limit, POSITION_MAX)


@dataclass(frozen=True, slots=True)
class ListProbe:
    """The list a request's path names, read along with the caller's key.

    `row` is the list in `LIST_COLUMNS` order, or None when the key's account
    and mode have no such list.
    """

    list_id: str
    row: Sequence[Any] | None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    account_id: str
    mode: str
    revoked: bool
    last_used_at: datetime | None
    unlimited: bool
    probe: ListProbe | None = None


def _probe(list_id: str | None, row: Sequence[Any]) -> ListProbe | None:
    if list_id is None:
        return None
    return ListProbe(list_id, row[6:] if row[6] is not None else None)


class ReadStore(Protocol):
    async def key(self, key_hash: str, list_id: str | None = None) -> KeyRecord | None:
        """The key, with a probe of `list_id` when one is given."""
        ...

    async def list_row(self, list_id: str, account_id: str, mode: str) -> Sequence[Any] | None: ...

    async def lists_page(
        self, account_id: str, mode: str, limit: int, offset: int
    ) -> tuple[int, list[Sequence[Any]]]: ...

    async def items(self, list_id: str, limit: int, offset: int) -> list[Sequence[Any]]:
        """A list's items by position; the caller has checked the list is theirs."""
        ...

    async def close(self) -> None: ...


class SqliteReadStore:
    """One read-only connection per process, used inline on the event loop.

    Opened on first use (and again after a failure), so an unreachable file is
    a 503 on the request that meets it rather than a crash at start-up.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            conn = sqlite3.connect(
                f"file:{self._path}?mode=ro",
                uri=True,
                check_same_thread=False,
                isolation_level=None,
            )
            conn.execute("PRAGMA query_only=ON")
            conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            self._connection = conn
        return self._connection

    def _snapshot(self, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> list[list[Any]]:
        """Run several reads in one transaction, so they see one snapshot."""
        cursor = self._conn.cursor()
        cursor.execute("BEGIN")
        try:
            return [cursor.execute(sql, params).fetchall() for sql, params in statements]
        finally:
            cursor.execute("COMMIT")

    async def key(self, key_hash: str, list_id: str | None = None) -> KeyRecord | None:
        if list_id is None:
            row = self._conn.execute(KEY_SQL.format("?"), (key_hash,)).fetchone()
        else:
            query = KEY_AND_LIST_SQL.format("?1", "?2")
            row = self._conn.execute(query, (key_hash, list_id)).fetchone()
        if row is None:
            return None
        last_used = datetime.fromisoformat(row[4] + "+00:00") if row[4] else None
        return KeyRecord(
            row[0],
            row[1],
            row[2],
            row[3] is not None,
            last_used,
            bool(row[5]),
            _probe(list_id, row),
        )

    async def list_row(self, list_id: str, account_id: str, mode: str) -> Sequence[Any] | None:
        row: Sequence[Any] | None = self._conn.execute(
            LIST_SQL.format("?", "?", "?"), (list_id, account_id, mode)
        ).fetchone()
        return row

    async def lists_page(
        self, account_id: str, mode: str, limit: int, offset: int
    ) -> tuple[int, list[Sequence[Any]]]:
        count, rows = self._snapshot(
            [
                (LISTS_COUNT_SQL.format("?", "?"), (account_id, mode)),
                (LISTS_PAGE_SQL.format("?", "?", "?", "?"), (account_id, mode, limit, offset)),
            ]
        )
        return int(count[0][0]), rows

    async def items(self, list_id: str, limit: int, offset: int) -> list[Sequence[Any]]:
        query = ITEMS_SQL.format("?", "?", "?")
        return self._conn.execute(query, (list_id, offset, _page_end(offset, limit))).fetchall()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    """The pool's reset on release, which by default is a round trip
    (`RESET ALL`, `UNLISTEN *`, advisory unlocks) after every query: these reads
    set nothing, listen to nothing and lock nothing, and the pool still rolls
    back a transaction left open."""


class PostgresReadStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, settings: Settings) -> PostgresReadStore:
        # Imported here: a SQLite server never loads asyncpg (~3 MiB resident).
        import asyncpg

        async def init(conn: asyncpg.Connection) -> None:
            for json_type in ("json", "jsonb"):
                await conn.set_type_codec(
                    json_type,
                    encoder=str,
                    decoder=orjson.Fragment,
                    schema="pg_catalog",
                    format="text",
                )

        pool = await asyncpg.create_pool(
            dsn,
            # Nothing is connected up front: an unreachable server is a 503 on
            # the request that meets it, not a failed start.
            min_size=0,
            max_size=settings.db_pool_size,
            init=init,
            reset=_nothing_to_reset,
            timeout=settings.db_pool_timeout_s,
            server_settings={"statement_timeout": str(settings.db_statement_timeout_ms)},
        )
        return cls(pool)

    async def key(self, key_hash: str, list_id: str | None = None) -> KeyRecord | None:
        if list_id is None:
            row = await self._pool.fetchrow(KEY_SQL.format("$1"), key_hash)
        else:
            query = KEY_AND_LIST_SQL.format("$1", "$2")
            row = await self._pool.fetchrow(query, key_hash, list_id)
        if row is None:
            return None
        return KeyRecord(
            row[0], row[1], row[2], row[3] is not None, row[4], bool(row[5]), _probe(list_id, row)
        )

    async def list_row(self, list_id: str, account_id: str, mode: str) -> Sequence[Any] | None:
        row: Sequence[Any] | None = await self._pool.fetchrow(
            LIST_SQL.format("$1", "$2", "$3"), list_id, account_id, mode
        )
        return row

    async def lists_page(
        self, account_id: str, mode: str, limit: int, offset: int
    ) -> tuple[int, list[Sequence[Any]]]:
        async with (
            self._pool.acquire() as conn,
            conn.transaction(readonly=True, isolation="repeatable_read"),
        ):
            total = await conn.fetchval(LISTS_COUNT_SQL.format("$1", "$2"), account_id, mode)
            rows = await conn.fetch(
                LISTS_PAGE_SQL.format("$1", "$2", "$3", "$4"), account_id, mode, limit, offset
            )
        return int(total), list(rows)

    async def items(self, list_id: str, limit: int, offset: int) -> list[Sequence[Any]]:
        query = ITEMS_SQL.format("$1", "$2", "$3")
        return list(await self._pool.fetch(query, list_id, offset, _page_end(offset, limit)))

    async def close(self) -> None:
        await self._pool.close()


async def open_read_store(settings: Settings) -> ReadStore:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteReadStore(url.database or "")
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await PostgresReadStore.connect(dsn, settings)
