"""Issue 16: error messages that say what to do next."""

from __future__ import annotations

import httpx

from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, MakeAccount

LISTS = "/v1/contacts/lists"


async def test_uk_says_use_gb(client: httpx.AsyncClient, acct: AccountKeys) -> None:
    response = await client.post(LISTS, json=create_body(countries=["UK"]), headers=acct.live)
    error = assert_error(response, 400, "UNSUPPORTED_COUNTRY", field="filters.countries[0]")
    assert "use GB" in error["fields"][0]["message"]


async def test_415_says_which_content_type_to_send(
    client: httpx.AsyncClient, acct: AccountKeys
) -> None:
    response = await client.post(
        LISTS,
        content=b"name=x",
        headers={**acct.live, "Content-Type": "application/x-www-form-urlencoded"},
    )
    error = assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "Content-Type: application/json" in error["message"]


async def test_not_connected_says_how_to_connect(
    client: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    account = await make_account(connect=False)
    response = await client.post(LISTS, json=create_body(), headers=account.live)
    error = assert_error(response, 422, "SALES_NAVIGATOR_NOT_CONNECTED")
    assert "PUT /v1/integrations/sales-navigator" in error["message"]
    assert "contactlists connect linkedin" in error["message"]
