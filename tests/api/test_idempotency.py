"""Idempotent creates: one key, one search, one list, one charge."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactlists.accounts import service as accounts
from contactlists.core.clock import utcnow
from contactlists.core.db import Database
from contactlists.credits import service as credits
from contactlists.idempotency import repository as records
from contactlists.idempotency.service import fingerprint
from contactlists.providers.base import LeadPage, LeadQuery
from contactlists.providers.sandbox import SandboxProvider
from tests.api.helpers import assert_error, count_searches, create_body
from tests.conftest import AccountKeys, MakeAccount

LISTS = "/v1/contacts/lists"


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def total_lists(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    total: int = (await client.get(LISTS, headers=headers)).json()["total"]
    return total


async def charges(database: Database, account_id: str) -> list[int]:
    return [row.delta for row in await credits.ledger(database, account_id) if row.delta < 0]


def hold_searches(monkeypatch: pytest.MonkeyPatch) -> tuple[asyncio.Event, asyncio.Event]:
    """Make every sandbox page wait: (set when a search started, set it to let them go)."""
    started, release = asyncio.Event(), asyncio.Event()
    original = SandboxProvider.fetch_page

    async def gated(self: SandboxProvider, query: LeadQuery, start: int, n: int) -> LeadPage:
        started.set()
        await release.wait()
        return await original(self, query, start, n)

    monkeypatch.setattr(SandboxProvider, "fetch_page", gated)
    return started, release


def assert_replay(response: httpx.Response, original: httpx.Response) -> None:
    assert response.status_code == 201, response.text
    assert response.headers["idempotent-replayed"] == "true"
    assert response.json() == original.json()
    assert response.headers["location"] == original.headers["location"]


class TestConcurrentRepeats:
    async def test_twenty_parallel_posts_search_store_and_charge_once(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        make_account: MakeAccount,
        database: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        app.state.settings.sandbox_latency_ms = 30
        searches = count_searches(monkeypatch)
        account = await make_account(credits=100)
        headers = keyed(account.live, "twenty-at-once")
        body = create_body("sandbox-exact-30")

        responses = await asyncio.gather(
            *(client.post(LISTS, json=body, headers=headers) for _ in range(20))
        )

        created = [r for r in responses if r.status_code == 201]
        assert created
        for response in responses:
            if response.status_code != 201:
                error = assert_error(response, 409, "IDEMPOTENCY_IN_PROGRESS")
                assert error["errorAction"] == "RETRY_LATER"
                assert error["code"] == "IDEMPOTENCY_IN_PROGRESS"
        assert len({r.json()["id"] for r in created}) == 1
        assert len(searches) == 1
        assert await total_lists(client, account.live) == 1
        assert await charges(database, account.id) == [-2]
        replay = await client.post(LISTS, json=body, headers=headers)
        assert_replay(replay, created[0])
        assert len(searches) == 1

    async def test_a_repeat_while_running_is_409_in_progress(
        self, client: httpx.AsyncClient, acct: AccountKeys, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        started, release = hold_searches(monkeypatch)
        headers = keyed(acct.live, "slow-one")
        first = asyncio.create_task(client.post(LISTS, json=create_body(), headers=headers))
        await started.wait()
        repeat = await client.post(LISTS, json=create_body(), headers=headers)
        assert_error(repeat, 409, "IDEMPOTENCY_IN_PROGRESS")
        other_body = await client.post(LISTS, json=create_body(name="other"), headers=headers)
        assert_error(other_body, 409, "IDEMPOTENCY_CONFLICT")
        release.set()
        assert (await first).status_code == 201


class TestReplay:
    async def test_replay_after_the_balance_is_spent_and_the_connection_expired(
        self, client: httpx.AsyncClient, make_account: MakeAccount, database: Database
    ) -> None:
        account = await make_account(credits=5)
        headers = keyed(account.live, "order-4711")
        body = create_body("sandbox-exact-30")
        original = await client.post(LISTS, json=body, headers=headers)
        assert original.status_code == 201
        assert "idempotent-replayed" not in original.headers

        spent = await client.post(LISTS, json=create_body("sandbox-exact-10"), headers=account.live)
        assert_error(spent, 402, "INSUFFICIENT_CREDITS")
        assert_replay(await client.post(LISTS, json=body, headers=headers), original)

        await accounts.grant_credits(database, account.id, 10)
        expiring = create_body("sandbox-session-expired")
        expired = await client.post(LISTS, json=expiring, headers=account.live)
        assert_error(expired, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        refused = await client.post(LISTS, json=create_body(), headers=account.live)
        assert_error(refused, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        assert_replay(await client.post(LISTS, json=body, headers=headers), original)
        credits_left = await client.get("/v1/credits", headers=account.live)
        assert credits_left.json()["remainingCredits"] == 13

    async def test_replay_returns_the_stored_201_even_after_a_rename(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        headers = keyed(acct.live, "snapshot")
        original = await client.post(LISTS, json=create_body(), headers=headers)
        await client.put(original.headers["location"], json={"name": "renamed"}, headers=acct.live)
        assert_replay(await client.post(LISTS, json=create_body(), headers=headers), original)

    async def test_the_fingerprint_is_the_canonical_json_of_the_body(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        headers = {**keyed(acct.live, "canonical"), "Content-Type": "application/json"}
        compact = (
            '{"name":"N","filters":{"companyLinkedInUrls":'
            '["https://www.linkedin.com/company/sandbox-exact-3"],"jobTitles":["Engineer"]}}'
        )
        spaced = (
            '{ "filters": { "jobTitles": ["Engineer"], "companyLinkedInUrls": '
            '["https://www.linkedin.com/company/sandbox-exact-3"] },\n "name": "N" }'
        )
        original = await client.post(LISTS, content=compact, headers=headers)
        assert_replay(await client.post(LISTS, content=spaced, headers=headers), original)
        trimmed_differently = spaced.replace('"N"', '" N "')
        conflict = await client.post(LISTS, content=trimmed_differently, headers=headers)
        error = assert_error(conflict, 409, "IDEMPOTENCY_CONFLICT")
        assert error["errorAction"] == "FIX_REQUEST"

    async def test_keys_are_scoped_to_account_and_mode(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        owner, other = await make_account(), await make_account()
        ids = set()
        for headers in (owner.live, owner.test, other.live):
            response = await client.post(LISTS, json=create_body(), headers=keyed(headers, "k"))
            assert response.status_code == 201
            assert "idempotent-replayed" not in response.headers
            ids.add(response.json()["id"])
        assert len(ids) == 3

    async def test_quotes_around_the_key_are_stripped(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        original = await client.post(LISTS, json=create_body(), headers=keyed(acct.live, '"q-1"'))
        assert_replay(
            await client.post(LISTS, json=create_body(), headers=keyed(acct.live, "q-1")), original
        )


class TestFailures:
    async def test_a_failed_create_stores_nothing_and_frees_the_key(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        headers = keyed(acct.live, "retry-me")
        failed = await client.post(
            LISTS, json=create_body("sandbox-upstream-error-page-2"), headers=headers
        )
        assert_error(failed, 502, "UPSTREAM_ERROR")
        invalid = await client.post(LISTS, json={"name": "x"}, headers=headers)
        assert invalid.status_code == 400
        retried = await client.post(LISTS, json=create_body(), headers=headers)
        assert retried.status_code == 201
        assert "idempotent-replayed" not in retried.headers

    @pytest.mark.parametrize(
        "value",
        [b"", b"   ", b'""', b"a b", b"x" * 256, "clé".encode(), b"tab\there", b"\x7f"],
    )
    async def test_invalid_keys_are_400(
        self, client: httpx.AsyncClient, acct: AccountKeys, value: bytes
    ) -> None:
        headers = [*acct.live.items(), (b"Idempotency-Key", value)]
        response = await client.post(LISTS, json=create_body(), headers=headers)
        assert_error(response, 400, "INVALID_IDEMPOTENCY_KEY", field="Idempotency-Key")
        assert await total_lists(client, acct.live) == 0

    async def test_two_key_headers_are_400_and_255_characters_are_fine(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        twice = [*acct.live.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
        response = await client.post(LISTS, json=create_body(), headers=twice)
        assert_error(response, 400, "INVALID_IDEMPOTENCY_KEY")
        longest = keyed(acct.live, "~" + "x" * 253 + "!")
        assert (await client.post(LISTS, json=create_body(), headers=longest)).status_code == 201

    async def test_the_header_is_ignored_on_other_routes(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await client.post(LISTS, json=create_body(), headers=acct.live)
        path = created.headers["location"]
        bad = [*acct.live.items(), ("Idempotency-Key", "")]
        assert (await client.get(LISTS, headers=bad)).status_code == 200
        renamed = await client.put(path, json={"name": "r"}, headers=bad)
        assert renamed.status_code == 200
        again = await client.put(path, json={"name": "s"}, headers=keyed(acct.live, "same"))
        assert again.json()["name"] == "s"


class TestExpiry:
    async def plant(
        self, database: Database, account_id: str, key: str, body: dict[str, Any], **values: Any
    ) -> None:
        now = utcnow()
        async with database.transaction(write=True) as conn:
            await records.insert_claim(
                conn,
                {
                    "account_id": account_id,
                    "mode": "live",
                    "key": key,
                    "fingerprint": fingerprint(body),
                    "state": "in_progress",
                    "created_at": now - timedelta(hours=1),
                    "expires_at": now + timedelta(minutes=1),
                    **values,
                },
            )

    async def test_the_claim_of_a_request_that_died_expires(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: Database
    ) -> None:
        body = create_body()
        await self.plant(database, acct.id, "alive", body)
        await self.plant(
            database, acct.id, "dead", body, expires_at=utcnow() - timedelta(seconds=1)
        )
        alive = await client.post(LISTS, json=body, headers=keyed(acct.live, "alive"))
        assert_error(alive, 409, "IDEMPOTENCY_IN_PROGRESS")
        taken_over = await client.post(LISTS, json=body, headers=keyed(acct.live, "dead"))
        assert taken_over.status_code == 201
        assert "idempotent-replayed" not in taken_over.headers

    async def test_a_stored_201_is_kept_24_hours_then_purged(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: Database
    ) -> None:
        body = create_body()
        stored = {"id": "cl_old", "name": "old"}
        await self.plant(
            database,
            acct.id,
            "yesterday",
            body,
            state="completed",
            response_status=201,
            response_body=stored,
            expires_at=utcnow() - timedelta(seconds=1),
        )
        fresh = await client.post(LISTS, json=body, headers=keyed(acct.live, "yesterday"))
        assert fresh.status_code == 201
        assert fresh.json()["id"] != "cl_old"


class TestDisconnect:
    async def test_a_client_that_disconnects_does_not_abort_the_create(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        make_account: MakeAccount,
        database: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        account = await make_account(credits=10)
        started, release = hold_searches(monkeypatch)
        headers = keyed(account.live, "hang-up")
        body = create_body("sandbox-exact-30")
        request = asyncio.create_task(client.post(LISTS, json=body, headers=headers))
        await started.wait()
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        release.set()
        await app.state.shielded.drain()

        replay = await client.post(LISTS, json=body, headers=headers)
        assert replay.status_code == 201
        assert replay.headers["idempotent-replayed"] == "true"
        assert await total_lists(client, account.live) == 1
        assert await charges(database, account.id) == [-2]


async def test_the_api_description_declares_the_key_and_the_409(client: httpx.AsyncClient) -> None:
    create = (await client.get("/openapi.json")).json()["paths"][LISTS]["post"]
    headers = [p["name"] for p in create["parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]
    assert "409" in create["responses"]
    assert "429" in create["responses"]
