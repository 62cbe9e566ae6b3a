"""A guard on the hot path that cannot flake: what a cached contacts page and a
cached lists page cost, counted rather than timed.

One request through the app in this process (plain ASGI, as uvicorn calls it)
is counted with `sys.setprofile`: the Python function calls it makes and the
statements it sends to SQLite. Both are deterministic for a given code base, so
a change that adds a query, a layer or a per-row loop to the hot path fails
here on any machine, however busy; `make bench` says what it costs in time.
The pins carry a margin for small, deliberate changes: raise them in the same
commit as the change that needs it, and say why.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

import httpx
import pytest
from bench.profile import Caller
from fastapi import FastAPI

from contactlists.core.settings import Settings
from tests.api.helpers import create_body
from tests.conftest import AccountKeys

# Measured on 2026-11-27 (limit 25): a cached page made no statement (on
# SQLite the key's row and the path's list are kept until the WAL index's
# header says something was committed; before that, `PRAGMA data_version` was
# asked each time, 1 statement) and 74 Python calls (117 before the direct
# routes moved in front of the framework's stack); an uncached one 1 statement
# and 89 calls (233 before, 185 before the wire mapping was written out per
# page). The margin is about 12%: a new per-row call (25 more) fails.
CACHED_PAGE_QUERIES = 0
CACHED_PAGE_CALLS = 80
UNCACHED_PAGE_QUERIES = 1
UNCACHED_PAGE_CALLS = 98
# Measured on 2026-11-27 (limit 20): a cached lists page made no statement (the
# key's row, with the account's lists version, kept as above) and 67 calls; the
# same margin.
CACHED_LISTS_PAGE_QUERIES = 0
CACHED_LISTS_PAGE_CALLS = 73

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@dataclass
class Count:
    calls: int = 0
    queries: int = 0


@contextmanager
def counting() -> Iterator[Count]:
    count = Count()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            count.calls += 1
        elif event == "c_call" and getattr(arg, "__name__", "") in ("execute", "executemany"):
            module = (
                getattr(arg, "__module__", None) or type(getattr(arg, "__self__", None)).__module__
            )
            if "sqlite3" in str(module):
                count.queries += 1

    sys.setprofile(profile)
    try:
        yield count
    finally:
        sys.setprofile(None)


async def _counted(app: FastAPI, key: str, path: str) -> Count:
    call = Caller(app, key)
    for _ in range(3):  # warm: imports, caches, the page cache itself
        status, _ = await call("GET", path)
        assert status == 200
    with counting() as count:
        status, _ = await call("GET", path)
    assert status == 200
    return count


async def test_a_cached_contacts_page(
    app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
) -> None:
    created = await client.post("/v1/contacts/lists", json=create_body(), headers=acct.test)
    path = f"/v1/contacts/lists/{created.json()['id']}/contacts?limit=25"
    count = await _counted(app, acct.test_key, path)
    assert count.queries == CACHED_PAGE_QUERIES, count
    assert count.calls <= CACHED_PAGE_CALLS, count


async def test_a_cached_lists_page(
    app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
) -> None:
    await client.post("/v1/contacts/lists", json=create_body(), headers=acct.test)
    count = await _counted(app, acct.test_key, "/v1/contacts/lists?limit=20")
    assert count.queries == CACHED_LISTS_PAGE_QUERIES, count
    assert count.calls <= CACHED_LISTS_PAGE_CALLS, count


class TestWithoutThePageCache:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"page_cache_mb": 0})

    async def test_an_uncached_contacts_page(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await client.post("/v1/contacts/lists", json=create_body(), headers=acct.test)
        path = f"/v1/contacts/lists/{created.json()['id']}/contacts?limit=25"
        count = await _counted(app, acct.test_key, path)
        assert count.queries == UNCACHED_PAGE_QUERIES, count
        assert count.calls <= UNCACHED_PAGE_CALLS, count
