"""The hot read path: queries written once in SQLAlchemy Core, run on the raw driver.

Through SQLAlchemy's async engine a small indexed read spends most of its time
in the engine and in aiosqlite's thread hop per statement, not in the database
(`make bench` measures it). So each hot query is a Core statement compiled once
for the backend that first runs it (`Query`) and run on the driver: on
SQLite a per-process read-only `sqlite3` connection called inline (WAL lets it
read while another connection writes), on PostgreSQL asyncpg connections in a
lean pool (`pgpool`). Writes stay on SQLAlchemy. Rows come back in the
statement's column order, with JSON columns and timestamps in their wire form
where the backend allows it; the module that writes a statement reads its rows
by the names it selected.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Protocol, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.sql import visitors

from contactlists.core.db import SQLITE_BUSY_TIMEOUT_MS
from contactlists.core.pgpool import ConnectionPool
from contactlists.core.settings import Settings

if TYPE_CHECKING:
    import asyncpg

Row = Sequence[Any]
Params = Mapping[str, Any]
# How many rows `SqliteReadStore.one_current` keeps between two writes: a key
# and the list its path names are one row, so this is distinct (key, list)
# pairs, about 2 kB each; a flood of unknown keys clears it, never grows it.
CURRENT_ROWS_MAX = 1024
# The WAL-index header (https://www.sqlite.org/walformat.html): the `-shm` file
# opens with two copies of it, 48 bytes each, written by every commit (its
# change counter, frame count and checksums move); 3007000 is the only version
# of the format, in the machine's byte order.
_WAL_HEADER_BYTES = 48
_WAL_INDEX_VERSION = (3007000).to_bytes(4, sys.byteorder)


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
        return _compile(self._statement, _SQLITE)

    @cached_property
    def postgresql(self) -> tuple[str, tuple[str, ...]]:
        return _compile(self._statement, _postgresql_dialect())

    @cached_property
    def postgresql_batch(self) -> str:
        """The statement run once for many parameter sets, in one round trip.

        Each parameter becomes an array (one element per set), unnested with
        its ordinal `n`, and the statement runs laterally once per set: a row
        is `n` then the statement's own columns, and a set the statement finds
        nothing for has no row. The arrays come in the order of the plain
        statement's parameters, so the sets' values are its own, transposed.
        """
        found_binds = {
            element.key: element
            for element in visitors.iterate(self._statement)
            if isinstance(element, sa.BindParameter)
        }
        plain_order = self.postgresql[1]
        binds = {name: found_binds[name] for name in plain_order}
        arrays = [
            sa.cast(sa.bindparam(name, type_=sa.ARRAY(bind.type)), sa.ARRAY(bind.type))
            for name, bind in binds.items()
        ]
        sets = sa.func.unnest(*arrays).table_valued(*binds, with_ordinality="n")
        sets = sets.render_derived(name="batch")

        def per_set(element: Any, **_: Any) -> Any:
            return sets.c[element.key] if isinstance(element, sa.BindParameter) else None

        per_set_statement = visitors.replacement_traverse(self._statement, {}, per_set)
        found = cast(sa.Select[Any], per_set_statement).lateral("found")
        batch = sa.select(sets.c.n, found).select_from(sets.join(found, sa.true()))
        sql, order = _compile(batch, _postgresql_dialect())
        if order != plain_order:  # once per query: never pair one set's values with another's
            raise RuntimeError(f"batch parameters {order} are not in the order {plain_order}")
        return sql


def _compile(statement: sa.Select[Any], dialect: sa.Dialect) -> tuple[str, tuple[str, ...]]:
    compiled = statement.compile(dialect=dialect)
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


class WalIndex:
    """Tells whether anything was committed to a WAL database: its header, read
    straight from the `-shm` file.

    Equal headers mean no commit in between (every commit rewrites the header
    with a higher change counter), so the header is a change token that costs
    one `pread` — no statement, no lock; `PRAGMA data_version` cost three
    system calls to SQLite's locks and a statement. A writer rewrites copy 2
    then copy 1; when the copies differ a commit is landing and there is no
    token.
    """

    def __init__(self, shm_path: str) -> None:
        self._fd = os.open(shm_path, os.O_RDONLY | os.O_CLOEXEC)

    @classmethod
    def of(cls, conn: sqlite3.Connection) -> WalIndex | None:
        """The WAL index of `conn`'s database, or None when it is not in WAL mode
        or its index is not the format this reads."""
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            return None
        path: str = conn.execute("PRAGMA database_list").fetchone()[2]
        try:
            index = cls(path + "-shm")
        except OSError:
            return None
        header = index.token()
        if header is None or header[:4] != _WAL_INDEX_VERSION or header[12] != 1:
            index.close()  # being written, not initialised, or a format this does not know
            return None
        return index

    def token(self) -> bytes | None:
        """The current header, or None while a commit is rewriting it."""
        header = os.pread(self._fd, 2 * _WAL_HEADER_BYTES, 0)
        first = header[:_WAL_HEADER_BYTES]
        return first if first == header[_WAL_HEADER_BYTES:] else None

    def close(self) -> None:
        os.close(self._fd)


class SqliteReadStore:
    """One read-only connection per process, used inline on the event loop.

    Opened on first use, so an unreachable file is a 503 on the request that
    meets it rather than a crash at start-up.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._wal: WalIndex | None = None
        # `one_current`'s rows, all read at `_version` of the database or later.
        self._version: bytes | int | None = None
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
            self._wal = WalIndex.of(conn)
            self._connection = conn
        return self._connection

    @staticmethod
    def _bound(query: Query, params: Params) -> tuple[str, tuple[Any, ...]]:
        sql, names = query.sqlite
        return sql, tuple([params[name] for name in names])

    def _database_version(self, conn: sqlite3.Connection) -> bytes | int | None:
        """A token that changes with every commit of any connection: the WAL
        index's header, or `PRAGMA data_version` when the database has none.
        None while a commit is landing."""
        if self._wal is not None:
            return self._wal.token()
        version: int = conn.execute("PRAGMA data_version").fetchone()[0]
        return version

    async def one(self, query: Query, params: Params) -> Row | None:
        row: Row | None = self._conn.execute(*self._bound(query, params)).fetchone()
        return row

    async def one_current(self, query: Query, params: Params) -> Row | None:
        """`one`, answered from rows read since the database last changed.

        The database's version (`_database_version`) moves with every commit of
        any connection, in this process or any other. A row is kept only after
        the version it was read under has been taken, so it is never older than
        that version; a commit between taking it and the read only makes the row
        newer, and the next request sees another version and drops it. A revoked
        key, a deleted list or any other write is therefore seen by the next
        request in every worker. While a commit is landing there is no version,
        and the row is read and not kept.
        """
        conn = self._conn
        version = self._database_version(conn)
        current = self._current
        if version != self._version or version is None:
            current.clear()
            self._version = version
        bound = self._bound(query, params)
        if bound in current:
            return current[bound]
        row: Row | None = conn.execute(*bound).fetchone()
        if version is not None:
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
        if self._wal is not None:
            self._wal.close()
        if self._connection is not None:
            self._connection.close()


def _settle(
    future: asyncio.Future[Row | None], row: Row | None, failure: Exception | None = None
) -> None:
    """Answer a gathered lookup, unless its request stopped waiting (cancelled)."""
    if future.done():
        return
    if failure is not None:
        future.set_exception(failure)
    else:
        future.set_result(row)


class _Gathering:
    """The lookups of one query that arrived in one turn of the event loop."""

    __slots__ = ("futures", "values")

    def __init__(self) -> None:
        self.values: list[tuple[Any, ...]] = []
        self.futures: list[asyncio.Future[Row | None]] = []


class PostgresReadStore:
    def __init__(self, pool: ConnectionPool) -> None:
        # Imported here: a SQLite server never loads asyncpg (~3 MiB resident).
        from asyncpg import DataError

        self._refused_value = DataError
        self._pool = pool
        self._gathering: dict[Query, _Gathering] = {}
        self._batches: set[asyncio.Task[None]] = set()

    @classmethod
    async def connect(cls, dsn: str, settings: Settings) -> PostgresReadStore:
        # Imported here: a SQLite server never loads asyncpg (~3 MiB resident).
        import asyncpg

        async def connect() -> asyncpg.Connection:
            connection = await asyncpg.connect(
                dsn,
                timeout=settings.db_pool_timeout_s,
                server_settings={"statement_timeout": str(settings.db_statement_timeout_ms)},
            )
            for json_type in ("json", "jsonb"):
                await connection.set_type_codec(
                    json_type,
                    encoder=str,
                    decoder=orjson.Fragment,
                    schema="pg_catalog",
                    format="text",
                )
            return connection

        pool = ConnectionPool(
            connect, max_size=settings.db_pool_size, timeout_s=settings.db_pool_timeout_s
        )
        return cls(pool)

    @staticmethod
    def _bound(query: Query, params: Params) -> tuple[Any, ...]:
        sql, names = query.postgresql
        return (sql, *(params[name] for name in names))

    async def one(self, query: Query, params: Params) -> Row | None:
        return await self._fetchrow(*self._bound(query, params))

    async def _fetchrow(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = await self._pool.run(lambda connection: connection.fetchrow(sql, *args))
        return row

    async def one_current(self, query: Query, params: Params) -> Row | None:
        """`one`, read in one round trip with the same query's other lookups
        that arrive in this turn of the event loop.

        PostgreSQL has no cheap sign of a change, so every lookup is read from
        the database after it arrives; under load the requests of one turn
        share the round trip (the key's query is one per request). A lookup
        alone in its turn costs one turn of the loop more than `one`.
        """
        loop = asyncio.get_running_loop()
        gathering = self._gathering.get(query)
        if gathering is None:
            gathering = self._gathering[query] = _Gathering()
            # Its first step runs after every task already ready in this turn.
            batch = loop.create_task(self._read_gathered(query))
            self._batches.add(batch)
            batch.add_done_callback(self._batches.discard)
        future: asyncio.Future[Row | None] = loop.create_future()
        gathering.values.append(tuple([params[name] for name in query.postgresql[1]]))
        gathering.futures.append(future)
        return await future

    async def _read_gathered(self, query: Query) -> None:
        gathering = self._gathering.pop(query)
        futures = gathering.futures
        try:
            if len(futures) == 1:
                rows = [await self._fetchrow(query.postgresql[0], *gathering.values[0])]
            else:
                try:
                    rows = await self._read_batch(query, gathering.values)
                except self._refused_value:
                    # A value the database refuses fails only the lookup that sent it.
                    await self._read_each(query, gathering)
                    return
        except Exception as failure:
            for future in futures:
                _settle(future, None, failure)
            return
        except BaseException:  # cancelled: the server is stopping
            for future in futures:
                future.cancel()
            raise
        for future, row in zip(futures, rows, strict=True):
            _settle(future, row)

    async def _read_each(self, query: Query, gathering: _Gathering) -> None:
        sql = query.postgresql[0]
        for values, future in zip(gathering.values, gathering.futures, strict=True):
            try:
                row = await self._fetchrow(sql, *values)
            except Exception as failure:
                _settle(future, None, failure)
            else:
                _settle(future, row)

    async def _read_batch(self, query: Query, values: list[tuple[Any, ...]]) -> list[Row | None]:
        sql = query.postgresql_batch
        arrays = [list(column) for column in zip(*values, strict=True)]
        found = await self._pool.run(lambda connection: connection.fetch(sql, *arrays))
        rows: list[Row | None] = [None] * len(values)
        for row in found:
            rows[row[0] - 1] = row[1:]
        return rows

    async def all(self, query: Query, params: Params) -> list[Row]:
        bound = self._bound(query, params)
        return list(await self._pool.run(lambda connection: connection.fetch(*bound)))

    async def snapshot(self, *reads: tuple[Query, Params]) -> list[list[Row]]:
        bound = [self._bound(*read) for read in reads]

        async def read_all(connection: asyncpg.Connection) -> list[list[Row]]:
            async with connection.transaction(readonly=True, isolation="repeatable_read"):
                return [list(await connection.fetch(*statement)) for statement in bound]

        return await self._pool.run(read_all)

    async def close(self) -> None:
        await self._pool.close()


async def open_read_store(settings: Settings) -> ReadStore:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteReadStore(url.database or "")
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await PostgresReadStore.connect(dsn, settings)
