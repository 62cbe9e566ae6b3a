"""The sandbox at real companies' size: counts in proportion, memory bounded."""

from __future__ import annotations

import httpx

from contactlists.providers import sandbox
from contactlists.providers.base import LeadQuery, run_search
from contactlists.providers.sandbox import (
    CHUNK,
    KNOWN_COMPANIES,
    RESULT_CAP,
    SCAN_LIMIT,
    SandboxProvider,
    company_size,
)
from tests.api.helpers import company
from tests.conftest import AccountKeys


def query(vanity: str, **filters: object) -> LeadQuery:
    return LeadQuery(company_urls=(company(vanity),), **filters)  # type: ignore[arg-type]


def test_known_companies_have_their_headcount() -> None:
    assert company_size("stripe") == 8_000
    assert company_size("google") == 180_000
    assert all(company_size(name) == size for name, (size, _) in KNOWN_COMPANIES.items())


async def test_the_seeds_example_returns_a_list(
    client: httpx.AsyncClient, acct: AccountKeys
) -> None:
    """Engineering Manager and VP Engineering at Stripe in US and GB (the seed's create)."""
    body = {
        "name": "Stripe engineering leaders",
        "filters": {
            "companyLinkedInUrls": ["https://www.linkedin.com/company/stripe"],
            "jobTitles": ["Engineering Manager", "VP Engineering"],
            "countries": ["US", "GB"],
        },
    }
    response = await client.post("/v1/contacts/lists", json=body, headers=acct.test)
    assert response.status_code == 201, response.text
    assert response.json()["contactCount"] >= 25


async def test_broad_searches_at_large_companies_fill_five_pages() -> None:
    result = await run_search(SandboxProvider(), query("google", job_titles=("Engineer",)),
                              timeout_s=60)  # fmt: skip
    assert len(result.leads) == 125
    assert result.pages_fetched == 5
    assert result.total == RESULT_CAP


async def test_narrow_searches_return_few() -> None:
    narrow = query("stripe", job_titles=("VP Engineering",), countries=("GB",))
    result = await run_search(SandboxProvider(), narrow, timeout_s=60)
    assert 0 < len(result.leads) < 25


async def test_a_search_looks_at_a_bounded_part_of_a_huge_company() -> None:
    sandbox._CACHE._entries.clear()
    sandbox._CACHE.bytes = 0
    page = await SandboxProvider().fetch_page(query("amazon", keywords="zzzz"), 0, 25)
    chunks = [key for key in sandbox._CACHE._entries if key[0] == "chunk"]  # type: ignore[index]
    assert len(chunks) <= SCAN_LIMIT // CHUNK
    assert page.total == 0
    assert sandbox._CACHE.bytes <= sandbox.CACHE_BYTES


async def test_the_same_query_gives_the_same_people_from_any_chunk() -> None:
    big = query("google", job_titles=("Engineer",), countries=("US",))
    first = await SandboxProvider().fetch_page(big, 100, 25)
    sandbox._CACHE._entries.clear()
    sandbox._CACHE.bytes = 0
    again = await SandboxProvider().fetch_page(big, 100, 25)
    assert [lead.profile_id for lead in first.leads] == [lead.profile_id for lead in again.leads]
    assert len({lead.profile_id for lead in first.leads}) == 25
