"""Credits: reserved before the search, settled with the list, never overdrawn."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactlists.accounts import service as accounts
from contactlists.core.clock import utcnow
from contactlists.core.db import AnyRow, Database
from contactlists.core.ids import new_id
from contactlists.credits import repository as ledger_rows
from contactlists.credits import service as credits
from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, MakeAccount

LISTS = "/v1/contacts/lists"


async def remaining(client: httpx.AsyncClient, account: AccountKeys) -> int:
    value: int = (await client.get("/v1/credits", headers=account.live)).json()["remainingCredits"]
    return value


async def stored_lists(client: httpx.AsyncClient, account: AccountKeys) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = await client.get(
            LISTS, params={"limit": 100, "offset": len(items)}, headers=account.live
        )
        items += page.json()["items"]
        if not page.json()["hasMore"]:
            return items


async def ledger(database: Database, account_id: str) -> list[AnyRow]:
    return list(await credits.ledger(database, account_id))


def steps(rows: list[AnyRow]) -> list[tuple[str, int, int]]:
    return [(row.kind, row.delta, row.held) for row in rows]


def assert_no_open_reservation(rows: list[AnyRow]) -> None:
    reserved = {row.reservation_id for row in rows if row.kind == "reserve"}
    closed = [row.reservation_id for row in rows if row.kind in ("settle", "release")]
    assert sorted(closed) == sorted(reserved)
    assert sum(row.held for row in rows) == 0


async def plant_reservation(
    database: Database, account_id: str, held: int, expires_in: timedelta
) -> None:
    """A reservation as a request leaves it when its process dies mid-search."""
    now = utcnow()
    async with database.transaction(write=True) as conn:
        await ledger_rows.record(
            conn,
            account_id=account_id,
            kind="reserve",
            held=held,
            reason="hold for a contact list search",
            now=now - timedelta(minutes=5),
            request_id="req-of-a-dead-process",
            reservation_id=new_id("res"),
            expires_at=now + expires_in,
        )


class TestReservations:
    async def test_two_concurrent_creates_on_one_reservation_never_overdraw(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        make_account: MakeAccount,
        database: Database,
    ) -> None:
        app.state.settings.sandbox_latency_ms = 50
        account = await make_account(credits=5)
        responses = await asyncio.gather(
            client.post(LISTS, json=create_body("sandbox-exact-30"), headers=account.live),
            client.post(LISTS, json=create_body("sandbox-exact-40"), headers=account.live),
        )
        assert sorted(r.status_code for r in responses) == [201, 402]
        refused = next(r for r in responses if r.status_code == 402)
        error = assert_error(refused, 402, "INSUFFICIENT_CREDITS")
        assert error["details"]["requiredCredits"] == 5
        assert error["errorAction"] == "BUY_CREDITS"
        assert await remaining(client, account) == 3
        assert len(await stored_lists(client, account)) == 1
        assert_no_open_reservation(await ledger(database, account.id))

    async def test_a_failed_search_releases_its_reservation(
        self, client: httpx.AsyncClient, make_account: MakeAccount, database: Database
    ) -> None:
        account = await make_account(credits=10)
        failed = await client.post(
            LISTS, json=create_body("sandbox-upstream-error-page-3"), headers=account.live
        )
        assert_error(failed, 502, "UPSTREAM_ERROR")
        rows = await ledger(database, account.id)
        assert steps(rows) == [
            ("grant", 10, 0),
            ("reserve", 0, 5),
            ("release", 0, -5),
        ]
        assert rows[2].reason == "create failed: UPSTREAM_ERROR"
        assert rows[1].request_id == failed.headers["x-request-id"]
        assert await remaining(client, account) == 10

    async def test_an_empty_search_settles_at_zero(
        self, client: httpx.AsyncClient, make_account: MakeAccount, database: Database
    ) -> None:
        account = await make_account(credits=5)
        created = await client.post(
            LISTS, json=create_body("sandbox-exact-0"), headers=account.live
        )
        assert created.json()["contactCount"] == 0
        rows = await ledger(database, account.id)
        assert steps(rows[1:]) == [
            ("reserve", 0, 5),
            ("settle", 0, -5),
        ]
        assert rows[2].list_id == created.json()["id"]
        assert await remaining(client, account) == 5

    async def test_test_mode_and_unlimited_accounts_hold_nothing(
        self, client: httpx.AsyncClient, make_account: MakeAccount, database: Database
    ) -> None:
        limited, unlimited = await make_account(credits=1), await make_account()
        for headers in (limited.test, unlimited.live, unlimited.test):
            response = await client.post(
                LISTS, json=create_body("sandbox-exact-125"), headers=headers
            )
            assert response.status_code == 201
        assert [r.kind for r in await credits.ledger(database, limited.id)] == ["grant"]
        assert await ledger(database, unlimited.id) == []

    async def test_credits_per_page_scales_reservation_and_charge(
        self, app: FastAPI, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        app.state.settings.credits_per_page = 3
        account = await make_account(credits=15)
        await client.post(LISTS, json=create_body("sandbox-exact-30"), headers=account.live)
        assert await remaining(client, account) == 9
        refused = await client.post(LISTS, json=create_body(), headers=account.live)
        assert assert_error(refused, 402, "INSUFFICIENT_CREDITS")["details"] == {
            "remainingCredits": 9,
            "availableCredits": 9,
            "requiredCredits": 15,
        }


class TestExpiry:
    async def test_an_open_reservation_counts_until_it_expires(
        self, client: httpx.AsyncClient, make_account: MakeAccount, database: Database
    ) -> None:
        account = await make_account(credits=5)
        await plant_reservation(database, account.id, 5, timedelta(minutes=1))
        held = await client.post(LISTS, json=create_body(), headers=account.live)
        assert assert_error(held, 402, "INSUFFICIENT_CREDITS")["details"]["availableCredits"] == 0

    async def test_an_expired_reservation_stops_counting_and_is_closed(
        self, client: httpx.AsyncClient, make_account: MakeAccount, database: Database
    ) -> None:
        account = await make_account(credits=5)
        await plant_reservation(database, account.id, 5, timedelta(seconds=-1))
        created = await client.post(
            LISTS, json=create_body("sandbox-exact-30"), headers=account.live
        )
        assert created.status_code == 201
        rows = await ledger(database, account.id)
        expired = [r for r in rows if r.reason == credits.EXPIRED_REASON]
        assert [(r.kind, r.held, r.request_id) for r in expired] == [
            ("release", -5, "req-of-a-dead-process")
        ]
        assert_no_open_reservation(rows)
        assert await remaining(client, account) == 3

    async def test_purge_closes_expired_reservations_of_every_account(
        self, make_account: MakeAccount, database: Database
    ) -> None:
        first, second = await make_account(credits=5), await make_account(credits=5)
        for account in (first, second):
            await plant_reservation(database, account.id, 5, timedelta(seconds=-1))
        await plant_reservation(database, second.id, 2, timedelta(minutes=1))
        assert await credits.close_expired(database) == 2
        assert await credits.close_expired(database) == 0
        assert_no_open_reservation(await ledger(database, first.id))


class TestRandomSequence:
    @pytest.mark.parametrize("seed", [20261126])
    async def test_two_hundred_creates_balance_to_the_pages_of_stored_lists(
        self,
        client: httpx.AsyncClient,
        make_account: MakeAccount,
        database: Database,
        seed: int,
    ) -> None:
        rng = random.Random(seed)
        grants = 60
        account = await make_account(credits=grants)
        succeeded: list[tuple[str, dict[str, Any]]] = []
        outcomes: dict[int, int] = {}
        numbers = itertools.count()
        sent = 0

        def next_request() -> tuple[dict[str, Any], dict[str, str], set[int]]:
            number = next(numbers)
            kind = rng.choice(["found", "found", "empty", "invalid", "upstream", "replay"])
            key = f"seq-{number}" if rng.random() < 0.6 else None
            headers = dict(account.live)
            if kind == "replay" and succeeded:
                key, body = rng.choice(succeeded)
                return body, {**headers, "Idempotency-Key": key}, {201}
            if kind == "invalid":
                body = {"name": "no filters", "filters": {"companyLinkedInUrls": []}}
                expected = {400}
            elif kind == "upstream":
                magic = rng.choice(["sandbox-upstream-error", "sandbox-rate-limited"])
                body = create_body(f"{magic}-page-{rng.randint(1, 5)}")
                expected = {402, 502, 503}
            else:
                people = 0 if kind == "empty" else rng.randint(1, 160)
                body = create_body(f"sandbox-exact-{people}", name=f"list {number}")
                expected = {201, 402}
            if key is not None:
                headers["Idempotency-Key"] = key
            return body, headers, expected

        while sent < 200:
            batch = [next_request() for _ in range(min(rng.randint(1, 4), 200 - sent))]
            sent += len(batch)
            responses = await asyncio.gather(
                *(client.post(LISTS, json=body, headers=headers) for body, headers, _ in batch)
            )
            for (body, headers, expected), response in zip(batch, responses, strict=True):
                assert response.status_code in expected | {409}, response.text
                outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
                if response.status_code == 201 and "Idempotency-Key" in headers:
                    succeeded.append((headers["Idempotency-Key"], body))
            assert await remaining(client, account) >= 0
            if rng.random() < 0.1:
                grant = rng.randint(5, 20)
                await accounts.grant_credits(database, account.id, grant)
                grants += grant

        assert {201, 400, 402, 502, 503} <= set(outcomes)
        lists = await stored_lists(client, account)
        pages = sum(math.ceil(item["contactCount"] / 25) for item in lists)
        assert await remaining(client, account) == grants - pages
        rows = await ledger(database, account.id)
        settled = [row for row in rows if row.kind == "settle"]
        assert sorted(row.list_id for row in settled) == sorted(item["id"] for item in lists)
        assert all(row.list_id is not None for row in rows if row.delta < 0)
        assert_no_open_reservation(rows)
