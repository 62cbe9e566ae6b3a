"""Sandbox failures map onto the contract's statuses, and nothing is stored or charged.

Every failure kind on every page, for both providers, is in test_fault_matrix.py."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from contactlists.core.db import Database
from contactlists.core.models import ContactList
from contactlists.core.readstore import open_read_store
from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, company, create_body
from tests.conftest import AccountKeys, Snapshot, postgresql_only

LISTS = "/v1/contacts/lists"


class TestUpstreamFaults:
    async def test_rate_limited_carries_retry_after(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        response = await client.post(
            LISTS, json=create_body("sandbox-rate-limited"), headers=acct.live
        )
        assert_error(response, 503, "UPSTREAM_RATE_LIMITED")
        assert response.headers["retry-after"] == str(response.json()["retryAfter"])

    async def test_unknown_company_names_its_field(
        self, client: httpx.AsyncClient, acct: AccountKeys, snapshot: Snapshot
    ) -> None:
        body = create_body("sandbox-exact-3")
        body["filters"]["companyLinkedInUrls"].append(company("sandbox-unknown-company"))
        before = await snapshot()
        response = await client.post(LISTS, json=body, headers=acct.live)
        assert_error(response, 400, "UNKNOWN_COMPANY", field="filters.companyLinkedInUrls[1]")
        assert await snapshot() == before

    async def test_session_expired_expires_the_connection_until_renewed(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: object
    ) -> None:
        from contactlists.connections import service as connections

        expired = await client.post(
            LISTS, json=create_body("sandbox-session-expired"), headers=acct.live
        )
        assert_error(expired, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        still = await client.post(LISTS, json=create_body(), headers=acct.live)
        error = assert_error(still, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        assert error["errorAction"] == "RECONNECT_SALES_NAVIGATOR"
        test_mode = await client.post(LISTS, json=create_body(), headers=acct.test)
        assert test_mode.status_code == 201
        await connections.connect(database, acct.id, "sandbox")  # type: ignore[arg-type]
        renewed = await client.post(LISTS, json=create_body(), headers=acct.live)
        assert renewed.status_code == 201

    async def test_search_deadline_is_a_504(
        self, client: httpx.AsyncClient, acct: AccountKeys, app: object
    ) -> None:
        settings = app.state.settings  # type: ignore[attr-defined]
        settings.sandbox_latency_ms = 300
        settings.search_timeout_s = 0.5
        response = await client.post(
            LISTS, json=create_body("sandbox-exact-125"), headers=acct.live
        )
        assert_error(response, 504, "UPSTREAM_TIMEOUT")
        assert (await client.get(LISTS, headers=acct.live)).json()["total"] == 0


class TestDatabaseUnavailable:
    async def test_unreachable_database_is_503(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        app: object,
        backend: str,
        tmp_path: Path,
        settings: Settings,
    ) -> None:
        # SQLite: a directory is not a database file. PostgreSQL: nothing listens on port 1.
        # Either way every connection attempt fails.
        unreachable = (
            f"sqlite+aiosqlite:///{tmp_path}"
            if backend == "sqlite"
            else "postgresql+asyncpg://postgres@127.0.0.1:1/contactlists"
        )
        app.state.database = Database(unreachable)  # type: ignore[attr-defined]
        app.state.reads = await open_read_store(  # type: ignore[attr-defined]
            settings.model_copy(update={"database_url": unreachable})
        )
        response = await client.get(LISTS, headers=acct.live)
        error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert error["type"] == "UNAVAILABLE"
        assert response.headers["retry-after"] == "1"
        ready = await client.get("/readyz")
        assert ready.status_code == 503

    @postgresql_only  # SQLite's counterpart, its 10 s busy timeout, is too slow to test
    async def test_statement_timeout_is_503(
        self, client: httpx.AsyncClient, acct: AccountKeys, app: object, database_url: str
    ) -> None:
        created = await client.post(LISTS, json=create_body("sandbox-exact-3"), headers=acct.live)
        list_id = created.json()["id"]
        impatient = Database(database_url, statement_timeout_ms=200)
        app.state.database = impatient  # type: ignore[attr-defined]
        blocker = create_async_engine(database_url, poolclass=NullPool)
        try:
            async with blocker.begin() as conn:
                # Hold the list's row lock: the rename waits for it past its timeout.
                await conn.execute(
                    sa.select(ContactList.id).where(ContactList.id == list_id).with_for_update()
                )
                response = await client.put(
                    f"{LISTS}/{list_id}", json={"name": "late"}, headers=acct.live
                )
        finally:
            await blocker.dispose()
            await impatient.dispose()
        error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert response.headers["retry-after"] == "1"
        assert error["errorAction"] == "RETRY_LATER"

    @postgresql_only
    async def test_silent_server_is_503_within_the_pool_timeout(
        self, client: httpx.AsyncClient, acct: AccountKeys, app: object
    ) -> None:
        # A port that takes connections and never says a word, like a wedged server.
        with socket.create_server(("127.0.0.1", 0)) as silent:
            port = silent.getsockname()[1]
            wedged = Database(
                f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x", pool_timeout_s=0.3
            )
            app.state.database = wedged  # type: ignore[attr-defined]
            started = time.monotonic()
            response = await client.put(f"{LISTS}/cl_x", json={"name": "n"}, headers=acct.live)
            elapsed = time.monotonic() - started
            await wedged.dispose()
        assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert elapsed < 5
