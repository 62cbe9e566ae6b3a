"""The published API description: security, operation ids, error responses, schemas."""

from __future__ import annotations

import re
from typing import Any

import httpx

from contactlists.providers.countries import SUPPORTED_COUNTRY_CODES

OPERATIONS = {
    ("get", "/v1/contacts/lists"): "listContactLists",
    ("post", "/v1/contacts/lists"): "createContactList",
    ("get", "/v1/contacts/lists/{listId}"): "getContactList",
    ("put", "/v1/contacts/lists/{listId}"): "renameContactList",
    ("delete", "/v1/contacts/lists/{listId}"): "deleteContactList",
    ("get", "/v1/contacts/lists/{listId}/contacts"): "listContacts",
    ("get", "/v1/contacts/lists/{listId}/export"): "exportContacts",
    ("post", "/v1/contacts/lists/{listId}/refresh"): "refreshContactList",
    ("get", "/v1/contacts/lists/{listId}/changes"): "listContactChanges",
    ("get", "/v1/contacts/lists/{listId}/changes/export"): "exportContactChanges",
    ("get", "/v1/credits"): "getCredits",
    ("post", "/v1/contacts/search"): "searchContacts",
    ("get", "/v1/connectors"): "listConnectors",
}


async def _schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


async def test_operations_have_stable_ids_security_and_envelope_errors(
    client: httpx.AsyncClient,
) -> None:
    schema = await _schema(client)
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    for (method, path), operation_id in OPERATIONS.items():
        operation = schema["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["security"] == [{"ApiKeyAuth": []}]
        for status in ("401", "429", "500", "503"):
            assert status in operation["responses"]
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorEnvelope"
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    create = schema["paths"]["/v1/contacts/lists"]["post"]["responses"]
    assert {"400", "402", "413", "415", "422", "502", "503", "504"} <= set(create)
    assert "404" in schema["paths"]["/v1/contacts/lists/{listId}"]["get"]["responses"]


async def test_request_schemas_are_as_precise_as_validation(client: httpx.AsyncClient) -> None:
    schemas = (await _schema(client))["components"]["schemas"]
    filters = schemas["ListFilters"]
    assert filters["additionalProperties"] is False
    assert schemas["ListCreate"]["additionalProperties"] is False
    assert schemas["ListRename"]["additionalProperties"] is False
    urls = filters["properties"]["companyLinkedInUrls"]
    assert (urls["minItems"], urls["maxItems"]) == (1, 10)
    url_pattern = re.compile(urls["items"]["pattern"])
    assert url_pattern.match("https://uk.linkedin.com/company/stripe")
    assert not url_pattern.match("https://www.linkedin.com/in/someone")
    assert "?P<" not in urls["items"]["pattern"]  # ECMA-262 has no Python named groups
    country = re.compile(filters["properties"]["countries"]["anyOf"][0]["items"]["pattern"])
    assert all(
        country.match(code) and country.match(code.lower()) for code in SUPPORTED_COUNTRY_CODES
    )
    assert not country.match("ZZ")
    # Lengths count after trimming, so the pattern carries them, not minLength/maxLength.
    name = schemas["ListCreate"]["properties"]["name"]
    assert "maxLength" not in name
    name_pattern = re.compile(name["pattern"])
    assert name_pattern.match(" \u3000" + "n" * 200 + "\t")
    assert not name_pattern.match("n" * 201)
    assert not name_pattern.match(" \u2003 ")
    assert "anyOf" in filters  # MISSING_FILTER
    departments = filters["properties"]["departments"]["anyOf"][0]
    assert departments["maxItems"] == 26
    search = schemas["ContactSearch"]
    assert search["additionalProperties"] is False
    assert (search["properties"]["limit"]["minimum"], search["properties"]["limit"]["maximum"]) == (
        0,
        100,
    )
    page = schemas["ContactSearchPage"]["properties"]
    assert {"items", "total", "limit", "offset", "hasMore", "salesNavConnected"} == set(page)


async def test_paging_parameters_are_documented(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    for path, default in (("/v1/contacts/lists", 20), ("/v1/contacts/lists/{listId}/contacts", 25)):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert params["limit"]["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
            "default": default,
        }
        assert params["offset"]["schema"]["maximum"] == 2_147_483_647
