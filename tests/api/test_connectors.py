"""`GET /v1/connectors`: the original's connector list, from the account's connection."""

from __future__ import annotations

import httpx

from tests.api.helpers import create_body
from tests.conftest import AccountKeys, MakeAccount

CONNECTORS = "/v1/connectors"
INTEGRATION = "/v1/integrations/sales-navigator"


def status(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"connectors"}
    [connector] = body["connectors"]
    assert set(connector) == {"source", "status"}
    assert connector["source"] == "salesNavigator"
    value: str = connector["status"]
    return value


class TestConnectors:
    async def test_follows_the_connection(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(connect=False)
        assert status(await client.get(CONNECTORS, headers=account.live)) == "disconnected"
        put = await client.put(INTEGRATION, json={"provider": "sandbox"}, headers=account.live)
        assert put.status_code == 200
        assert status(await client.get(CONNECTORS, headers=account.live)) == "connected"
        expiring = create_body("sandbox-session-expired")
        await client.post("/v1/contacts/lists", json=expiring, headers=account.live)
        got = await client.get(CONNECTORS, headers=account.live)
        assert status(got) == "needs-authentication"
        await client.delete(INTEGRATION, headers=account.live)
        assert status(await client.get(CONNECTORS, headers=account.live)) == "disconnected"

    async def test_a_test_key_is_always_connected(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(connect=False)
        assert status(await client.get(CONNECTORS, headers=account.test)) == "connected"

    async def test_needs_a_key(self, client: httpx.AsyncClient, acct: AccountKeys) -> None:
        assert (await client.get(CONNECTORS)).status_code == 401
