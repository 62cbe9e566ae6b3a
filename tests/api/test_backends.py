"""SQLite and PostgreSQL answer alike: the same requests, the same bytes back."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from contactlists.core.db import Database
from contactlists.core.models import BaseContact
from contactlists.lists import create as lists_create
from contactlists.lists import service as lists_service
from tests.api.helpers import company, create_body
from tests.conftest import (
    AccountKeys,
    PostgresDatabase,
    account_maker,
    asgi_client,
    make_settings,
    running_app,
    sqlite_copy,
)

LISTS = "/v1/contacts/lists"
T0 = datetime(2026, 11, 26, 12, 0, 0, 123456, tzinfo=UTC)
# A scrambled key order and unnormalised values: the echo must be the contract's.
FULL_FILTERS = {
    "countries": ["gb", "US", "gb"],
    "keywords": "  platform  ",
    "jobTitles": [" Engineering Manager ", "VP Engineering"],
    "companyLinkedInUrls": [company("sandbox-exact-30"), "linkedin.com/company/stripe/"],
}


@dataclass(frozen=True)
class Exchange:
    request: str
    status: int
    location: str | None
    body: bytes


class Script:
    """A fixed clock and fixed ids for the lists service, so that both backends see
    the same values, ties in `created_at` included, and must order them alike."""

    def __init__(self, client: httpx.AsyncClient, keys: AccountKeys) -> None:
        self.client = client
        self.keys = keys
        self.now = T0
        self.issued = 0
        self.exchanges: list[Exchange] = []
        self.final_page: list[dict[str, Any]] = []

    def new_id(self, prefix: str) -> str:
        self.issued += 1
        digest = hashlib.sha256(f"{prefix}-{self.issued}".encode()).digest()[:16]
        return f"{prefix}_{base64.b32encode(digest).decode().rstrip('=').lower()}"

    def utcnow(self) -> datetime:
        return self.now

    async def call(
        self, method: str, url: str, *, json: Any = None, test_mode: bool = False, **params: Any
    ) -> dict[str, Any]:
        headers = {
            **(self.keys.test if test_mode else self.keys.live),
            "X-Request-Id": f"step-{len(self.exchanges)}",
        }
        response = await self.client.request(
            method, url, json=json, params=params or None, headers=headers
        )
        self.exchanges.append(
            Exchange(
                f"{method} {url} {params}",
                response.status_code,
                response.headers.get("location"),
                response.content,
            )
        )
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    async def create(self, body: dict[str, Any], *, test_mode: bool = False) -> str:
        created = await self.call("POST", LISTS, json=body, test_mode=test_mode)
        list_id: str = created["id"]
        return list_id

    async def run(self) -> None:
        full = await self.create({"name": "Full filters", "filters": FULL_FILTERS})
        self.now += timedelta(seconds=1)
        tied = [
            await self.create(create_body("sandbox-exact-5", name="tie a")),
            await self.create(create_body("sandbox-duplicates", name="tie b")),
            await self.create(create_body("sandbox-exact-0", name="tie c")),
            await self.create(create_body("sandbox-exact-5", name="tie d", countries=["FR"])),
        ]
        self.now += timedelta(microseconds=1)
        big = await self.create(create_body("sandbox-exact-200", name="Capped at 125"))
        await self.create(create_body("sandbox-exact-3", name="test mode"), test_mode=True)

        for offset in (0, 2, 4, 6):
            await self.call("GET", LISTS, limit=2, offset=offset)
        await self.call("GET", LISTS, limit=100)
        await self.call("GET", LISTS, test_mode=True)
        for list_id in (full, *tied, big):
            await self.call("GET", f"{LISTS}/{list_id}")
        for limit, offset in ((100, 0), (25, 100), (7, 120), (25, 2147483647)):
            await self.call("GET", f"{LISTS}/{big}/contacts", limit=limit, offset=offset)
        await self.call("GET", f"{LISTS}/{full}/contacts")
        await self.call("GET", f"{LISTS}/{tied[1]}/contacts", limit=50)

        self.now += timedelta(minutes=5)
        await self.call("PUT", f"{LISTS}/{tied[0]}", json={"name": "renamed"})
        await self.call("DELETE", f"{LISTS}/{tied[1]}")
        await self.call("GET", f"{LISTS}/{tied[1]}")
        await self.call("DELETE", f"{LISTS}/{tied[1]}")
        self.final_page = (await self.call("GET", LISTS, limit=100))["items"]
        await self.call("GET", "/v1/credits")


async def _run_script(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Script:
    async with running_app(make_settings(database_url)) as app, asgi_client(app) as client:
        database: Database = app.state.database
        keys = await account_maker(database)(name="backends")
        script = Script(client, keys)
        with monkeypatch.context() as patch:
            patch.setattr(lists_create, "new_id", script.new_id)
            patch.setattr(lists_create, "utcnow", script.utcnow)
            patch.setattr(lists_service, "utcnow", script.utcnow)
            await script.run()
    return script


async def test_the_same_script_answers_byte_for_byte_alike(
    migrated_template: Path,
    postgres: PostgresDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on_sqlite = await _run_script(sqlite_copy(migrated_template, tmp_path), monkeypatch)
    await postgres.reset()
    on_postgresql = await _run_script(postgres.url, monkeypatch)

    assert len(on_postgresql.exchanges) == len(on_sqlite.exchanges)
    for sqlite_exchange, postgresql_exchange in zip(
        on_sqlite.exchanges, on_postgresql.exchanges, strict=True
    ):
        assert postgresql_exchange == sqlite_exchange

    # The order both agree on is the contract's: newest first, and the lists
    # created in the same microsecond by id, compared byte-wise, descending.
    final = on_sqlite.final_page
    assert [item["name"] for item in final][:1] == ["Capped at 125"]
    tied = [item["id"] for item in final if item["name"] in ("renamed", "tie c", "tie d")]
    assert tied == sorted(tied, reverse=True)
    assert [item["id"] for item in final[1:4]] == tied
    assert final[-1]["name"] == "Full filters"
    echoed = list(final[-1]["filters"])
    assert echoed == ["companyLinkedInUrls", "jobTitles", "keywords", "countries"]


class TestConcurrentWrites:
    async def test_creates_sharing_people_in_other_orders_all_succeed(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: Database
    ) -> None:
        """Upserts lock people in one order, so crossing creates cannot deadlock."""
        forward = [company("sandbox-exact-20"), company("sandbox-exact-21")]
        bodies = [
            {"name": f"n{i}", "filters": {"companyLinkedInUrls": urls, "jobTitles": ["Engineer"]}}
            for i, urls in enumerate([forward, forward[::-1]] * 3)
        ]
        # The people exist already, so every create updates (and locks) their rows.
        first = await client.post(LISTS, json=bodies[0], headers=acct.live)
        assert first.status_code == 201
        responses = await asyncio.gather(
            *(client.post(LISTS, json=body, headers=acct.live) for body in bodies)
        )
        assert [r.status_code for r in responses] == [201] * len(bodies), [
            r.text for r in responses if r.status_code != 201
        ]
        assert {r.json()["contactCount"] for r in responses} == {41}
        async with database.transaction() as conn:
            people = await conn.scalar(sa.select(sa.func.count()).select_from(BaseContact))
        assert people == 41
