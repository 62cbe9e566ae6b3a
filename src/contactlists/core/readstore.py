"""The hot read path: queries written once in SQLAlchemy Core, run on the raw driver.

Through SQLAlchemy's async engine a small indexed read spends most of its time
in the engine and in aiosqlite's thread hop per statement, not in the database
(`make bench` measures it). So each hot query is a Core statement compiled once
for the backend that first runs it (`Query`) and run on the driver: on
SQLite a per-process read-only `sqlite3` connection called inline (WAL lets it
read while another connection writes), on PostgreSQL an asyncpg pool. Writes
stay on SQLAlchemy. Rows come back in the statement's column order, with JSON
columns and timestamps in their wire form where the backend allows it; the
module that writes a statement reads its rows by the names it selected.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import BindTyping

from contactlists.core.db import SQLITE_BUSY_TIMEOUT_MS
from contactlists.core.settings import Settings

if TYPE_CHECKING:
    import asyncpg

Row = Sequence[Any]
Params = Mapping[str, Any]
# How many rows `SqliteReadStore.one_current` keeps between two writes: a key
# and the list its path names are one row, so this is distinct (key, list)
# pairs, about 2 kB each; a flood of unknown keys clears it, never grows it.
CURRENT_ROWS_MAX = 1024


@cache
def _postgresql_dialect() -> sa.Dialect:
    # Imported on first use: the PostgreSQL dialect costs a SQLite server over 3 MiB resident.
    from sqlalchemy.dialects import postgresql

    dialect: sa.Dialect = postgresql.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
    # asyncpg infers each parameter's type from the statement; a rendered
    # `$1::VARCHAR` would also lose the `C` collation of the id columns.
    dialect.bind_typing = BindTyping.NONE
    return dialect


_SQLITE = sqlite.dialect(paramstyle="qmark")


class Query:
    """A Core statement compiled for each backend on its first use: SQL text and
    parameter order. After that, reading `sqlite` or `postgresql` is a plain
    attribute read (`cached_property` stores the value on the instance)."""

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.columns = tuple(column.key for column in statement.selected_columns)
        self._statement = statement

    @cached_property
    def sqlite(self) -> tuple[str, tuple[str, ...]]:
        return self._compile(_SQLITE)

    @cached_property
    def postgresql(self) -> tuple[str, tuple[str, ...]]:
        return self._compile(_postgresql_dialect())

    def _compile(self, dialect: sa.Dialect) -> tuple[str, tuple[str, ...]]:
        compiled = self._statement.compile(dialect=dialect)
        return str(compiled), tuple(compiled.positiontup or ())


class ReadStore(Protocol):
    async def one(self, query: Query, params: Params) -> Row | None: ...

    async def one_current(self, query: Query, params: Params) -> Row | None:
        """`one`, possibly from a row read earlier that the database cannot have
        changed since: the answer is always what `one` would give now."""
        ...

    async def all(self, query: Query, params: Params) -> list[Row]: ...

    async def snapshot(self, *reads: tuple[Query, Params]) -> list[list[Row]]:
        """Several reads in one read-only transaction, so they see one snapshot."""
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
        # `one_current`'s rows, all read at `_version` of the database or later.
        self._version: int | None = None
        self._current: dict[tuple[str, tuple[Any, ...]], Row | None] = {}

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

    @staticmethod
    def _bound(query: Query, params: Params) -> tuple[str, tuple[Any, ...]]:
        sql, names = query.sqlite
        return sql, tuple([params[name] for name in names])

    async def one(self, query: Query, params: Params) -> Row | None:
        row: Row | None = self._conn.execute(*self._bound(query, params)).fetchone()
        return row

    async def one_current(self, query: Query, params: Params) -> Row | None:
        """`one`, answered from rows read since the database last changed.

        `PRAGMA data_version` changes when another connection commits, and
        every write comes through another connection (this one is read-only),
        in this process or any other. It costs a quarter of the key's query
        (`make profile`). A row is kept only after the version it was read
        under has been checked, so it is never older than that version; a
        commit between the check and the read only makes the row newer, and
        the next check drops it. A revoked key, a deleted list or any other
        write is therefore seen by the next request in every worker.
        """
        conn = self._conn
        version: int = conn.execute("PRAGMA data_version").fetchone()[0]
        current = self._current
        if version != self._version:
            current.clear()
            self._version = version
        bound = self._bound(query, params)
        if bound in current:
            return current[bound]
        row: Row | None = conn.execute(*bound).fetchone()
        if len(current) >= CURRENT_ROWS_MAX:
            current.clear()
        current[bound] = row
        return row

    async def all(self, query: Query, params: Params) -> list[Row]:
        return self._conn.execute(*self._bound(query, params)).fetchall()

    async def snapshot(self, *reads: tuple[Query, Params]) -> list[list[Row]]:
        cursor = self._conn.cursor()
        cursor.execute("BEGIN")
        try:
            return [cursor.execute(*self._bound(*read)).fetchall() for read in reads]
        finally:
            cursor.execute("COMMIT")

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

    @staticmethod
    def _bound(query: Query, params: Params) -> tuple[Any, ...]:
        sql, names = query.postgresql
        return (sql, *(params[name] for name in names))

    async def one(self, query: Query, params: Params) -> Row | None:
        row: Row | None = await self._pool.fetchrow(*self._bound(query, params))
        return row

    async def one_current(self, query: Query, params: Params) -> Row | None:
        """A round trip each time: PostgreSQL has no cheaper sign of a change."""
        return await self.one(query, params)

    async def all(self, query: Query, params: Params) -> list[Row]:
        return list(await self._pool.fetch(*self._bound(query, params)))

    async def snapshot(self, *reads: tuple[Query, Params]) -> list[list[Row]]:
        async with (
            self._pool.acquire() as conn,
            conn.transaction(readonly=True, isolation="repeatable_read"),
        ):
            return [list(await conn.fetch(*self._bound(*read))) for read in reads]

    async def close(self) -> None:
        await self._pool.close()


async def open_read_store(settings: Settings) -> ReadStore:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteReadStore(url.database or "")
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await PostgresReadStore.connect(dsn, settings)
