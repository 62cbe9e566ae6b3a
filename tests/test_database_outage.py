"""PostgreSQL going away mid-request, and coming back.

The app reaches the database through a TCP relay this test controls: cutting it
drops every open connection and refuses new ones, as a server that goes away
does; restoring it is the server coming back. The app is never restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, create_body
from tests.conftest import account_maker, asgi_client, make_settings, postgresql_only, running_app

LISTS = "/v1/contacts/lists"
pytestmark = postgresql_only


class Relay:
    """Forwards 127.0.0.1:`port` to the database until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@pytest.fixture
async def relay(database_url: str) -> AsyncIterator[Relay]:
    url = make_url(database_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    await relay.open()
    yield relay
    await relay.cut()


@pytest.fixture
def relayed(database_url: str, relay: Relay) -> Settings:
    """The test's settings, with the database reached through the relay."""
    proxied = make_url(database_url).set(host="127.0.0.1", port=relay.port)
    return make_settings(proxied.render_as_string(hide_password=False))


async def _count(database_url: str, table: str) -> int:
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608
    finally:
        await engine.dispose()


async def _wait_for_reservation(database_url: str) -> None:
    """Until a create has reserved its credits: its search is then running."""
    async with asyncio.timeout(30):
        while not await _count(database_url, "credit_ledger WHERE kind = 'reserve'"):
            await asyncio.sleep(0.02)


async def test_outage_mid_create_is_503_writes_nothing_and_recovers(
    database_url: str, relay: Relay, relayed: Settings
) -> None:
    relayed.sandbox_latency_ms = 200  # 5 pages: a search of about a second
    async with running_app(relayed) as app, asgi_client(app) as client:
        account = await account_maker(app.state.database)(credits=50)
        kept = await client.post(LISTS, json=create_body("sandbox-exact-40"), headers=account.live)
        assert kept.status_code == 201
        kept_id = kept.json()["id"]

        create = asyncio.create_task(
            client.post(LISTS, json=create_body("sandbox-exact-125"), headers=account.live)
        )
        await _wait_for_reservation(database_url)
        await relay.cut()
        during = [
            await client.get(LISTS, headers=account.live),
            await client.get(f"{LISTS}/{kept_id}", headers=account.live),
            await client.get(f"{LISTS}/{kept_id}/contacts?limit=5", headers=account.live),
            await client.put(f"{LISTS}/{kept_id}", json={"name": "n"}, headers=account.live),
            await client.get("/v1/credits", headers=account.live),
            await create,  # its search ends during the outage; its write cannot happen
        ]
        for response in during:
            error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
            assert error["type"] == "UNAVAILABLE"
            assert error["errorAction"] == "RETRY_LATER"
            assert response.headers["retry-after"] == "1"
            assert response.json()["retryAfter"] == 1
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200

        # Nothing of the failed create was written; the list from before is whole.
        assert await _count(database_url, "contact_lists") == 1
        assert await _count(database_url, "contact_list_items") == 40
        assert await _count(database_url, "base_contacts") == 40
        assert await _count(database_url, "credit_ledger WHERE kind = 'settle'") == 1

        await relay.open()
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        page = await client.get(f"{LISTS}/{kept_id}/contacts?limit=50", headers=account.live)
        assert page.status_code == 200
        assert len(page.json()["items"]) == 40
        listed = await client.get(LISTS, headers=account.live)
        assert [item["id"] for item in listed.json()["items"]] == [kept_id]
        again = await client.post(LISTS, json=create_body("sandbox-exact-30"), headers=account.live)
        assert again.status_code == 201, again.text
        assert again.json()["contactCount"] == 30
        # Charged for what was stored only: 2 pages for 40 leads, 2 for 30.
        credits = await client.get("/v1/credits", headers=account.live)
        assert credits.json()["remainingCredits"] == 46


async def test_connections_reset_under_an_idle_app_are_replaced(
    relay: Relay, relayed: Settings
) -> None:
    async with running_app(relayed) as app, asgi_client(app) as client:
        account = await account_maker(app.state.database)()
        created = await client.post(
            LISTS, json=create_body("sandbox-exact-3"), headers=account.live
        )
        list_id = created.json()["id"]
        # The pools hold open connections; reset them all and let the server answer again.
        await relay.cut()
        await relay.open()
        for path in (f"{LISTS}/{list_id}", f"{LISTS}/{list_id}/contacts", LISTS, "/v1/credits"):
            response = await client.get(path, headers=account.live)
            assert response.status_code in (200, 503), response.text
        # Within a request or two every pool has replaced its dead connections.
        for path in (f"{LISTS}/{list_id}", f"{LISTS}/{list_id}/contacts", LISTS, "/v1/credits"):
            assert (await client.get(path, headers=account.live)).status_code == 200
        renamed = await client.put(f"{LISTS}/{list_id}", json={"name": "n"}, headers=account.live)
        assert renamed.status_code == 200
