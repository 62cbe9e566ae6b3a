"""`POST /v1/contacts/search`: the preview, through HTTP, against the sandbox."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, company
from tests.conftest import AccountKeys, MakeAccount

SEARCH = "/v1/contacts/search"
INTEGRATION = "/v1/integrations/sales-navigator"
ITEM_KEYS = {
    "firstName", "lastName", "fullName", "headline", "role", "companyName", "location",
    "seniority", "linkedInProfileUrl", "linkedInSalesNavigatorProfileUrl",
}  # fmt: skip


def go_client_body(**fields: Any) -> dict[str, Any]:
    """As the original's Go client sends it: `limit` and `offset` 0 when not given."""
    return {"companyLinkedInUrls": [company("netflix")], "limit": 0, "offset": 0, **fields}


async def credits_left(client: httpx.AsyncClient, account: AccountKeys) -> int:
    response = await client.get("/v1/credits", headers=account.live)
    remaining: int = response.json()["remainingCredits"]
    return remaining


class TestSearch:
    async def test_the_original_clients_request(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        response = await client.post(SEARCH, json=go_client_body(), headers=acct.test)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "total", "limit", "offset", "hasMore", "salesNavConnected"}
        assert page["limit"] == 25
        assert page["offset"] == 0
        assert page["salesNavConnected"] is True
        assert page["total"] > 25
        assert page["hasMore"] is True
        assert len(page["items"]) == 25
        assert set(page["items"][0]) == ITEM_KEYS
        assert page["items"][0]["companyName"] == "Netflix"
        assert page["items"][0]["linkedInSalesNavigatorProfileUrl"].startswith(
            "https://www.linkedin.com/sales/lead/ACwAA"
        )

    async def test_a_window_is_the_same_people_as_a_larger_one(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        whole = await client.post(SEARCH, json=go_client_body(limit=100), headers=acct.test)
        window = await client.post(
            SEARCH, json=go_client_body(limit=30, offset=10), headers=acct.test
        )
        assert window.json()["items"] == whole.json()["items"][10:40]
        assert window.json()["total"] == whole.json()["total"]

    async def test_past_the_end(self, client: httpx.AsyncClient, acct: AccountKeys) -> None:
        body = go_client_body(offset=2400, limit=100)
        page = (await client.post(SEARCH, json=body, headers=acct.test)).json()
        assert page["items"] == []
        assert page["hasMore"] is False

    async def test_filters_without_a_company(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = {"firstName": "Ada", "seniorityLevels": ["vp"]}
        response = await client.post(SEARCH, json=body, headers=acct.test)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []

    async def test_first_and_last_name_match(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        everyone = await client.post(SEARCH, json=go_client_body(limit=100), headers=acct.test)
        person = next(p for p in everyone.json()["items"][3:] if p["lastName"])
        body = go_client_body(firstName=person["firstName"].upper(), lastName=person["lastName"])
        found = (await client.post(SEARCH, json=body, headers=acct.test)).json()
        # The lead link's token is per search, as LinkedIn's is; the profile id is not.
        profile = person["linkedInSalesNavigatorProfileUrl"].split(",")[0]
        assert profile in [
            i["linkedInSalesNavigatorProfileUrl"].split(",")[0] for i in found["items"]
        ]
        assert all(i["fullName"] == person["fullName"] for i in found["items"])


class TestValidation:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"limit": 101}, "limit"),
            ({"limit": -1}, "limit"),
            ({"offset": -1}, "offset"),
            ({"offset": 2476}, "offset"),
            ({"offset": 2401, "limit": 100}, "offset"),
            ({"departments": ["Engineering Ops"]}, "departments[0]"),
            ({"companyLinkedInUrls": ["https://example.com/x"]}, "companyLinkedInUrls[0]"),
        ],
    )
    async def test_bad_fields(
        self, client: httpx.AsyncClient, acct: AccountKeys, body: dict[str, Any], field: str
    ) -> None:
        response = await client.post(SEARCH, json=go_client_body(**body), headers=acct.test)
        error = assert_error(response, 400, response.json()["error"]["errorCode"], field=field)
        assert error["errorCode"] in {"INVALID_FIELD", "INVALID_COMPANY_URL"}

    async def test_the_last_window_is_allowed(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        for body in ({"offset": 2475}, {"offset": 2400, "limit": 100}):
            response = await client.post(SEARCH, json=go_client_body(**body), headers=acct.test)
            assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"limit": 10, "offset": 0},
            {"companyLinkedInUrls": [], "jobTitles": [], "keywords": " "},
        ],
    )
    async def test_a_filter_is_required(
        self, client: httpx.AsyncClient, acct: AccountKeys, body: dict[str, Any]
    ) -> None:
        response = await client.post(SEARCH, json=body, headers=acct.test)
        error = assert_error(response, 400, "MISSING_FILTER")
        assert error["message"] == "At least one search filter is required"

    async def test_unknown_fields(self, client: httpx.AsyncClient, acct: AccountKeys) -> None:
        response = await client.post(SEARCH, json=go_client_body(name="x"), headers=acct.test)
        assert_error(response, 400, "UNKNOWN_FIELD", field="name")


class TestConnection:
    async def test_not_connected_is_an_empty_200(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(credits=10, connect=False)
        response = await client.post(SEARCH, json=go_client_body(), headers=account.live)
        assert response.status_code == 200
        assert response.json() == {
            "items": [], "total": 0, "limit": 25, "offset": 0, "hasMore": False,
            "salesNavConnected": False,
        }  # fmt: skip
        assert await credits_left(client, account) == 10

    async def test_expired_is_422(self, client: httpx.AsyncClient, acct: AccountKeys) -> None:
        body = go_client_body(companyLinkedInUrls=[company("sandbox-session-expired")])
        response = await client.post(SEARCH, json=body, headers=acct.live)
        assert_error(response, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        again = await client.post(SEARCH, json=go_client_body(), headers=acct.live)
        assert_error(again, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")

    async def test_unknown_company_names_its_field(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        urls = [company("netflix"), company("sandbox-unknown-company")]
        body = go_client_body(companyLinkedInUrls=urls)
        response = await client.post(SEARCH, json=body, headers=acct.test)
        assert_error(response, 400, "UNKNOWN_COMPANY", field="companyLinkedInUrls[1]")


class TestCharge:
    async def test_each_page_with_leads_costs_a_credit(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(credits=100)
        body = go_client_body(limit=50, offset=10)  # pages 1-3 of 25
        response = await client.post(SEARCH, json=body, headers=account.live)
        assert response.status_code == 200, response.text
        assert await credits_left(client, account) == 97
        one_page = await client.post(SEARCH, json=go_client_body(), headers=account.live)
        assert one_page.status_code == 200
        assert await credits_left(client, account) == 96

    async def test_an_empty_search_is_free(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(credits=100)
        body = go_client_body(companyLinkedInUrls=[company("sandbox-exact-0")], limit=100)
        page = (await client.post(SEARCH, json=body, headers=account.live)).json()
        assert page["total"] == 0
        assert await credits_left(client, account) == 100

    async def test_test_keys_are_free(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(credits=100)
        response = await client.post(SEARCH, json=go_client_body(limit=100), headers=account.test)
        assert response.status_code == 200
        assert await credits_left(client, account) == 100

    async def test_the_pages_it_may_cost_are_reserved(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(credits=3)
        response = await client.post(SEARCH, json=go_client_body(limit=100), headers=account.live)
        error = assert_error(response, 402, "INSUFFICIENT_CREDITS")
        assert error["details"]["requiredCredits"] == 4
        assert await credits_left(client, account) == 3

    async def test_a_failure_on_the_second_page_charges_nothing(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(credits=100)
        failing = company("sandbox-upstream-error-page-2")
        body = go_client_body(companyLinkedInUrls=[failing], limit=50)
        response = await client.post(SEARCH, json=body, headers=account.live)
        assert_error(response, 502, "UPSTREAM_ERROR")
        assert await credits_left(client, account) == 100
        available = await client.post(SEARCH, json=go_client_body(limit=100), headers=account.live)
        assert available.status_code == 200  # the reservation was released, not left held


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"search_rate_limit": "3/minute"})


async def test_its_own_rate_budget(client: httpx.AsyncClient, acct: AccountKeys) -> None:
    for _ in range(3):
        response = await client.post(SEARCH, json=go_client_body(), headers=acct.test)
        assert response.status_code == 200
    limited = await client.post(SEARCH, json=go_client_body(), headers=acct.test)
    assert_error(limited, 429, "RATE_LIMITED")
    lists = await client.get("/v1/contacts/lists", headers=acct.test)
    assert lists.status_code == 200
