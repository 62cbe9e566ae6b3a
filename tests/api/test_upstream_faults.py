"""Sandbox failures map onto the contract's statuses, and nothing is stored or charged."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from contactlists.db import Database
from tests.api.helpers import assert_error, company, create_body
from tests.conftest import AccountKeys, MakeAccount, Snapshot

LISTS = "/v1/contacts/lists"
FAULTS = [
    ("sandbox-upstream-error", 502, "UPSTREAM_ERROR"),
    ("sandbox-rate-limited", 503, "UPSTREAM_RATE_LIMITED"),
    ("sandbox-timeout", 504, "UPSTREAM_TIMEOUT"),
    ("sandbox-session-expired", 422, "SALES_NAVIGATOR_SESSION_EXPIRED"),
]


class TestUpstreamFaults:
    @pytest.mark.parametrize("page", [1, 3, 5])
    @pytest.mark.parametrize(("magic", "status", "error_code"), FAULTS)
    async def test_fault_on_any_page_stores_and_charges_nothing(
        self,
        client: httpx.AsyncClient,
        make_account: MakeAccount,
        snapshot: Snapshot,
        magic: str,
        status: int,
        error_code: str,
        page: int,
    ) -> None:
        account = await make_account(credits=100)
        before = await snapshot()
        response = await client.post(
            LISTS, json=create_body(f"{magic}-page-{page}"), headers=account.test
        )
        error = assert_error(response, status, error_code)
        assert error["errorAction"] in ("RETRY_LATER", "RECONNECT_SALES_NAVIGATOR")
        assert await snapshot() == before
        credits = await client.get("/v1/credits", headers=account.live)
        assert credits.json()["remainingCredits"] == 100

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
        self, client: httpx.AsyncClient, acct: AccountKeys, app: object, tmp_path: Path
    ) -> None:
        # A directory is not a database file: every connection attempt fails.
        app.state.database = Database(f"sqlite+aiosqlite:///{tmp_path}")  # type: ignore[attr-defined]
        response = await client.get(LISTS, headers=acct.live)
        error = assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert error["type"] == "UNAVAILABLE"
        assert response.headers["retry-after"] == "1"
        ready = await client.get("/readyz")
        assert ready.status_code == 503
