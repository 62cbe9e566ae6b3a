"""The PostgreSQL read path's pool (`core/pgpool.py`): reuse, limits, and what it never reuses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from contactlists.core.pgpool import ConnectionPool
from tests.conftest import postgresql_only

pytestmark = postgresql_only

Connect = Callable[[], Awaitable[asyncpg.Connection]]


@pytest.fixture
def connect(database_url: str) -> Connect:
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    return lambda: asyncpg.connect(dsn)


@pytest.fixture
async def pool(connect: Connect) -> AsyncIterator[ConnectionPool]:
    pool = ConnectionPool(connect, max_size=2, timeout_s=5)
    yield pool
    await pool.close()


async def backend_pid(pool: ConnectionPool) -> int:
    pid: int = await pool.run(lambda connection: connection.fetchval("SELECT pg_backend_pid()"))
    return pid


async def test_reads_one_after_another_share_one_connection(pool: ConnectionPool) -> None:
    pids = {await backend_pid(pool) for _ in range(5)}
    assert len(pids) == 1
    assert pool.size == 1


async def test_concurrent_reads_past_the_limit_wait_their_turn(pool: ConnectionPool) -> None:
    sizes: list[int] = []

    async def slow_read(connection: asyncpg.Connection) -> int:
        sizes.append(pool.size)
        value: int = await connection.fetchval("SELECT 1 FROM pg_sleep(0.05)")
        return value

    results = await asyncio.gather(*(pool.run(slow_read) for _ in range(6)))
    assert results == [1] * 6
    assert max(sizes) == 2
    assert pool.size == 2


async def test_a_read_that_waits_too_long_is_a_timeout_error(connect: Connect) -> None:
    pool = ConnectionPool(connect, max_size=1, timeout_s=0.2)
    held = await pool.acquire()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await pool.acquire()
    assert time.monotonic() - started < 2
    pool.release(held, sound=True)
    # The timed-out reader left the line: the next one gets the connection at once.
    assert await pool.run(lambda connection: connection.fetchval("SELECT 2")) == 2
    await pool.close()


async def test_a_cut_short_read_closes_its_connection(pool: ConnectionPool) -> None:
    first = await backend_pid(pool)
    read = asyncio.ensure_future(
        pool.run(lambda connection: connection.fetchval("SELECT pg_sleep(5)"))
    )
    await asyncio.sleep(0.1)
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    assert pool.size == 0
    assert await backend_pid(pool) != first


async def test_the_servers_own_error_keeps_the_connection(pool: ConnectionPool) -> None:
    first = await backend_pid(pool)
    with pytest.raises(asyncpg.DivisionByZeroError):
        await pool.run(lambda connection: connection.fetchval("SELECT 1 / 0"))
    assert await backend_pid(pool) == first


async def test_a_connection_left_in_a_transaction_is_not_reused(pool: ConnectionPool) -> None:
    first = await backend_pid(pool)
    await pool.run(lambda connection: connection.execute("BEGIN"))
    assert pool.size == 0
    assert await backend_pid(pool) != first


async def test_a_failed_connect_frees_its_place_for_the_reader_in_line(database_url: str) -> None:
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    attempts = 0

    async def flaky_connect() -> asyncpg.Connection:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            await asyncio.sleep(0.05)
            raise ConnectionRefusedError("the first attempt fails")
        return await asyncpg.connect(dsn)

    pool = ConnectionPool(flaky_connect, max_size=1, timeout_s=5)
    first, second = await asyncio.gather(
        pool.run(lambda connection: connection.fetchval("SELECT 1")),
        pool.run(lambda connection: connection.fetchval("SELECT 2")),
        return_exceptions=True,
    )
    assert isinstance(first, ConnectionRefusedError)
    assert second == 2
    assert pool.size == 1
    await pool.close()


async def test_a_closed_pool_lends_nothing_and_closes_what_comes_back(
    pool: ConnectionPool,
) -> None:
    lent = await pool.acquire()
    await backend_pid(pool)  # a second connection, left idle
    await pool.close()
    assert pool.size == 1  # the lent one
    pool.release(lent, sound=True)
    assert lent.is_closed()
    assert pool.size == 0
    with pytest.raises(RuntimeError, match="closed"):
        await pool.acquire()
