"""PostgreSQL's key lookups gathered into one round trip (`PostgresReadStore.one_current`).

The lookups that arrive in one turn of the event loop share a statement; each
must still get exactly the row it would have read alone, read after it arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import sqlalchemy as sa

from contactlists.core.auth import KEY_QUERY, hash_key
from contactlists.core.db import Database
from contactlists.core.pgpool import ConnectionPool
from contactlists.core.readstore import PostgresReadStore, Query
from contactlists.core.settings import Settings
from contactlists.lists.repository import LIST_PROBE
from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, MakeAccount, postgresql_only

pytestmark = postgresql_only
LISTS = "/v1/contacts/lists"


class CountingPool(ConnectionPool):
    """The store's pool, counting its round trips."""

    def __init__(self, inner: ConnectionPool) -> None:
        self.__dict__.update(inner.__dict__)
        self.round_trips = 0

    async def run(self, use: Callable[[Any], Awaitable[Any]]) -> Any:
        self.round_trips += 1
        return await super().run(use)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[PostgresReadStore]:
    dsn = settings.database_url.replace("postgresql+asyncpg", "postgresql")
    opened = await PostgresReadStore.connect(dsn, settings)
    opened._pool = CountingPool(opened._pool)
    yield opened
    await opened.close()


def round_trips(store: PostgresReadStore) -> int:
    pool = store._pool
    assert isinstance(pool, CountingPool)
    return pool.round_trips


def comparable(row: Any) -> tuple[Any, ...] | None:
    """A row's values, with JSON fragments (which compare by identity) as their text."""
    if row is None:
        return None
    return tuple(orjson.dumps(v) if isinstance(v, orjson.Fragment) else v for v in row)


async def revoke(database: Database, key: str) -> None:
    async with database.transaction(write=True) as conn:
        await conn.execute(
            sa.text("UPDATE api_keys SET revoked_at = now() WHERE key_hash = :hash"),
            {"hash": hash_key(key)},
        )


async def test_lookups_of_one_turn_share_a_round_trip_and_each_gets_its_own_row(
    store: PostgresReadStore,
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    database: Database,
) -> None:
    first, second = await make_account(), await make_account()
    mine = (
        await client.post(LISTS, json=create_body("sandbox-exact-3"), headers=first.live)
    ).json()
    theirs = (
        await client.post(LISTS, json=create_body("sandbox-exact-3"), headers=second.live)
    ).json()
    await revoke(database, second.test_key)
    lookups: list[tuple[Query, dict[str, str]]] = [
        (LIST_PROBE.query, {"key_hash": hash_key(first.live_key), "probe_id": mine["id"]}),
        (LIST_PROBE.query, {"key_hash": hash_key(first.live_key), "probe_id": theirs["id"]}),
        (LIST_PROBE.query, {"key_hash": hash_key(second.live_key), "probe_id": theirs["id"]}),
        (LIST_PROBE.query, {"key_hash": hash_key("sk_live_unknown"), "probe_id": mine["id"]}),
        (KEY_QUERY, {"key_hash": hash_key(second.test_key)}),
        (KEY_QUERY, {"key_hash": hash_key(first.test_key)}),
    ]
    alone = [await store.one(query, params) for query, params in lookups]
    before = round_trips(store)
    gathered = await asyncio.gather(
        *(store.one_current(query, params) for query, params in lookups)
    )
    assert round_trips(store) - before == 2  # one per query
    assert [comparable(row) for row in gathered] == [comparable(row) for row in alone]
    own, foreign, theirs_row, unknown, revoked, live = [
        None if row is None else tuple(row) for row in gathered
    ]
    assert (own or ())[7:8] == (mine["id"],)
    assert (foreign or ())[7:8] == (None,)  # another account's list: not found
    assert (theirs_row or ())[7:8] == (theirs["id"],)
    assert unknown is None
    assert revoked is not None
    assert revoked[3] is not None
    assert (live or ())[3:4] == (None,)


async def test_a_lookup_alone_in_its_turn_reads_the_plain_query(
    store: PostgresReadStore, acct: AccountKeys
) -> None:
    before = round_trips(store)
    row = await store.one_current(KEY_QUERY, {"key_hash": hash_key(acct.live_key)})
    assert row is not None
    assert round_trips(store) - before == 1


async def test_a_failed_round_trip_fails_every_lookup_of_the_turn_and_the_next_turn_reads(
    store: PostgresReadStore, acct: AccountKeys
) -> None:
    params = {"key_hash": hash_key(acct.live_key)}
    pool = store._pool
    connect = pool._connect

    async def refused() -> Any:
        raise ConnectionRefusedError("the server went away")

    pool._connect = refused
    results = await asyncio.gather(
        *(store.one_current(KEY_QUERY, params) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, ConnectionRefusedError) for result in results)
    pool._connect = connect
    assert await store.one_current(KEY_QUERY, params) is not None


async def test_a_value_the_database_refuses_fails_only_its_own_lookup(
    store: PostgresReadStore, acct: AccountKeys
) -> None:
    good = {"key_hash": hash_key(acct.live_key)}
    refused = {"key_hash": "nul\x00in a parameter"}  # PostgreSQL refuses NUL in text
    results = await asyncio.gather(
        store.one_current(KEY_QUERY, good),
        store.one_current(KEY_QUERY, refused),
        store.one_current(KEY_QUERY, good),
        return_exceptions=True,
    )
    assert isinstance(results[1], asyncpg.DataError)
    assert results[0] is not None
    assert not isinstance(results[0], BaseException)
    assert results[2] is not None
    assert not isinstance(results[2], BaseException)


async def test_a_cancelled_lookup_leaves_the_others_of_its_turn_alone(
    store: PostgresReadStore, acct: AccountKeys
) -> None:
    params = {"key_hash": hash_key(acct.live_key)}
    lookups = [asyncio.ensure_future(store.one_current(KEY_QUERY, params)) for _ in range(3)]
    await asyncio.sleep(0)  # every lookup has joined the turn's batch
    lookups[1].cancel()
    results = await asyncio.gather(*lookups, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert results[0] is not None
    assert results[2] is not None


async def test_concurrent_requests_of_two_accounts_each_see_their_own(
    client: httpx.AsyncClient, make_account: MakeAccount, database: Database
) -> None:
    first, second = await make_account(), await make_account()
    created = {}
    for account in (first, second):
        response = await client.post(
            LISTS, json=create_body("sandbox-exact-3"), headers=account.live
        )
        created[account.id] = response.json()["id"]
    await revoke(database, second.test_key)
    requests = [
        (first, first.live, created[first.id], 200),
        (second, second.live, created[second.id], 200),
        (first, first.live, created[second.id], 404),
        (second, second.test, created[second.id], 401),
    ] * 5
    responses = await asyncio.gather(
        *(client.get(f"{LISTS}/{list_id}", headers=headers) for _, headers, list_id, _ in requests)
    )
    for (_, _, list_id, status), response in zip(requests, responses, strict=True):
        if status == 200:
            assert response.status_code == 200
            assert response.json()["id"] == list_id
        elif status == 404:
            assert_error(response, 404, "LIST_NOT_FOUND")
        else:
            assert_error(response, 401, "REVOKED_API_KEY")
