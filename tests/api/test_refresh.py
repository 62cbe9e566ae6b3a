"""Refresh: a list's stored search run again into a new list, exactly like a create."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactlists.core.db import Database
from contactlists.providers.base import LeadPage, LeadQuery, UpstreamError
from contactlists.providers.sandbox import SandboxProvider
from tests.api.helpers import assert_error, count_searches, create_body
from tests.api.test_credits import assert_no_open_reservation, ledger, remaining
from tests.api.test_rate_limits import assert_rate_limited, budget
from tests.conftest import AccountKeys, MakeAccount, Snapshot

LISTS = "/v1/contacts/lists"


async def make_list(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any] | None = None
) -> dict[str, Any]:
    created = await client.post(LISTS, json=body or create_body(), headers=headers)
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


async def refresh(
    client: httpx.AsyncClient, headers: dict[str, str], list_id: str
) -> httpx.Response:
    return await client.post(f"{LISTS}/{list_id}/refresh", headers=headers)


async def contacts(client: httpx.AsyncClient, headers: dict[str, str], list_id: str) -> list[Any]:
    page = await client.get(f"{LISTS}/{list_id}/contacts?limit=100", headers=headers)
    items: list[Any] = page.json()["items"]
    return items


def fail_after_first_page(monkeypatch: pytest.MonkeyPatch) -> None:
    original = SandboxProvider.fetch_page

    async def failing(self: SandboxProvider, query: LeadQuery, start: int, n: int) -> LeadPage:
        if start > 0:
            raise UpstreamError("sandbox: failed mid-search")
        return await original(self, query, start, n)

    monkeypatch.setattr(SandboxProvider, "fetch_page", failing)


class TestRefresh:
    async def test_stores_a_new_list_with_the_same_search(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = create_body("sandbox-exact-30", job_titles=["Engineering Manager"], name="Leads")
        source = await make_list(client, acct.live, body)
        response = await refresh(client, acct.live, source["id"])
        assert response.status_code == 201, response.text
        fresh = response.json()
        assert response.headers["location"] == f"{LISTS}/{fresh['id']}"
        assert fresh["id"] != source["id"]
        assert fresh["refreshedFrom"] == source["id"]
        assert (fresh["name"], fresh["filters"], fresh["provider"]) == (
            source["name"],
            source["filters"],
            source["provider"],
        )
        assert fresh["contactCount"] == 30
        assert (await client.get(f"{LISTS}/{fresh['id']}", headers=acct.live)).json() == fresh
        # The source is untouched; the same people are the same base contacts.
        assert (await client.get(f"{LISTS}/{source['id']}", headers=acct.live)).json() == source
        old = await contacts(client, acct.live, source["id"])
        new = await contacts(client, acct.live, fresh["id"])
        assert [c["baseContactId"] for c in new] == [c["baseContactId"] for c in old]
        assert {c["listId"] for c in new} == {fresh["id"]}

    async def test_a_refresh_of_a_refresh_names_its_own_source(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        source = await make_list(client, acct.live)
        first = (await refresh(client, acct.live, source["id"])).json()
        second = (await refresh(client, acct.live, first["id"])).json()
        assert second["refreshedFrom"] == first["id"]

    async def test_a_renamed_list_refreshes_under_its_new_name(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        source = await make_list(client, acct.live)
        renamed = await client.put(
            f"{LISTS}/{source['id']}", json={"name": "Renamed"}, headers=acct.live
        )
        assert renamed.status_code == 200
        assert (await refresh(client, acct.live, source["id"])).json()["name"] == "Renamed"

    async def test_a_test_key_refreshes_its_test_list_on_the_sandbox_for_free(
        self, client: httpx.AsyncClient, make_account: MakeAccount, database: Database
    ) -> None:
        account = await make_account(credits=5, connect=False)
        source = await make_list(client, account.test)
        response = await refresh(client, account.test, source["id"])
        assert response.status_code == 201, response.text
        assert response.json()["provider"] == "sandbox"
        assert await remaining(client, account) == 5
        assert (await client.get(LISTS, headers=account.test)).json()["total"] == 2
        assert (await client.get(LISTS, headers=account.live)).json()["total"] == 0


class TestNotFound:
    async def test_another_accounts_or_modes_or_a_missing_list_is_404(
        self,
        client: httpx.AsyncClient,
        make_account: MakeAccount,
        snapshot: Snapshot,
    ) -> None:
        owner = await make_account()
        other = await make_account()
        source = await make_list(client, owner.live)
        unchanged = await snapshot()
        for headers, list_id in (
            (other.live, source["id"]),
            (owner.test, source["id"]),
            (owner.live, "cl_missing"),
        ):
            assert_error(await refresh(client, headers, list_id), 404, "LIST_NOT_FOUND")
        assert await snapshot() == unchanged

    async def test_a_deleted_list_cannot_be_refreshed(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        source = await make_list(client, acct.live)
        deleted = await client.delete(f"{LISTS}/{source['id']}", headers=acct.live)
        assert deleted.status_code == 204
        assert_error(await refresh(client, acct.live, source["id"]), 404, "LIST_NOT_FOUND")


class TestLikeACreate:
    async def test_is_charged_per_page_with_leads(
        self, client: httpx.AsyncClient, make_account: MakeAccount, database: Database
    ) -> None:
        account = await make_account(credits=20)
        source = await make_list(client, account.live, create_body("sandbox-exact-30"))
        assert await remaining(client, account) == 18
        assert (await refresh(client, account.live, source["id"])).status_code == 201
        assert await remaining(client, account) == 16
        assert_no_open_reservation(await ledger(database, account.id))

    async def test_402_when_the_reservation_cannot_be_covered(
        self, client: httpx.AsyncClient, make_account: MakeAccount, snapshot: Snapshot
    ) -> None:
        account = await make_account(credits=5)
        source = await make_list(client, account.live, create_body("sandbox-exact-3"))
        unchanged = await snapshot()
        response = await refresh(client, account.live, source["id"])
        assert_error(response, 402, "INSUFFICIENT_CREDITS")
        assert await snapshot() == unchanged

    async def test_a_failure_mid_search_stores_and_charges_nothing(
        self,
        client: httpx.AsyncClient,
        make_account: MakeAccount,
        database: Database,
        snapshot: Snapshot,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        account = await make_account(credits=20)
        source = await make_list(client, account.live, create_body("sandbox-exact-30"))
        before = await remaining(client, account)
        unchanged = await snapshot()
        fail_after_first_page(monkeypatch)
        headers = {**account.live, "Idempotency-Key": "mid-search"}
        assert_error(await refresh(client, headers, source["id"]), 502, "UPSTREAM_ERROR")
        assert await remaining(client, account) == before
        assert_no_open_reservation(await ledger(database, account.id))
        assert (await client.get(LISTS, headers=account.live)).json()["total"] == 1
        after = await snapshot()
        for table in ("contact_lists", "contact_list_items", "base_contacts"):
            assert after[table] == unchanged[table]
        monkeypatch.undo()
        # The key was given back: a retry runs afresh.
        retried = await refresh(client, headers, source["id"])
        assert retried.status_code == 201
        assert "idempotent-replayed" not in retried.headers

    async def test_an_unconnected_account_is_422(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        source = await make_list(client, acct.live)
        disconnected = await client.delete("/v1/integrations/sales-navigator", headers=acct.live)
        assert disconnected.status_code == 204
        response = await refresh(client, acct.live, source["id"])
        assert_error(response, 422, "SALES_NAVIGATOR_NOT_CONNECTED")

    async def test_spends_the_create_budget(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        source = await make_list(client, acct.live)
        budget(app, create_rate_limit="2/minute")
        assert (await refresh(client, acct.live, source["id"])).status_code == 201
        assert (await client.post(LISTS, json=create_body(), headers=acct.live)).status_code == 201
        assert_rate_limited(await refresh(client, acct.live, source["id"]), 2)


class TestIdempotency:
    async def test_a_repeat_replays_without_searching(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        source = await make_list(client, acct.live)
        searches = count_searches(monkeypatch)
        headers = {**acct.live, "Idempotency-Key": "refresh-once"}
        first = await refresh(client, headers, source["id"])
        again = await refresh(client, headers, source["id"])
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert len(searches) == 1
        assert (await client.get(LISTS, headers=acct.live)).json()["total"] == 2

    async def test_the_fingerprint_is_the_list_id(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        one = await make_list(client, acct.live)
        two = await make_list(client, acct.live)
        headers = {**acct.live, "Idempotency-Key": "one-key"}
        assert (await refresh(client, headers, one["id"])).status_code == 201
        conflict = await refresh(client, headers, two["id"])
        assert_error(conflict, 409, "IDEMPOTENCY_CONFLICT")
        # A create with the key is another request, too.
        created = await client.post(LISTS, json=create_body(), headers=headers)
        assert_error(created, 409, "IDEMPOTENCY_CONFLICT")

    async def test_an_invalid_key_is_400_before_the_list_is_looked_up(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        headers = {**acct.live, "Idempotency-Key": "a b"}
        response = await refresh(client, headers, "cl_missing")
        assert_error(response, 400, "INVALID_IDEMPOTENCY_KEY")
