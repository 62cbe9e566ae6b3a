"""What a hostile tenant with one ordinary key could do (issue 15), through HTTP."""

from __future__ import annotations

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
