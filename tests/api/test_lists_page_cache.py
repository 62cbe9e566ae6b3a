"""The lists page: cached under the account's lists version, which the key's own
query reads, so a change made through any worker is on the next page of every worker.

"Another worker" is a second app on the same database: its own page cache, read
store and engine, as a second uvicorn worker has. Round trips to the database
are counted on the read store, the same way on both backends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactlists.core.readstore import Params, Query, ReadStore, Row
from contactlists.core.settings import Settings
from contactlists.lists import repository
from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, MakeAccount, asgi_client, running_app

LISTS = "/v1/contacts/lists"


@dataclass
class CountedReads:
    """The app's read store, counting the round trips it makes."""

    inner: ReadStore
    trips: int = 0

    async def one(self, query: Query, params: Params) -> Row | None:
        self.trips += 1
        return await self.inner.one(query, params)

    async def one_current(self, query: Query, params: Params) -> Row | None:
        self.trips += 1
        return await self.inner.one_current(query, params)

    async def all(self, query: Query, params: Params) -> list[Row]:
        self.trips += 1
        return await self.inner.all(query, params)

    async def snapshot(self, *reads: tuple[Query, Params]) -> list[list[Row]]:
        self.trips += 1
        return await self.inner.snapshot(*reads)

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture
def reads(app: FastAPI) -> CountedReads:
    counted = CountedReads(app.state.reads)
    app.state.reads = counted
    return counted


@pytest.fixture(params=["same-worker", "another-worker"])
async def writer(
    request: pytest.FixtureRequest, client: httpx.AsyncClient, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """Who makes the change: the worker that cached the page, or another one."""
    if request.param == "same-worker":
        yield client
        return
    async with running_app(settings) as other, asgi_client(other) as other_client:
        yield other_client


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], name: str = "Engineering leads"
) -> dict[str, Any]:
    response = await client.post(LISTS, json=create_body(name=name), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def lists_page(
    client: httpx.AsyncClient, headers: dict[str, str], **params: int
) -> httpx.Response:
    response = await client.get(LISTS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def cached_page(
    client: httpx.AsyncClient, headers: dict[str, str], reads: CountedReads
) -> httpx.Response:
    """The lists page, asked twice: the second answer comes from the cache."""
    first = await lists_page(client, headers)
    before = reads.trips
    again = await lists_page(client, headers)
    assert reads.trips - before == 1  # the key's query, nothing else
    assert again.content == first.content
    return again


def names(page: httpx.Response) -> list[str]:
    return [item["name"] for item in page.json()["items"]]


class TestServedFromTheCache:
    async def test_the_second_request_is_one_round_trip(
        self, client: httpx.AsyncClient, acct: AccountKeys, reads: CountedReads
    ) -> None:
        await create(client, acct.live)
        before = reads.trips
        first = await lists_page(client, acct.live)
        assert reads.trips - before == 2  # the key's query, then the count and the rows
        again = await cached_page(client, acct.live, reads)
        assert again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]

    async def test_cached_bytes_are_the_uncached_bytes(
        self, client: httpx.AsyncClient, acct: AccountKeys, settings: Settings
    ) -> None:
        for number in range(3):
            await create(client, acct.live, name=f"List {number}")
        uncached = settings.model_copy(update={"page_cache_mb": 0})
        async with running_app(uncached) as other, asgi_client(other) as without_cache:
            for params in ({}, {"limit": 2}, {"limit": 2, "offset": 2}, {"offset": 5}):
                await lists_page(client, acct.live, **params)  # cached now
                cached = await lists_page(client, acct.live, **params)
                fresh = await lists_page(without_cache, acct.live, **params)
                assert cached.content == fresh.content, params
                assert cached.headers["etag"] == fresh.headers["etag"], params


class TestEveryChangeIsOnTheNextPage:
    async def test_create(
        self,
        client: httpx.AsyncClient,
        writer: httpx.AsyncClient,
        acct: AccountKeys,
        reads: CountedReads,
    ) -> None:
        await create(client, acct.live, name="First")
        await cached_page(client, acct.live, reads)
        await create(writer, acct.live, name="Second")
        page = await lists_page(client, acct.live)
        assert names(page) == ["Second", "First"]
        assert page.json()["total"] == 2

    async def test_refresh(
        self,
        client: httpx.AsyncClient,
        writer: httpx.AsyncClient,
        acct: AccountKeys,
        reads: CountedReads,
    ) -> None:
        source = await create(client, acct.live)
        await cached_page(client, acct.live, reads)
        refreshed = await writer.post(f"{LISTS}/{source['id']}/refresh", headers=acct.live)
        assert refreshed.status_code == 201, refreshed.text
        items = (await lists_page(client, acct.live)).json()["items"]
        assert [(item["id"], item["refreshedFrom"]) for item in items] == [
            (refreshed.json()["id"], source["id"]),
            (source["id"], None),
        ]

    async def test_rename(
        self,
        client: httpx.AsyncClient,
        writer: httpx.AsyncClient,
        acct: AccountKeys,
        reads: CountedReads,
    ) -> None:
        created = await create(client, acct.live, name="Before")
        await cached_page(client, acct.live, reads)
        renamed = await writer.put(
            f"{LISTS}/{created['id']}", json={"name": "After"}, headers=acct.live
        )
        assert renamed.status_code == 200, renamed.text
        items = (await lists_page(client, acct.live)).json()["items"]
        assert items == [renamed.json()]

    async def test_delete(
        self,
        client: httpx.AsyncClient,
        writer: httpx.AsyncClient,
        acct: AccountKeys,
        reads: CountedReads,
    ) -> None:
        kept = await create(client, acct.live, name="Kept")
        deleted = await create(client, acct.live, name="Deleted")
        await cached_page(client, acct.live, reads)
        gone = await writer.delete(f"{LISTS}/{deleted['id']}", headers=acct.live)
        assert gone.status_code == 204
        page = (await lists_page(client, acct.live)).json()
        assert ([item["id"] for item in page["items"]], page["total"]) == ([kept["id"]], 1)

    async def test_a_change_committed_while_a_page_is_read(
        self,
        client: httpx.AsyncClient,
        writer: httpx.AsyncClient,
        acct: AccountKeys,
        reads: CountedReads,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The page read before the change is cached under the version from before
        it, so the next request, which reads the change's version, never gets it."""
        await create(client, acct.live, name="First")
        read_lists_page = repository.read_lists_page
        raced: list[dict[str, Any]] = []

        async def then_a_create(*args: Any) -> Any:
            found = await read_lists_page(*args)
            if not raced:
                raced.append(await create(writer, acct.live, name="Second"))
            return found

        monkeypatch.setattr(repository, "read_lists_page", then_a_create)
        assert names(await lists_page(client, acct.live)) == ["First"]
        assert names(await lists_page(client, acct.live)) == ["Second", "First"]
        await cached_page(client, acct.live, reads)


class TestConcurrentWrites:
    async def test_rounds_of_writes_through_two_workers(
        self, client: httpx.AsyncClient, settings: Settings, make_account: MakeAccount
    ) -> None:
        """Creates (each reserving credits first), renames and deletes at once,
        through two workers, on lists that share their people: none deadlocks,
        and each write's bump commits with it, so both workers' next pages show
        every write."""
        headers = (await make_account(credits=10**6)).live
        async with running_app(settings) as other, asgi_client(other) as second:
            workers = (client, second)
            for round_ in range(6):
                shown = (await lists_page(client, headers, limit=100)).json()["items"]
                await lists_page(second, headers, limit=100)
                expected = {item["id"]: item["name"] for item in shown}
                writes: list[Coroutine[Any, Any, httpx.Response]] = []
                for n in range(6):
                    body = create_body(name=f"created {round_}-{n}")
                    writes.append(workers[n % 2].post(LISTS, json=body, headers=headers))
                    expected[f"new {n}"] = body["name"]
                for n, item in enumerate(shown[:2]):
                    writes.append(workers[n % 2].delete(f"{LISTS}/{item['id']}", headers=headers))
                    del expected[item["id"]]
                for n, item in enumerate(shown[2:4]):
                    renamed = {"name": f"renamed {round_}-{n}"}
                    url = f"{LISTS}/{item['id']}"
                    writes.append(workers[n % 2].put(url, json=renamed, headers=headers))
                    expected[item["id"]] = renamed["name"]
                answers = await asyncio.gather(*writes)
                statuses = [answer.status_code for answer in answers]
                assert statuses == [201] * 6 + [204] * len(shown[:2]) + [200] * len(shown[2:4])
                for worker in workers:
                    page = await lists_page(worker, headers, limit=100)
                    assert sorted(names(page)) == sorted(expected.values())


class TestIsolation:
    async def test_live_and_test_modes_never_share_a_page(
        self, client: httpx.AsyncClient, acct: AccountKeys, reads: CountedReads
    ) -> None:
        await create(client, acct.live, name="Live")
        await cached_page(client, acct.live, reads)
        # Same account, same version, other mode.
        assert (await lists_page(client, acct.test)).json()["items"] == []
        await create(client, acct.test, name="Test")
        assert names(await cached_page(client, acct.test, reads)) == ["Test"]
        assert names(await cached_page(client, acct.live, reads)) == ["Live"]

    async def test_two_accounts_never_share_a_page(
        self, client: httpx.AsyncClient, make_account: MakeAccount, reads: CountedReads
    ) -> None:
        # One list each: both accounts are at the same lists version.
        first, second = await make_account(), await make_account()
        await create(client, first.live, name="First's")
        await create(client, second.live, name="Second's")
        assert names(await cached_page(client, first.live, reads)) == ["First's"]
        assert names(await cached_page(client, second.live, reads)) == ["Second's"]


class TestConditionalRequests:
    async def test_304_on_a_matching_etag_until_the_page_changes(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        await create(client, acct.live, name="First")
        page = await lists_page(client, acct.live)
        etag = page.headers["etag"]
        assert etag.startswith('"')
        for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            matched = await client.get(LISTS, headers={**acct.live, "If-None-Match": header})
            assert matched.status_code == 304
            assert matched.content == b""
            assert matched.headers["etag"] == etag
        await create(client, acct.live, name="Second")
        changed = await client.get(LISTS, headers={**acct.live, "If-None-Match": etag})
        assert changed.status_code == 200
        assert names(changed) == ["Second", "First"]
        assert changed.headers["etag"] != etag

    async def test_each_page_has_its_own_etag(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        for number in range(3):
            await create(client, acct.live, name=f"List {number}")
        etags = {
            (await lists_page(client, acct.live, **params)).headers["etag"]
            for params in ({}, {"limit": 1}, {"limit": 1, "offset": 1}, {"offset": 1})
        }
        assert len(etags) == 4


class TestFailedWrites:
    async def test_a_failed_create_leaves_the_page_as_it_was(
        self, client: httpx.AsyncClient, acct: AccountKeys, make_account: MakeAccount
    ) -> None:
        # 5 credits less the first create's 2 pages cannot reserve the next one's 5.
        charged = await make_account(credits=5)
        failures = (
            (acct, create_body("sandbox-upstream-error"), 502, "UPSTREAM_ERROR"),
            (charged, create_body(), 402, "INSUFFICIENT_CREDITS"),
        )
        for account, body, status, error_code in failures:
            await create(client, account.live, name="Kept")
            before = await lists_page(client, account.live)
            failed = await client.post(LISTS, json=body, headers=account.live)
            assert_error(failed, status, error_code)
            after = await lists_page(client, account.live)
            assert after.content == before.content
            assert after.headers["etag"] == before.headers["etag"]

    async def test_a_create_whose_bump_fails_stores_nothing(
        self, client: httpx.AsyncClient, acct: AccountKeys, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The bump is in the create's transaction: a list is never stored without it."""
        await create(client, acct.live, name="Kept")
        before = await lists_page(client, acct.live)

        async def failing(*_: Any) -> None:
            raise RuntimeError("the bump failed")

        monkeypatch.setattr(repository, "bump_lists_version", failing)
        failed = await client.post(LISTS, json=create_body(name="Lost"), headers=acct.live)
        assert_error(failed, 500, "INTERNAL_ERROR")
        monkeypatch.undo()
        after = await lists_page(client, acct.live)
        assert after.content == before.content

    async def test_a_rename_or_delete_of_no_list_rolls_its_bump_back(
        self, client: httpx.AsyncClient, acct: AccountKeys, reads: CountedReads
    ) -> None:
        await create(client, acct.live)
        await cached_page(client, acct.live, reads)
        missing = f"{LISTS}/cl_missing"
        renamed = await client.put(missing, json={"name": "x"}, headers=acct.live)
        assert_error(renamed, 404, "LIST_NOT_FOUND")
        assert_error(await client.delete(missing, headers=acct.live), 404, "LIST_NOT_FOUND")
        before = reads.trips
        await lists_page(client, acct.live)
        assert reads.trips - before == 1  # still the cached page: the version did not move


class TestWithoutTheCache:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"page_cache_mb": 0})

    async def test_every_page_is_read_and_nothing_is_kept(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys, reads: CountedReads
    ) -> None:
        await create(client, acct.live, name="First")
        first = await lists_page(client, acct.live)
        before = reads.trips
        again = await lists_page(client, acct.live)
        assert reads.trips - before == 2
        assert again.content == first.content
        matched = await client.get(
            LISTS, headers={**acct.live, "If-None-Match": first.headers["etag"]}
        )
        assert matched.status_code == 304
        await create(client, acct.live, name="Second")
        assert names(await lists_page(client, acct.live)) == ["Second", "First"]
        assert len(app.state.page_cache) == 0
