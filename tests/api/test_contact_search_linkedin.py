"""`POST /v1/contacts/search` on a LinkedIn seat, against the fake Sales Navigator:
the pages it fetches, what it charges, the page budget and the seat lock."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from contactlists.core.db import Database
from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, company
from tests.api.sales_navigator import INTEGRATION, against_fake

# The seat fixture: a limited account (100 credits) connected to the fake, which
# knows `stripe` (130 engineering managers in the US).
from tests.api.test_linkedin_search import (
    STRIPE_ID,
    body,
    pages_used,
    remaining_credits,
    seat,  # noqa: F401 (fixture)
)
from tests.conftest import AccountKeys
from tests.fakes.linkedin_server import FakeLinkedIn

SEARCH = "/v1/contacts/search"
LISTS = "/v1/contacts/lists"


@pytest.fixture
def settings(settings: Settings, fake_linkedin: FakeLinkedIn) -> Settings:
    return against_fake(settings, fake_linkedin)


def search_body(**fields: object) -> dict[str, object]:
    return {"companyLinkedInUrls": [company("stripe")], "limit": 0, "offset": 0, **fields}


class TestSearch:
    async def test_fetches_the_pages_covering_the_window(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,  # noqa: F811
        fake_linkedin: FakeLinkedIn,
        database: Database,
    ) -> None:
        response = await client.post(
            SEARCH, json=search_body(limit=30, offset=40), headers=seat.live
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == 130
        assert page["salesNavConnected"] is True
        assert page["hasMore"] is True
        assert [i["firstName"] for i in page["items"]] == [f"First{i}" for i in range(40, 70)]
        assert page["items"][0]["seniority"] == ["MANAGER"]
        assert [(s.start, s.count) for s in fake_linkedin.searches] == [(25, 25), (50, 25)]
        assert await pages_used(database, seat) == 2
        assert await remaining_credits(client, seat) == 98

    async def test_sends_every_filter_as_its_facet(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,  # noqa: F811
        fake_linkedin: FakeLinkedIn,
    ) -> None:
        request = search_body(
            firstName="First7",
            lastName=f"Last{STRIPE_ID}",
            departments=["engineering"],
            seniorityLevels=["manager"],
            countries=["us"],
        )
        fake_linkedin.add_company("acme", "77", 5, title="Engineering Manager", function_id=8,
                                  seniority_ids=(210,))  # fmt: skip
        request["companyLinkedInUrls"] = []
        response = await client.post(SEARCH, json=request, headers=seat.live)
        assert response.status_code == 200, response.text
        sent = fake_linkedin.searches[0]
        assert sent.filter_values("CURRENT_COMPANY") == []
        assert sent.filter_values("FIRST_NAME") == [{"text": "First7", "selectionType": "INCLUDED"}]
        assert sent.filter_values("LAST_NAME") == [
            {"text": f"Last{STRIPE_ID}", "selectionType": "INCLUDED"}
        ]
        assert [v["id"] for v in sent.filter_values("FUNCTION")] == ["8"]
        assert [v["id"] for v in sent.filter_values("SENIORITY_LEVEL")] == ["210", "200"]
        # Stripe's people have no function: only the filters the fake knows narrow them.
        assert response.json()["items"] == []

    async def test_a_failure_on_the_second_page_charges_nothing(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,  # noqa: F811
        fake_linkedin: FakeLinkedIn,
        database: Database,
    ) -> None:
        fake_linkedin.fail("500", page=2)
        response = await client.post(SEARCH, json=search_body(limit=50), headers=seat.live)
        assert_error(response, 502, "UPSTREAM_ERROR")
        assert await remaining_credits(client, seat) == 100
        assert await pages_used(database, seat) >= 2  # requested pages count, as on create

    async def test_an_ended_session_expires_the_connection(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,  # noqa: F811
        fake_linkedin: FakeLinkedIn,
    ) -> None:
        fake_linkedin.fail("401", page=1)
        response = await client.post(SEARCH, json=search_body(), headers=seat.live)
        assert_error(response, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        connection = (await client.get(INTEGRATION, headers=seat.live)).json()
        assert connection["state"] == "expired"
        assert (await remaining_credits(client, seat)) == 100


class TestSeat:
    async def test_a_search_and_a_create_on_one_seat_take_turns(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,  # noqa: F811
        fake_linkedin: FakeLinkedIn,
    ) -> None:
        fake_linkedin.fail("hang", page=1, times=1)
        search = asyncio.create_task(client.post(SEARCH, json=search_body(), headers=seat.live))
        assert await asyncio.to_thread(fake_linkedin.hanging.wait, 10)
        busy = await client.post(LISTS, json=body(), headers=seat.live)
        assert_error(busy, 503, "CONNECTION_BUSY")
        fake_linkedin.gate.set()
        assert (await search).status_code == 200
        assert (await client.post(LISTS, json=body(), headers=seat.live)).status_code == 201

    async def test_a_create_holds_the_seat_against_a_search(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,  # noqa: F811
        fake_linkedin: FakeLinkedIn,
    ) -> None:
        fake_linkedin.fail("hang", page=1, times=1)
        create = asyncio.create_task(client.post(LISTS, json=body(), headers=seat.live))
        assert await asyncio.to_thread(fake_linkedin.hanging.wait, 10)
        busy = await client.post(SEARCH, json=search_body(), headers=seat.live)
        assert_error(busy, 503, "CONNECTION_BUSY")
        fake_linkedin.gate.set()
        assert (await create).status_code == 201


class TestBudget:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"linkedin_daily_pages": 7})

    async def test_the_window_must_fit_the_days_budget(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,  # noqa: F811
        fake_linkedin: FakeLinkedIn,
        database: Database,
    ) -> None:
        first = await client.post(SEARCH, json=search_body(limit=100), headers=seat.live)
        assert first.status_code == 200, first.text
        assert await pages_used(database, seat) == 4
        searches = len(fake_linkedin.searches)
        over = await client.post(SEARCH, json=search_body(limit=100), headers=seat.live)
        error = assert_error(over, 503, "UPSTREAM_RATE_LIMITED")
        assert error["details"] == {"pagesUsedToday": 4, "dailyPageBudget": 7}
        assert len(fake_linkedin.searches) == searches
        small = await client.post(SEARCH, json=search_body(limit=50), headers=seat.live)
        assert small.status_code == 200
        assert await remaining_credits(client, seat) == 100 - 4 - 2
