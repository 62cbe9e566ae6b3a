"""uvicorn's HTTP protocol with what it lacks against slow clients.

uvicorn (0.54) puts no deadline on a request's headers — a connection that
sends half a header line, or nothing, stays open for good — and its
`limit_concurrency` answers 503 to new requests while such sockets hold the
slots. This subclass of its httptools protocol adds:

- a **header deadline** (`CONTACTLISTS_HEADER_TIMEOUT_S`) from a connection's
  opening, or from the first byte after a finished response, to the end of the
  headers; a connection that misses it gets a bare 408 and is closed;
- a **cap on open connections** per worker (`CONTACTLISTS_MAX_CONNECTIONS`,
  held below the process's open-file limit): a connection over it first
  displaces the one that has waited longest for its headers — a slow client,
  never a request being served — and is refused only when none is waiting.

The body's deadline is the application's (`deadlines.BodyDeadline`), so that
its 408 is the contract's envelope; idle keep-alive connections are closed by
uvicorn's own `timeout_keep_alive` (`CONTACTLISTS_KEEP_ALIVE_S`).
"""

from __future__ import annotations

import asyncio
import resource
from functools import lru_cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from contactlists.core.settings import get_settings

# File descriptors kept for everything but client connections: the database
# pools, log files, the listening socket.
RESERVED_FDS = 64
_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n"
    b"connection: close\r\ncontent-length: 35\r\n\r\nThe request did not arrive in time.\n"
)


@lru_cache(maxsize=1)
def connection_limits() -> tuple[float, int]:
    """(header deadline in seconds, connection cap) for this worker."""
    settings = get_settings()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = settings.max_connections
    if soft != resource.RLIM_INFINITY:
        cap = max(1, min(cap, soft - RESERVED_FDS))
    return settings.header_timeout_s, cap


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout_s, self._max_connections = connection_limits()
        self._header_timer: asyncio.TimerHandle | None = None
        self._waiting_since = 0.0
        self._request_started = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()
        if len(self.connections) > self._max_connections:
            self._make_room()

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._await_headers()  # the next request on a kept-alive connection
        self._request_started = True
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._stop_waiting()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._waiting_since = self.loop.time()
        self._request_started = False
        self._header_timer = self.loop.call_later(self._header_timeout_s, self._headers_late)

    def _stop_waiting(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            if self._request_started:
                self.transport.write(_TIMED_OUT)
            self.transport.close()

    def _make_room(self) -> None:
        waiting = [
            c
            for c in self.connections
            if isinstance(c, GuardedHttpToolsProtocol)
            and c is not self
            and c._header_timer is not None
            and not c.transport.is_closing()
        ]
        if waiting:
            oldest = min(waiting, key=lambda c: c._waiting_since)
            oldest._stop_waiting()
            oldest.transport.close()
        else:
            self._stop_waiting()
            self.transport.close()
