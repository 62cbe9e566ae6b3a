"""The PostgreSQL read path's connections: a pool with nothing between a read and its socket.

asyncpg's own pool shields every release in a new task under a timeout and arms
an idle timer on every acquire: about 58 µs of a worker's CPU per query here
(151 µs a `fetchrow` through it, 93 µs through this one), a fifth of a cached
page's whole cost on PostgreSQL. These reads set no session state and hold
nothing across awaits, so a connection goes back by appending it to a list. A
connection that may be out of step with its server (a cancelled or failed round
trip, an open transaction) is closed instead of reused: the next read opens a
fresh one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import asyncpg

T = TypeVar("T")


class ConnectionPool:
    """At most `max_size` connections, opened on demand and kept while they stay sound.

    Nothing is opened up front, so an unreachable server is an error on the
    read that meets it, not a failed start. A read that finds every connection
    busy waits in line, at most `timeout_s`, then gets a `TimeoutError`.
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        *,
        max_size: int,
        timeout_s: float,
    ) -> None:
        # Imported here, like every use of asyncpg: a SQLite server never loads it.
        from asyncpg import PostgresError

        self._server_error = PostgresError
        self._connect = connect
        self._max_size = max_size
        self._timeout_s = timeout_s
        self._idle: list[asyncpg.Connection] = []
        # Connections open or being opened, idle or lent.
        self._size = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    @property
    def size(self) -> int:
        return self._size

    async def run(self, use: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`use` a connection, then give it back (or close it, if the round trip
        was cut short: only a result or the server's own error leaves the
        connection in step with its server)."""
        connection = await self.acquire()
        sound = False
        try:
            result = await use(connection)
            sound = True
            return result
        except self._server_error:
            sound = True
            raise
        finally:
            self.release(connection, sound=sound)

    async def acquire(self) -> asyncpg.Connection:
        connection = self._take_idle()
        if connection is not None:
            return connection
        async with asyncio.timeout(self._timeout_s):
            while True:
                if self._closed:
                    raise RuntimeError("the read pool is closed")
                if self._size < self._max_size:
                    return await self._open()
                await self._wait_for_a_release()
                connection = self._take_idle()
                if connection is not None:
                    return connection

    def release(self, connection: asyncpg.Connection, *, sound: bool) -> None:
        """Take back a lent connection; `sound` says its last round trip completed."""
        if sound and not self._closed and not connection.is_in_transaction():
            self._idle.append(connection)
        else:
            connection.terminate()
            self._size -= 1
        self._wake_one()

    async def close(self) -> None:
        """Close the idle connections now and each lent one as it comes back."""
        self._closed = True
        idle, self._idle = self._idle, []
        self._size -= len(idle)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)  # to find the pool closed
        await asyncio.gather(
            *(connection.close(timeout=self._timeout_s) for connection in idle),
            return_exceptions=True,
        )

    def _take_idle(self) -> asyncpg.Connection | None:
        idle = self._idle
        while idle:
            connection = idle.pop()  # the most recently used: its server process is warm
            if not connection.is_closed():
                return connection
            self._size -= 1
        return None

    async def _open(self) -> asyncpg.Connection:
        self._size += 1
        try:
            return await self._connect()
        except BaseException:
            self._size -= 1
            self._wake_one()  # the slot is free again for a reader in line
            raise

    async def _wait_for_a_release(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # woken, then cancelled: the wake goes to the next in line
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def _wake_one(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
