"""Creating lists from a connected LinkedIn seat, end to end against the fake LinkedIn."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from contactlists.connections import service as connections
from contactlists.core.db import Database
from contactlists.core.models import BaseContact, SeatPageUsage
from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, company
from tests.api.sales_navigator import INTEGRATION, against_fake, connect_linkedin
from tests.conftest import AccountKeys, MakeAccount, Snapshot
from tests.fakes.linkedin_server import (
    COOKIE_HEADER,
    JSESSIONID,
    LOOKUP,
    SESSION_ENDERS,
    FakeLinkedIn,
)

LISTS = "/v1/contacts/lists"
STRIPE_ID = "2135371"
# Writes a failed create makes on purpose (the architecture lists them); the credit
# ledger may keep a released reservation, so charges are checked through the API.
SEAT_TABLES = (
    "sales_navigator_connections",
    "sales_navigator_page_usage",
    "linkedin_companies",
    "credit_ledger",
)


@pytest.fixture
def settings(settings: Settings, fake_linkedin: FakeLinkedIn) -> Settings:
    return against_fake(settings, fake_linkedin)


@pytest.fixture
async def seat(
    client: httpx.AsyncClient, make_account: MakeAccount, fake_linkedin: FakeLinkedIn
) -> AccountKeys:
    """A limited account (100 credits) connected to the fake LinkedIn, which knows
    `stripe` (130 engineering managers in the US) and numeric company 1035."""
    account = await make_account(credits=100, connect=False)
    await connect_linkedin(client, account)
    fake_linkedin.add_company("stripe", STRIPE_ID, 130, title="Engineering Manager")
    fake_linkedin.add_company(None, "1035", 3, title="Engineering Manager", geo_id="101165590")
    return account


def body(*companies: str, **filters: Any) -> dict[str, Any]:
    return {
        "name": "Stripe managers",
        "filters": {
            "companyLinkedInUrls": list(companies or [company("stripe")]),
            **(filters or {"jobTitles": ["Engineering Manager"]}),
        },
    }


async def remaining_credits(client: httpx.AsyncClient, account: AccountKeys) -> int:
    credits: int = (await client.get("/v1/credits", headers=account.live)).json()[
        "remainingCredits"
    ]
    return credits


async def pages_used(database: Database, account: AccountKeys) -> int:
    async with database.transaction() as conn:
        query = sa.select(sa.func.coalesce(sa.func.sum(SeatPageUsage.pages), 0)).where(
            SeatPageUsage.account_id == account.id
        )
        return int((await conn.execute(query)).scalar_one())


def without_allowed_writes(rows: dict[str, list[bytes]]) -> dict[str, list[bytes]]:
    return {table: values for table, values in rows.items() if table not in SEAT_TABLES}


class TestCreate:
    async def test_end_to_end(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        database: Database,
    ) -> None:
        request = body(
            company("stripe"),
            "https://www.linkedin.com/sales/company/1035",
            jobTitles=["Engineering Manager"],
            countries=["us", "GB"],
            keywords="First1",
        )
        response = await client.post(LISTS, json=request, headers=seat.live)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["provider"] == "linkedin"
        # First1, First10-First19 and First100-First129 at Stripe; First1 at 1035.
        assert created["contactCount"] == 42
        assert [s.page for s in fake_linkedin.searches] == [1, 2]
        sent = fake_linkedin.searches[0]
        assert sent.query["keywords"] == "First1"
        assert [v["id"] for v in sent.filter_values("CURRENT_COMPANY")] == [
            f"urn:li:organization:{STRIPE_ID}",
            "urn:li:organization:1035",
        ]
        assert sent.filter_values("CURRENT_TITLE") == [
            {"text": "Engineering Manager", "selectionType": "INCLUDED"}
        ]
        assert sent.filter_values("REGION") == [
            {"id": "103644278", "text": "United States", "selectionType": "INCLUDED"},
            {"id": "101165590", "text": "United Kingdom", "selectionType": "INCLUDED"},
        ]
        contacts = await client.get(f"{LISTS}/{created['id']}/contacts", headers=seat.live)
        first = contacts.json()["items"][0]
        assert first["firstName"] == "First1"
        assert first["lastName"] == f"Last{STRIPE_ID}"
        assert first["fullName"] == f"First1 Last{STRIPE_ID}"
        assert first["role"] == "Engineering Manager"
        assert first["companyName"] == f"Company {STRIPE_ID}"
        assert first["location"] == "San Francisco, California, United States"
        assert first["seniority"] == ["MANAGER"]
        profile_id = f"ACwAA{STRIPE_ID}x0001"
        # The link Sales Navigator builds, from the three parts of the entityUrn.
        assert first["linkedInSalesNavigatorProfileUrl"] == (
            f"https://www.linkedin.com/sales/lead/{profile_id},NAME_SEARCH,tok{profile_id[-6:]}"
        )
        assert first["linkedInProfileUrl"] == f"https://www.linkedin.com/in/{profile_id}"
        async with database.transaction() as conn:
            urn = (
                await conn.execute(
                    sa.select(BaseContact.profile_urn).where(BaseContact.profile_id == profile_id)
                )
            ).scalar_one()
        assert urn == f"urn:li:fs_salesProfile:({profile_id},NAME_SEARCH,tok{profile_id[-6:]})"
        assert await remaining_credits(client, seat) == 98
        assert await pages_used(database, seat) == 2
        connection = (await client.get(INTEGRATION, headers=seat.live)).json()
        assert connection["lastVerifiedAt"] >= connection["connectedAt"]

    @pytest.mark.parametrize("shape", ["flat", "nested"])
    async def test_five_pages_at_most_in_either_shape(
        self, client: httpx.AsyncClient, seat: AccountKeys, fake_linkedin: FakeLinkedIn, shape: str
    ) -> None:
        fake_linkedin.shape = shape
        response = await client.post(LISTS, json=body(), headers=seat.live)
        assert response.json()["contactCount"] == 125
        assert [s.start for s in fake_linkedin.searches] == [0, 25, 50, 75, 100]

    async def test_an_empty_search_is_a_free_empty_list(
        self, client: httpx.AsyncClient, seat: AccountKeys
    ) -> None:
        response = await client.post(LISTS, json=body(jobTitles=["Astronaut"]), headers=seat.live)
        assert response.json()["contactCount"] == 0
        assert await remaining_credits(client, seat) == 100

    async def test_test_keys_still_search_the_sandbox(
        self, client: httpx.AsyncClient, seat: AccountKeys, fake_linkedin: FakeLinkedIn
    ) -> None:
        connect_requests = len(fake_linkedin.received_headers)
        response = await client.post(LISTS, json=body(), headers=seat.test)
        assert response.json()["provider"] == "sandbox"
        assert len(fake_linkedin.received_headers) == connect_requests

    async def test_company_ids_are_looked_up_once_and_cost_no_pages(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        make_account: MakeAccount,
        database: Database,
    ) -> None:
        request = body(company("stripe"), "https://www.linkedin.com/company/1035")
        assert (await client.post(LISTS, json=request, headers=seat.live)).status_code == 201
        assert fake_linkedin.lookups == ["stripe"]
        assert await pages_used(database, seat) == 5
        other = await make_account(connect=False)
        await connect_linkedin(client, other)
        for account in (seat, other):
            again = await client.post(LISTS, json=request, headers=account.live)
            assert again.status_code == 201
        assert fake_linkedin.lookups == ["stripe"]

    async def test_an_unknown_company_is_400_on_its_url(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
    ) -> None:
        before = await snapshot()
        request = body(company("stripe"), company("no-such-company"))
        response = await client.post(LISTS, json=request, headers=seat.live)
        error = assert_error(
            response, 400, "UNKNOWN_COMPANY", field="filters.companyLinkedInUrls[1]"
        )
        assert "no-such-company" in error["message"]
        assert fake_linkedin.searches == []
        assert fake_linkedin.lookups == ["stripe", "no-such-company"]
        after = await snapshot()
        assert without_allowed_writes(after) == without_allowed_writes(before)
        assert after["sales_navigator_page_usage"] == []


class TestFailures:
    async def assert_nothing_stored(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        snapshot: Snapshot,
        before: dict[str, list[bytes]],
    ) -> None:
        assert without_allowed_writes(await snapshot()) == without_allowed_writes(before)
        assert (await client.get(LISTS, headers=seat.live)).json()["total"] == 0
        assert await remaining_credits(client, seat) == 100

    @pytest.mark.parametrize("page", [1, 3])
    @pytest.mark.parametrize(("kind", "signal"), SESSION_ENDERS)
    async def test_a_dead_session_expires_the_connection(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
        database: Database,
        kind: str,
        signal: str,
        page: int,
    ) -> None:
        fake_linkedin.fail(kind, page=page)
        before = await snapshot()
        response = await client.post(LISTS, json=body(), headers=seat.live)
        error = assert_error(response, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        assert error["errorAction"] == "RECONNECT_SALES_NAVIGATOR"
        await self.assert_nothing_stored(client, seat, snapshot, before)
        assert await pages_used(database, seat) == page
        # No retry; a plain 403 is asked once more after choosing the contract again.
        asked = [*range(1, page + 1), *([page] if kind == "403" else [])]
        assert [s.page for s in fake_linkedin.searches] == asked
        connection = (await client.get(INTEGRATION, headers=seat.live)).json()
        assert connection["state"] == "expired"
        assert connection["lastError"].startswith(f"{signal}: ")
        searches = len(fake_linkedin.searches)
        again = await client.post(LISTS, json=body(), headers=seat.live)
        assert_error(again, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        assert len(fake_linkedin.searches) == searches  # no search on an expired seat
        await connect_linkedin(client, seat)
        fake_linkedin.faults.clear()
        assert (await client.post(LISTS, json=body(), headers=seat.live)).status_code == 201

    @pytest.mark.parametrize(
        ("kind", "retry_after", "expected"), [("429", "17", 17), ("999", None, 60)]
    )
    async def test_throttling_is_503_with_retry_after(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
        kind: str,
        retry_after: str | None,
        expected: int,
    ) -> None:
        fake_linkedin.fail(kind, page=2, retry_after=retry_after)
        before = await snapshot()
        response = await client.post(LISTS, json=body(), headers=seat.live)
        assert_error(response, 503, "UPSTREAM_RATE_LIMITED")
        assert response.json()["retryAfter"] == expected
        assert response.headers["retry-after"] == str(expected)
        await self.assert_nothing_stored(client, seat, snapshot, before)
        connection = (await client.get(INTEGRATION, headers=seat.live)).json()
        assert connection["state"] == "active"

    async def test_a_seat_gone_mid_search_is_seat_required(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
    ) -> None:
        fake_linkedin.fail("seat-required", page=2)
        before = await snapshot()
        response = await client.post(LISTS, json=body(), headers=seat.live)
        error = assert_error(response, 422, "SALES_NAVIGATOR_SEAT_REQUIRED")
        assert error["errorAction"] == "CONNECT_SALES_NAVIGATOR"
        assert [s.page for s in fake_linkedin.searches] == [1, 2]
        await self.assert_nothing_stored(client, seat, snapshot, before)
        connection = (await client.get(INTEGRATION, headers=seat.live)).json()
        assert connection["state"] == "expired"
        assert connection["lastError"].startswith("SALES_NAVIGATOR_SEAT_REQUIRED: ")

    @pytest.mark.parametrize(
        ("kind", "asked"),
        [
            ("500", [1, 2, 2, 2]),
            ("503", [1, 2, 2, 2]),
            ("reset", [1, 2, 2, 2]),
            ("400", [1, 2]),  # what a retry cannot mend is a 502 at once
            ("wrong-shape", [1, 2]),
        ],
    )
    async def test_upstream_errors_are_502(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
        kind: str,
        asked: list[int],
    ) -> None:
        fake_linkedin.fail(kind, page=2)
        before = await snapshot()
        response = await client.post(LISTS, json=body(), headers=seat.live)
        error = assert_error(response, 502, "UPSTREAM_ERROR")
        assert "lead-search page 2" in error["message"]
        assert [s.page for s in fake_linkedin.searches] == asked
        await self.assert_nothing_stored(client, seat, snapshot, before)
        connection = (await client.get(INTEGRATION, headers=seat.live)).json()
        assert connection["state"] == "active"

    async def test_a_retried_page_can_still_succeed(
        self, client: httpx.AsyncClient, seat: AccountKeys, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("503", page=2, times=2)
        response = await client.post(LISTS, json=body(), headers=seat.live)
        assert response.json()["contactCount"] == 125

    async def test_a_failed_lookup_fails_the_create(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
    ) -> None:
        fake_linkedin.fail("401", path=LOOKUP)
        before = await snapshot()
        response = await client.post(LISTS, json=body(), headers=seat.live)
        assert_error(response, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        assert fake_linkedin.searches == []
        await self.assert_nothing_stored(client, seat, snapshot, before)
        connection = (await client.get(INTEGRATION, headers=seat.live)).json()
        assert connection["state"] == "expired"

    async def test_missing_the_deadline_is_504(
        self,
        app: Any,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
    ) -> None:
        app.state.settings.search_timeout_s = 0.5
        fake_linkedin.fail("hang", page=2)
        before = await snapshot()
        response = await client.post(LISTS, json=body(), headers=seat.live)
        assert_error(response, 504, "UPSTREAM_TIMEOUT")
        await self.assert_nothing_stored(client, seat, snapshot, before)
        connection = (await client.get(INTEGRATION, headers=seat.live)).json()
        assert connection["state"] == "active"


class TestSeat:
    async def test_one_search_at_a_time_per_seat(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        make_account: MakeAccount,
    ) -> None:
        fake_linkedin.fail("hang", page=1, times=1)
        first = asyncio.create_task(client.post(LISTS, json=body(), headers=seat.live))
        assert await asyncio.to_thread(fake_linkedin.hanging.wait, 10)
        busy = await client.post(LISTS, json=body(), headers=seat.live)
        error = assert_error(busy, 503, "CONNECTION_BUSY")
        assert error["type"] == "UPSTREAM"
        assert error["errorAction"] == "RETRY_LATER"
        assert int(busy.headers["retry-after"]) == busy.json()["retryAfter"] >= 1
        other = await make_account(connect=False)  # another seat is not blocked
        await connect_linkedin(client, other)
        assert (await client.post(LISTS, json=body(), headers=other.live)).status_code == 201
        fake_linkedin.gate.set()
        assert (await first).status_code == 201
        assert (await client.post(LISTS, json=body(), headers=seat.live)).status_code == 201

    async def test_a_waiting_search_runs_once_the_seat_is_free(
        self,
        app: Any,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
    ) -> None:
        app.state.settings.search_lock_wait_s = 30
        fake_linkedin.fail("hang", page=1, times=1)
        first = asyncio.create_task(client.post(LISTS, json=body(), headers=seat.live))
        assert await asyncio.to_thread(fake_linkedin.hanging.wait, 10)
        second = asyncio.create_task(client.post(LISTS, json=body(), headers=seat.live))
        await asyncio.sleep(0)
        fake_linkedin.gate.set()
        assert [(await task).status_code for task in (first, second)] == [201, 201]
        assert len(fake_linkedin.searches) == 11  # the hung page, retried, then 2 x 5


class TestBudget:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"linkedin_daily_pages": 7})

    async def test_a_spent_budget_is_503_until_midnight(
        self,
        client: httpx.AsyncClient,
        seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
        database: Database,
    ) -> None:
        fake_linkedin.fail("500", page=3)
        failed = await client.post(LISTS, json=body(), headers=seat.live)
        assert_error(failed, 502, "UPSTREAM_ERROR")
        assert await pages_used(database, seat) == 3  # failed pages count too
        before = await snapshot()
        searches = len(fake_linkedin.searches)
        response = await client.post(LISTS, json=body(), headers=seat.live)
        error = assert_error(response, 503, "UPSTREAM_RATE_LIMITED")
        assert error["details"] == {"pagesUsedToday": 3, "dailyPageBudget": 7}
        assert 1 <= response.json()["retryAfter"] <= 86_400
        assert len(fake_linkedin.searches) == searches
        assert without_allowed_writes(await snapshot()) == without_allowed_writes(before)
        test_mode = await client.post(LISTS, json=body(), headers=seat.test)
        assert test_mode.status_code == 201


class TestRealSessions:
    """What a seat connected with the browser's whole cookie header meets."""

    @pytest.fixture
    async def browser_seat(
        self, client: httpx.AsyncClient, make_account: MakeAccount, fake_linkedin: FakeLinkedIn
    ) -> AccountKeys:
        account = await make_account(credits=100, connect=False)
        response = await client.put(
            INTEGRATION,
            json={"provider": "linkedin", "cookies": COOKIE_HEADER},
            headers=account.live,
        )
        assert response.status_code == 200, response.text
        fake_linkedin.add_company("stripe", STRIPE_ID, 130, title="Engineering Manager")
        return account

    async def test_a_cookie_rotation_mid_search_is_followed_and_kept(
        self, client: httpx.AsyncClient, browser_seat: AccountKeys, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.rotate_jsessionid_at = 2
        response = await client.post(LISTS, json=body(), headers=browser_seat.live)
        assert response.status_code == 201, response.text
        assert response.json()["contactCount"] == 125
        assert fake_linkedin.jsessionid != JSESSIONID
        assert fake_linkedin.received_headers[-1]["csrf-token"] == fake_linkedin.jsessionid
        # The rotated jar was stored: the next search sends the new JSESSIONID.
        again = await client.post(LISTS, json=body(), headers=browser_seat.live)
        assert again.status_code == 201, again.text
        sent = fake_linkedin.sent_cookies()
        assert sent["JSESSIONID"].strip('"') == fake_linkedin.jsessionid
        assert {"bcookie", "bscookie", "li_rm", "li_a"} <= sent.keys()

    async def test_the_first_search_of_a_day_checks_the_seat(
        self,
        client: httpx.AsyncClient,
        browser_seat: AccountKeys,
        fake_linkedin: FakeLinkedIn,
        snapshot: Snapshot,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        assert fake_linkedin.license_calls == 1  # the connect's
        assert (await client.post(LISTS, json=body(), headers=browser_seat.live)).status_code == 201
        assert fake_linkedin.license_calls == 1  # checked today already
        monkeypatch.setattr(connections, "today", lambda: "2999-01-01")
        assert (await client.post(LISTS, json=body(), headers=browser_seat.live)).status_code == 201
        assert fake_linkedin.license_calls == 2
        assert (await client.post(LISTS, json=body(), headers=browser_seat.live)).status_code == 201
        assert fake_linkedin.license_calls == 2
        monkeypatch.setattr(connections, "today", lambda: "2999-01-02")
        fake_linkedin.contracts = []
        searches = len(fake_linkedin.searches)
        credits = await remaining_credits(client, browser_seat)
        lists = (await client.get(LISTS, headers=browser_seat.live)).json()["total"]
        failed = await client.post(LISTS, json=body(), headers=browser_seat.live)
        assert_error(failed, 422, "SALES_NAVIGATOR_SEAT_REQUIRED")
        assert len(fake_linkedin.searches) == searches
        assert await remaining_credits(client, browser_seat) == credits
        assert (await client.get(LISTS, headers=browser_seat.live)).json()["total"] == lists
        connection = (await client.get(INTEGRATION, headers=browser_seat.live)).json()
        assert connection["state"] == "expired"
        assert connection["lastError"].startswith("SALES_NAVIGATOR_SEAT_REQUIRED: ")

    async def test_a_lost_li_a_is_minted_again(
        self, client: httpx.AsyncClient, browser_seat: AccountKeys, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.minted.clear()  # LinkedIn forgot the contract: 403 without a fresh li_a
        response = await client.post(LISTS, json=body(), headers=browser_seat.live)
        assert response.status_code == 201, response.text
        assert len(fake_linkedin.selections) == 2
        fake_linkedin.fail("redirect-contract-chooser", times=1)
        again = await client.post(LISTS, json=body(), headers=browser_seat.live)
        assert again.status_code == 201, again.text
        assert len(fake_linkedin.selections) == 3

    async def test_two_cookies_alone_are_what_gets_a_session_killed(
        self, client: httpx.AsyncClient, make_account: MakeAccount, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.require_browser_cookies = True
        account = await make_account(connect=False)
        refused = await client.put(
            INTEGRATION,
            json={"provider": "linkedin", "liAt": fake_linkedin.li_at, "jsessionId": JSESSIONID},
            headers=account.live,
        )
        error = assert_error(refused, 422, "SALES_NAVIGATOR_SESSION_EXPIRED")
        assert "SESSION_ENDED" in error["message"]
        accepted = await client.put(
            INTEGRATION,
            json={"provider": "linkedin", "cookies": COOKIE_HEADER},
            headers=account.live,
        )
        assert accepted.status_code == 200, accepted.text

    async def test_a_late_write_back_never_resurrects_an_older_jar(
        self,
        client: httpx.AsyncClient,
        browser_seat: AccountKeys,
        database: Database,
        settings: Settings,
    ) -> None:
        """A search that outlived its lock writes back only over the jar it read."""
        late = await connections.SeatStore.load(database, settings, browser_seat.id)
        renewed = await client.put(
            INTEGRATION,
            json={"provider": "linkedin", "cookies": f"{COOKIE_HEADER}; marker=renewed"},
            headers=browser_seat.live,
        )
        assert renewed.status_code == 200
        late.state.cookies.values["lidc"] = "stale"
        await late.save()
        current = await connections.SeatStore.load(database, settings, browser_seat.id)
        assert current.state.cookies.get("marker") == "renewed"
        assert current.state.cookies.get("lidc") != "stale"
        fresh = await connections.SeatStore.load(database, settings, browser_seat.id)
        fresh.state.cookies.values["lidc"] = "newer"
        await fresh.save()
        await fresh.save()  # its own last write is what it compares with
        stored = await connections.SeatStore.load(database, settings, browser_seat.id)
        assert stored.state.cookies.get("lidc") == "newer"
