"""Upstream faults: every failure kind × the page it happens on × provider.

Each create meets one fault on one of the five pages (the pages before it are
full), from the sandbox's magic companies or from the fake LinkedIn, and must
answer the contract's status with nothing stored and nothing charged: no list,
no contacts, the same credit balance; only the writes that must survive a
failed create (connection state, the seat's page count, the company cache, a
released reservation in the ledger) may differ.

The full cross product runs on SQLite only: the same failures run on both
backends in test_upstream_faults.py (sandbox) and test_linkedin_search.py
(LinkedIn), so the backend adds nothing here but time.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactlists.core.settings import Settings
from tests.api.helpers import assert_error, company, create_body
from tests.api.sales_navigator import against_fake, connect_linkedin
from tests.conftest import MakeAccount, Snapshot
from tests.fakes.linkedin_server import FakeLinkedIn

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

LISTS = "/v1/contacts/lists"
CREDITS = 100
PAGES = [1, 2, 3, 4, 5]
# The writes a failed create keeps on purpose (see the architecture).
KEPT_WRITES = (
    "sales_navigator_connections",
    "sales_navigator_page_usage",
    "linkedin_companies",
    "credit_ledger",
)
EXPECTED = {
    "error": (502, "UPSTREAM_ERROR"),
    "rate-limit": (503, "UPSTREAM_RATE_LIMITED"),
    "session-expired": (422, "SALES_NAVIGATOR_SESSION_EXPIRED"),
    "timeout": (504, "UPSTREAM_TIMEOUT"),
    "malformed": (502, "UPSTREAM_ERROR"),
    "reset": (502, "UPSTREAM_ERROR"),
    "unknown-company": (400, "UNKNOWN_COMPANY"),
}
# The sandbox fails on a page through its magic company names; a malformed body
# and a dropped connection are HTTP failures it has no wire for.
SANDBOX_MAGIC = {
    "error": "sandbox-upstream-error",
    "rate-limit": "sandbox-rate-limited",
    "session-expired": "sandbox-session-expired",
    "timeout": "sandbox-timeout",
    "unknown-company": "sandbox-unknown-company",
}
# How the fake LinkedIn fails a lead-search page. An unknown company is the
# company lookup's 404, which comes before any page (one case, below).
LINKEDIN_FAULTS = {
    "error": "500",
    "rate-limit": "429",
    "session-expired": "401",
    "timeout": "hang",
    "malformed": "malformed",
    "reset": "reset",
}


@pytest.fixture
def settings(settings: Settings, fake_linkedin: FakeLinkedIn) -> Settings:
    return against_fake(settings, fake_linkedin)


def _kept_out(rows: dict[str, list[bytes]]) -> dict[str, list[bytes]]:
    return {table: values for table, values in rows.items() if table not in KEPT_WRITES}


async def _assert_failed_cleanly(
    client: httpx.AsyncClient,
    response: httpx.Response,
    kind: str,
    headers: dict[str, str],
    snapshot: Snapshot,
    before: dict[str, list[bytes]],
) -> None:
    status, error_code = EXPECTED[kind]
    assert_error(response, status, error_code)
    after = await snapshot()
    assert _kept_out(after) == _kept_out(before)
    assert after["contact_lists"] == after["contact_list_items"] == after["base_contacts"] == []
    credits = await client.get("/v1/credits", headers=headers)
    assert credits.json()["remainingCredits"] == CREDITS


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("kind", sorted(SANDBOX_MAGIC))
async def test_sandbox_fault(
    client: httpx.AsyncClient, make_account: MakeAccount, snapshot: Snapshot, kind: str, page: int
) -> None:
    account = await make_account(credits=CREDITS)
    before = await snapshot()
    request = create_body(f"{SANDBOX_MAGIC[kind]}-page-{page}")
    response = await client.post(LISTS, json=request, headers=account.live)
    await _assert_failed_cleanly(client, response, kind, account.live, snapshot, before)


async def _linkedin_seat(
    client: httpx.AsyncClient, make_account: MakeAccount, fake: FakeLinkedIn
) -> dict[str, str]:
    """A connected seat; `stripe` has enough engineers for five full pages."""
    account = await make_account(credits=CREDITS, connect=False)
    await connect_linkedin(client, account)
    fake.add_company("stripe", "2135371", 130, title="Engineer")
    return account.live


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("kind", sorted(LINKEDIN_FAULTS))
async def test_linkedin_fault(
    app: FastAPI,
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    fake_linkedin: FakeLinkedIn,
    snapshot: Snapshot,
    kind: str,
    page: int,
) -> None:
    headers = await _linkedin_seat(client, make_account, fake_linkedin)
    fake_linkedin.fail(LINKEDIN_FAULTS[kind], page=page)
    if kind == "timeout":  # the page hangs: the deadline is what ends the search
        app.state.settings.search_timeout_s = 1
    before = await snapshot()
    response = await client.post(LISTS, json=create_body("stripe"), headers=headers)
    await _assert_failed_cleanly(client, response, kind, headers, snapshot, before)
    assert {search.page for search in fake_linkedin.searches} == set(range(1, page + 1))


async def test_linkedin_unknown_company(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    fake_linkedin: FakeLinkedIn,
    snapshot: Snapshot,
) -> None:
    headers = await _linkedin_seat(client, make_account, fake_linkedin)
    before = await snapshot()
    request: dict[str, Any] = create_body("stripe")
    request["filters"]["companyLinkedInUrls"].append(company("no-such-company"))
    response = await client.post(LISTS, json=request, headers=headers)
    await _assert_failed_cleanly(client, response, "unknown-company", headers, snapshot, before)
    assert response.json()["error"]["fields"][0]["field"] == "filters.companyLinkedInUrls[1]"
    assert fake_linkedin.searches == []
