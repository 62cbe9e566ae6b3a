"""Engines and units of work.

Repositories work on an `AsyncConnection` handed to them by a unit of work;
they never commit. `Database.transaction()` commits when its block ends, so a
handler that returns from inside it has committed before the response is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, Unpack

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Row, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

    from contactlists.core.settings import Settings

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
SQLITE_BUSY_TIMEOUT_MS = 10_000
# The defaults of the `CONTACTLISTS_DB_*` settings, for callers without settings.
DEFAULT_POOL_SIZE = 10
DEFAULT_POOL_TIMEOUT_S = 10.0
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
# Execution option naming the BEGIN statement a SQLite transaction starts with.
_SQLITE_BEGIN = "contactlists_sqlite_begin"


def upsert_insert(conn: AsyncConnection, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that takes `ON CONFLICT` clauses, which only the dialects' own have."""
    if conn.dialect.name == "postgresql":
        # Imported here: the PostgreSQL dialect costs a SQLite server over 3 MiB resident.
        from sqlalchemy.dialects.postgresql import insert

        return insert(table)
    return sqlite.insert(table)


class DatabaseNotMigrated(Exception):
    """The schema is missing or older than this code expects."""


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys and a busy timeout on every connection.

    pysqlite's own transaction handling is switched off so that SQLAlchemy's
    BEGIN is the one that runs: deferred for reads, IMMEDIATE for writes, which
    takes the write lock up front instead of failing to upgrade a read snapshot.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(_SQLITE_BEGIN, "BEGIN"))


class EngineOptions(TypedDict, total=False):
    pool_size: int
    pool_timeout_s: float
    statement_timeout_ms: int


def engine_options(settings: Settings) -> EngineOptions:
    return {
        "pool_size": settings.db_pool_size,
        "pool_timeout_s": settings.db_pool_timeout_s,
        "statement_timeout_ms": settings.db_statement_timeout_ms,
    }


def _compact_json(value: Any) -> str:
    """JSON columns are stored as the API writes JSON (orjson: compact, UTF-8), so a
    list's `filters` spliced from its row reads as the create's answer did."""
    return orjson.dumps(value).decode()


def create_engine(
    database_url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    pool_timeout_s: float = DEFAULT_POOL_TIMEOUT_S,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
) -> AsyncEngine:
    """An engine for the URL; the pool and statement options apply to PostgreSQL only."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, pool_size=8, max_overflow=8, json_serializer=_compact_json
        )
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if url.get_driver_name() == "asyncpg":
        # A new connection gets the pool's wait too (asyncpg would give it 60 s).
        connect_args["timeout"] = pool_timeout_s
        connect_args["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout_s,
        pool_pre_ping=True,
        connect_args=connect_args,
        json_serializer=_compact_json,
    )


class Database:
    def __init__(self, database_url: str, **options: Unpack[EngineOptions]) -> None:
        self.engine = create_engine(database_url, **options)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = (
            self.engine.execution_options(**{_SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            if self.is_sqlite
            else self.engine
        )
        # SQLite has one writer at a time. A second connection's BEGIN IMMEDIATE
        # waits in SQLite's busy handler, which sleeps in growing steps, so a
        # writer queued there wakes well after the lock is free. Queued here
        # instead, in arrival order, the next writer starts the moment the last
        # commits; other processes still meet the busy handler.
        self._sqlite_writer = asyncio.Lock() if self.is_sqlite else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.database_url, **engine_options(settings))

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """One unit of work: committed when the block ends, rolled back on error."""
        if write and self._sqlite_writer is not None:
            async with self._sqlite_writer, self._write_engine.begin() as conn:
                yield conn
            return
        async with (self._write_engine if write else self.engine).begin() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
