"""What a hostile tenant with one ordinary key could do (issue 15), through HTTP."""

from __future__ import annotations

import gc
import tracemalloc
import urllib.parse

import httpx
import pytest

from tests.api.helpers import assert_error
from tests.conftest import AccountKeys

LISTS = "/v1/contacts/lists"


class TestTrailingSlash:
    @pytest.mark.parametrize("path", [f"{LISTS}/", f"{LISTS}/cl_x/", "/healthz/", "/v1/credits/"])
    async def test_is_the_404_envelope_never_a_redirect(
        self, client: httpx.AsyncClient, acct: AccountKeys, path: str
    ) -> None:
        response = await client.get(path, headers={**acct.live, "Host": "evil.example"})
        assert_error(response, 404, "ROUTE_NOT_FOUND")
        assert "location" not in response.headers


class TestQueryStringMemory:
    async def test_junk_parameters_are_not_kept(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        """300 distinct 65,000-character junk parameters once kept 19.5 MB."""
        for i in range(10):  # warm up whatever the first requests allocate for good
            await client.get(f"{LISTS}?limit=5&junk{i}=" + "x" * 65_000, headers=acct.live)
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for i in range(300):
                junk = f"{i:05d}" + "x" * 65_000
                response = await client.get(f"{LISTS}?limit=5&junk={junk}", headers=acct.live)
                assert response.status_code == 200
            urllib.parse.clear_cache()  # the client's own (bounded) cache of split URLs
            gc.collect()
            retained = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert retained < 2_000_000, f"{retained / 1e6:.1f} MB kept"
