"""Issue 16: error messages that say what to do next; one serialisation of `filters`."""

from __future__ import annotations

import re

import httpx

from contactlists.client.models import ContactList
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


async def test_filters_read_the_same_in_create_get_and_list(
    client: httpx.AsyncClient, acct: AccountKeys
) -> None:
    created = await client.post(LISTS, json=create_body(countries=["GB"]), headers=acct.live)
    list_id = created.json()["id"]
    got = await client.get(f"{LISTS}/{list_id}", headers=acct.live)
    listed = await client.get(LISTS, headers=acct.live)
    filters = re.compile(r'"filters":(\{[^}]*\})')
    echoed = {filters.findall(r.text)[0] for r in (created, got, listed)}
    assert echoed == {
        '{"companyLinkedInUrls":["https://www.linkedin.com/company/sandbox-exact-30"],'
        '"countries":["GB"]}'
    }
    # The client mirrors the wire: no `"keywords": null` the API never sent.
    dumped = ContactList.model_validate(got.json()).model_dump(by_alias=True, mode="json")
    assert dumped["filters"] == got.json()["filters"]


async def test_openapi_lists_the_country_codes(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    codes = next(
        option["items"]["x-enum"]
        for model in schema.values()
        for prop in model.get("properties", {}).values()
        for option in prop.get("anyOf", [])
        if "x-enum" in option.get("items", {})
    )
    assert "GB" in codes
    assert "UK" not in codes
    assert codes == sorted(codes)
