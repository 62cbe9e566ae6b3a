"""NUL characters, which PostgreSQL cannot store or even compare, never become a 500.

In a request's text they are a 400 like any control character; in a path they
name no list (404), on both backends alike. Nothing is written either way.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.helpers import assert_error, company, create_body
from tests.conftest import AccountKeys, Snapshot

LISTS = "/v1/contacts/lists"
INTEGRATION = "/v1/integrations/sales-navigator"


def _create_with(**changes: Any) -> dict[str, Any]:
    body = create_body()
    filters = {**body["filters"], **changes.pop("filters", {})}
    return {**body, **changes, "filters": filters}


@pytest.mark.parametrize(
    ("body", "error_code", "field"),
    [
        (_create_with(name="Leads\x00"), "INVALID_FIELD", "name"),
        (_create_with(name="\x00"), "INVALID_FIELD", "name"),
        (_create_with(filters={"jobTitles": ["Eng\x00ineer"]}), "INVALID_FIELD", None),
        (_create_with(filters={"keywords": "data\x00"}), "INVALID_FIELD", "filters.keywords"),
        (_create_with(filters={"countries": ["US\x00"]}), "UNSUPPORTED_COUNTRY", None),
        (
            _create_with(filters={"companyLinkedInUrls": [company("stripe") + "/\x00"]}),
            "INVALID_COMPANY_URL",
            None,
        ),
        (
            _create_with(filters={"companyLinkedInUrls": [company("str\x00ipe")]}),
            "INVALID_COMPANY_URL",
            None,
        ),
        ({**create_body(), "na\x00me": "x"}, "UNKNOWN_FIELD", None),
    ],
)
async def test_in_a_create_is_a_400_and_nothing_is_written(
    client: httpx.AsyncClient,
    acct: AccountKeys,
    snapshot: Snapshot,
    body: dict[str, Any],
    error_code: str,
    field: str | None,
) -> None:
    before = await snapshot()
    response = await client.post(LISTS, json=body, headers=acct.live)
    assert_error(response, 400, error_code, field=field)
    assert await snapshot() == before


async def test_in_a_rename_or_a_connection_is_a_400(
    client: httpx.AsyncClient, acct: AccountKeys, snapshot: Snapshot
) -> None:
    created = await client.post(LISTS, json=create_body("sandbox-exact-3"), headers=acct.live)
    before = await snapshot()
    renamed = await client.put(
        f"{LISTS}/{created.json()['id']}", json={"name": "x\x00"}, headers=acct.live
    )
    assert_error(renamed, 400, "INVALID_FIELD", field="name")
    for body in (
        {"provider": "linkedin", "liAt": "AQED\x00", "jsessionId": "ajax:1"},
        {"provider": "linkedin", "liAt": "AQED", "jsessionId": "ajax:\x001"},
        {"provider": "sand\x00box"},
    ):
        response = await client.put(INTEGRATION, json=body, headers=acct.live)
        assert_error(response, 400, "INVALID_FIELD")
    assert await snapshot() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("list_id", ["cl_%00", "%00", "cl_abc%00def"])
async def test_in_a_list_id_names_no_list(
    client: httpx.AsyncClient, acct: AccountKeys, method: str, list_id: str
) -> None:
    body = {"name": "renamed"} if method == "PUT" else None
    response = await client.request(method, f"{LISTS}/{list_id}", json=body, headers=acct.live)
    assert_error(response, 404, "LIST_NOT_FOUND")


@pytest.mark.parametrize("suffix", ["contacts", "contacts?limit=5&offset=5", "export"])
async def test_in_a_list_id_of_a_page_or_export_names_no_list(
    client: httpx.AsyncClient, acct: AccountKeys, suffix: str
) -> None:
    response = await client.get(f"{LISTS}/cl_%00/{suffix}", headers=acct.live)
    assert_error(response, 404, "LIST_NOT_FOUND")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("limit=%00", "limit"), ("offset=1%00", "offset"), ("format=csv%00", "format")],
)
async def test_in_a_query_parameter_is_a_400(
    client: httpx.AsyncClient, acct: AccountKeys, query: str, parameter: str
) -> None:
    created = await client.post(LISTS, json=create_body("sandbox-exact-3"), headers=acct.live)
    path = f"{LISTS}/{created.json()['id']}/export" if parameter == "format" else LISTS
    response = await client.get(f"{path}?{query}", headers=acct.live)
    assert_error(response, 400, "INVALID_QUERY_PARAMETER", field=parameter)
