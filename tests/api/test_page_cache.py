"""Contact pages: strong ETags, 304s, and a cache that never outlives access rights."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from contactlists.accounts import service as accounts
from contactlists.core.db import Database
from contactlists.core.models import ContactList
from contactlists.lists import repository
from contactlists.lists.page_cache import ENTRY_OVERHEAD, PageCache
from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, MakeAccount

LISTS = "/v1/contacts/lists"


async def _list(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.post(LISTS, json=create_body("sandbox-exact-30"), headers=headers)
    assert response.status_code == 201
    created: dict[str, Any] = response.json()
    return created


class TestETags:
    async def test_same_page_same_etag_and_304_on_match(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        url = f"{LISTS}/{(await _list(client, acct.live))['id']}/contacts"
        first = await client.get(url, headers=acct.live)
        again = await client.get(url, headers=acct.live)
        etag = first.headers["etag"]
        assert etag.startswith('"')
        assert again.headers["etag"] == etag
        assert again.content == first.content
        for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            not_modified = await client.get(url, headers={**acct.live, "If-None-Match": header})
            assert not_modified.status_code == 304
            assert not_modified.content == b""
            assert not_modified.headers["etag"] == etag
        stale = await client.get(url, headers={**acct.live, "If-None-Match": '"nope"'})
        assert stale.status_code == 200
        assert stale.content == first.content

    async def test_each_page_has_its_own_etag(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        url = f"{LISTS}/{(await _list(client, acct.live))['id']}/contacts"
        etags = {
            (await client.get(url, params=params, headers=acct.live)).headers["etag"]
            for params in ({}, {"offset": 25}, {"limit": 10}, {"limit": 10, "offset": 10})
        }
        assert len(etags) == 4


class TestCacheNeverBypassesAccess:
    async def test_deleted_list_is_404_even_when_cached(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        url = f"{LISTS}/{(await _list(client, acct.live))['id']}"
        assert (await client.get(url + "/contacts", headers=acct.live)).status_code == 200
        assert (await client.delete(url, headers=acct.live)).status_code == 204
        gone = await client.get(url + "/contacts", headers=acct.live)
        assert_error(gone, 404, "LIST_NOT_FOUND")
        conditional = await client.get(
            url + "/contacts", headers={**acct.live, "If-None-Match": "*"}
        )
        assert_error(conditional, 404, "LIST_NOT_FOUND")

    async def test_other_account_and_test_mode_get_404_for_a_cached_page(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        owner, other = await make_account(), await make_account()
        url = f"{LISTS}/{(await _list(client, owner.live))['id']}/contacts"
        assert (await client.get(url, headers=owner.live)).status_code == 200
        assert_error(await client.get(url, headers=other.live), 404, "LIST_NOT_FOUND")
        assert_error(await client.get(url, headers=owner.test), 404, "LIST_NOT_FOUND")

    async def test_revoked_key_is_401_for_a_cached_page(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: Database
    ) -> None:
        url = f"{LISTS}/{(await _list(client, acct.live))['id']}/contacts"
        assert (await client.get(url, headers=acct.live)).status_code == 200
        for key in await accounts.list_keys(database, acct.id):
            if key.mode == "live":
                await accounts.revoke_key(database, key.id)
        assert_error(await client.get(url, headers=acct.live), 401, "REVOKED_API_KEY")


class TestDeleteDuringARead:
    async def test_a_list_deleted_between_its_reads_is_404_and_nothing_is_cached(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        database: Database,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        list_id = (await _list(client, acct.live))["id"]
        read_items = repository.read_items

        async def deleted_first(*args: Any) -> Any:
            """Another worker deletes the list after this request found it."""
            async with database.transaction(write=True) as conn:
                await conn.execute(sa.delete(ContactList).where(ContactList.id == list_id))
            return await read_items(*args)

        monkeypatch.setattr(repository, "read_items", deleted_first)
        cached = len(app.state.page_cache)
        response = await client.get(f"{LISTS}/{list_id}/contacts", headers=acct.live)
        assert_error(response, 404, "LIST_NOT_FOUND")
        assert len(app.state.page_cache) == cached

    async def test_a_page_past_the_end_is_empty_with_the_true_total(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        list_id = (await _list(client, acct.live))["id"]
        for offset, count in ((0, 25), (25, 5), (29, 1), (30, 0), (31, 0)):
            page = await client.get(
                f"{LISTS}/{list_id}/contacts", params={"offset": offset}, headers=acct.live
            )
            assert page.status_code == 200
            body = page.json()
            assert (len(body["items"]), body["total"]) == (count, 30), offset

    async def test_pages_past_the_end_are_not_cached(
        self, client: httpx.AsyncClient, acct: AccountKeys, app: FastAPI
    ) -> None:
        url = f"{LISTS}/{(await _list(client, acct.live))['id']}/contacts"
        cached = len(app.state.page_cache)
        for offset in range(30, 530):
            page = await client.get(url, params={"limit": 1, "offset": offset}, headers=acct.live)
            assert page.json()["items"] == []
        assert len(app.state.page_cache) == cached


class TestBounds:
    def test_entries_are_bounded_as_well_as_bytes(self) -> None:
        cache = PageCache(max_bytes=1 << 30, max_entries=3)
        for offset in range(10):
            cache.put(("cl_x", 1, offset), b"{}")
        assert len(cache) == 3
        assert cache.get(("cl_x", 1, 9)) is not None
        assert cache.get(("cl_x", 1, 6)) is None

    def test_each_entry_is_charged_its_measured_overhead(self) -> None:
        cache = PageCache(max_bytes=10 * (ENTRY_OVERHEAD + 2), max_entries=1000)
        for offset in range(100):
            cache.put(("cl_x", 1, offset), b"{}")
        assert len(cache) == 10
        assert cache.resident_bytes == 10 * (ENTRY_OVERHEAD + 2)
