"""`make profile`: where one request's time goes, with no server or network in the way.

Drives the real application in this process through ASGI (lifespan included)
on a seeded SQLite database (or, with `--backend postgresql`, a throw-away
PostgreSQL one): a cached contacts page, an uncached one, a lists page and a
create with no sandbox latency. Prints microseconds per request for
each (wall clock, and this process's CPU time, which a busy machine disturbs less), then a pyinstrument profile of the operation named by `--profile`.
These are the numbers to move when `make bench` shows a gap; `make bench` is
the figure of record.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from pyinstrument import Profiler

from bench.__main__ import SECRET, migrated_sqlite, seeded_postgres
from bench.seed import Seeded, seed_sqlite
from contactlists.app import create_app
from contactlists.core.settings import Settings

ASGIApp = Callable[..., Awaitable[None]]
CREATE_BODY = orjson.dumps(
    {
        "name": "profile",
        "filters": {
            "companyLinkedInUrls": ["https://www.linkedin.com/company/sandbox-exact-125"],
            "jobTitles": ["Engineer"],
        },
    }
)


class Caller:
    """Calls the ASGI app as uvicorn would, collecting the status and body."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self._app = app
        self._auth = f"Bearer {key}".encode()

    async def __call__(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        route, _, query = path.partition("?")
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": route,
            "raw_path": route.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"authorization", self._auth),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, send)
        return status, b"".join(chunks)


async def _lifespan(app: ASGIApp) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Task[None]]:
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)
    )
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    return inbox, task


async def _measure(
    label: str, call: Callable[[], Awaitable[None]], count: int, profiler: Profiler | None
) -> None:
    for _ in range(min(count, 50)):
        await call()
    if profiler is not None:
        profiler.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(count):
        await call()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler is not None:
        profiler.stop()
    print(
        f"{label:<20} {1e6 * elapsed / count:>9.1f} µs/request, {1e6 * cpu / count:>9.1f} µs of CPU"
        f"  ({count} requests)",
        flush=True,
    )


def _settings(url: str, **overrides: Any) -> Settings:
    return Settings(
        env="production",
        secret_key=SECRET,
        database_url=url,
        log_level="warning",
        rate_limit="100000000/minute",
        create_rate_limit="100000000/minute",
        **overrides,
    )


async def run(seeded: Seeded, url: str, operation: str, count: int, limit: int) -> Profiler | None:
    app = create_app(_settings(url))
    # The same app with the page cache off: every page runs its queries.
    uncached_app = create_app(_settings(url, page_cache_mb=0))
    lifespans = [await _lifespan(app), await _lifespan(uncached_app)]
    list_id = seeded.list_ids[len(seeded.list_ids) // 2]
    page = f"/v1/contacts/lists/{list_id}/contacts?limit={limit}"

    def expect(
        target: ASGIApp, method: str, path: str, status: int, body: bytes = b""
    ) -> Callable[[], Awaitable[None]]:
        call = Caller(target, seeded.key)

        async def once() -> None:
            got, content = await call(method, path, body)
            assert got == status, (path, got, content[:300])

        return once

    operations: dict[str, tuple[Callable[[], Awaitable[None]], int]] = {
        "cached-page": (expect(app, "GET", page, 200), count),
        "uncached-page": (expect(uncached_app, "GET", page, 200), count),
        "lists-page": (expect(app, "GET", "/v1/contacts/lists?limit=20", 200), count),
        "create": (expect(app, "POST", "/v1/contacts/lists", 201, CREATE_BODY), count // 100),
    }
    profiler: Profiler | None = None
    for name, (operation_call, times) in operations.items():
        profiling = Profiler(interval=0.0001, async_mode="disabled") if name == operation else None
        await _measure(name, operation_call, times, profiling)
        profiler = profiling or profiler
    for inbox, task in lifespans:
        await inbox.put({"type": "lifespan.shutdown"})
        await task
    return profiler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument(
        "--profile",
        choices=("cached-page", "uncached-page", "lists-page", "create", "none"),
        default="cached-page",
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--limit", type=int, default=25, help="contacts per page")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.backend == "postgresql":
            url, seeded = stack.enter_context(seeded_postgres(200))
        else:
            workdir = Path(tempfile.mkdtemp(prefix="contactlists-profile-"))
            path, url = migrated_sqlite(workdir, "profile")
            seeded = seed_sqlite(path, "profile", 200)
        profiler = asyncio.run(run(seeded, url, args.profile, args.requests, args.limit))
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
