"""The `departments` and `seniorityLevels` filters on create, through HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from contactlists.core.settings import Settings
from contactlists.providers.base import LeadQuery
from contactlists.providers.facets import (
    DEPARTMENT_IDS,
    SENIORITY_FACET_IDS,
    any_case_pattern,
    canonical_department,
    canonical_seniority,
)
from contactlists.providers.linkedin_query import build_query
from contactlists.providers.sandbox import company_population
from tests.api.helpers import assert_error, company, create_body
from tests.api.sales_navigator import against_fake, connect_linkedin
from tests.conftest import AccountKeys, MakeAccount
from tests.fakes.linkedin_server import FakeLinkedIn, parse_restli

LISTS = "/v1/contacts/lists"


def with_facets(vanity: str = "sandbox-exact-30", **facets: object) -> dict[str, object]:
    body = create_body(vanity, job_titles=["Engineer"])
    body["filters"].update(facets)  # type: ignore[union-attr]
    return body


class TestValidation:
    async def test_stored_in_canonical_spelling_and_echoed(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = with_facets(
            departments=["engineering", "HUMAN RESOURCES", "Engineering"],
            seniorityLevels=["vp", "Director"],
        )
        response = await client.post(LISTS, json=body, headers=acct.live)
        assert response.status_code == 201, response.text
        filters = response.json()["filters"]
        assert filters["departments"] == ["Engineering", "Human Resources"]
        assert filters["seniorityLevels"] == ["VP", "DIRECTOR"]
        got = await client.get(f"{LISTS}/{response.json()['id']}", headers=acct.live)
        assert got.json()["filters"] == filters

    async def test_omitted_when_not_given_or_empty(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = with_facets(departments=[], seniorityLevels=None)
        response = await client.post(LISTS, json=body, headers=acct.live)
        assert response.status_code == 201, response.text
        assert set(response.json()["filters"]) == {"companyLinkedInUrls", "jobTitles"}

    async def test_unknown_department_has_the_originals_message(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = with_facets(departments=["Engineering", "Engineering Ops"])
        response = await client.post(LISTS, json=body, headers=acct.live)
        error = assert_error(response, 400, "INVALID_FIELD", field="filters.departments[1]")
        expected = "validation failed for 'departments': invalid value: Engineering Ops"
        assert error["message"] == expected
        assert response.json()["message"] == expected

    async def test_unknown_seniority_has_the_originals_message(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        response = await client.post(
            LISTS, json=with_facets(seniorityLevels=["Boss"]), headers=acct.live
        )
        error = assert_error(response, 400, "INVALID_FIELD", field="filters.seniorityLevels[0]")
        assert error["message"] == "validation failed for 'seniorityLevels': invalid value: Boss"

    async def test_neither_counts_as_a_filter(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = {
            "name": "x",
            "filters": {
                "companyLinkedInUrls": [company("stripe")],
                "departments": ["Sales"],
                "seniorityLevels": ["VP"],
            },
        }
        response = await client.post(LISTS, json=body, headers=acct.live)
        assert_error(response, 400, "MISSING_FILTER", field="filters")

    async def test_too_many(self, client: httpx.AsyncClient, acct: AccountKeys) -> None:
        body = with_facets(seniorityLevels=["VP"] * 11)
        response = await client.post(LISTS, json=body, headers=acct.live)
        assert_error(response, 400, "INVALID_FIELD", field="filters.seniorityLevels")


class TestSandbox:
    async def test_seniority_narrows_the_search(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        broad = create_body("netflix", countries=["US"])
        narrow = create_body("netflix", countries=["US"])
        narrow["filters"]["seniorityLevels"] = ["MANAGER"]
        all_count = (await client.post(LISTS, json=broad, headers=acct.test)).json()
        created = (await client.post(LISTS, json=narrow, headers=acct.test)).json()
        assert 0 < created["contactCount"] < all_count["contactCount"]
        page = await client.get(f"{LISTS}/{created['id']}/contacts", headers=acct.test)
        assert all("MANAGER" in item["seniority"] for item in page.json()["items"])

    def test_departments_match_the_people_of_that_function(self) -> None:
        from contactlists.providers.sandbox import _matches

        people = company_population("netflix")
        query = LeadQuery(company_urls=(company("netflix"),), departments=("Sales",))
        sales = [p for p in people if _matches(p, query)]
        assert sales
        assert {p.department for p in sales} == {"Sales"}
        assert len(sales) < len(people)


def test_linkedin_query_sends_function_and_seniority_facets() -> None:
    query = LeadQuery(
        company_urls=(company("stripe"),),
        departments=("Engineering", "Human Resources"),
        seniority_levels=("VP", "MANAGER"),
    )
    parsed = parse_restli(build_query(query, ["2135371"]))
    facets = {f["type"]: f["values"] for f in parsed["filters"]}
    assert facets["FUNCTION"] == [
        {"id": "8", "text": "Engineering", "selectionType": "INCLUDED"},
        {"id": "12", "text": "Human Resources", "selectionType": "INCLUDED"},
    ]
    assert [v["id"] for v in facets["SENIORITY_LEVEL"]] == ["300", "210", "200"]


@pytest.fixture
def settings(settings: Settings, fake_linkedin: FakeLinkedIn) -> Settings:
    return against_fake(settings, fake_linkedin)


async def test_the_fake_sales_navigator_honours_them(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    fake_linkedin: FakeLinkedIn,
) -> None:
    account = await make_account(connect=False)
    await connect_linkedin(client, account)
    fake_linkedin.add_company("stripe", "2135371", 4, title="VP Engineering", function_id=8,
                              seniority_ids=(300,))  # fmt: skip
    fake_linkedin.add_company(None, "1035", 3, title="VP Sales", function_id=25,
                              seniority_ids=(300,))  # fmt: skip
    body = {
        "name": "VPs of engineering",
        "filters": {
            "companyLinkedInUrls": [
                company("stripe"),
                "https://www.linkedin.com/sales/company/1035",
            ],
            "jobTitles": ["VP"],
            "departments": ["engineering"],
            "seniorityLevels": ["vp"],
        },
    }
    response = await client.post(LISTS, json=body, headers=account.live)
    assert response.status_code == 201, response.text
    assert response.json()["contactCount"] == 4
    sent = fake_linkedin.searches[0]
    assert sent.filter_values("FUNCTION") == [
        {"id": "8", "text": "Engineering", "selectionType": "INCLUDED"}
    ]
    assert sent.filter_values("SENIORITY_LEVEL") == [{"id": "300", "selectionType": "INCLUDED"}]


@pytest.mark.parametrize(
    ("names", "canonical"),
    [(DEPARTMENT_IDS, canonical_department), (SENIORITY_FACET_IDS, canonical_seniority)],
)
def test_the_published_patterns_accept_what_validation_accepts(
    names: dict[str, object], canonical: Callable[[str], str | None]
) -> None:
    pattern = re.compile(any_case_pattern(names))
    samples = [v for name in names for v in (name, name.lower(), name.upper(), f" {name}")]
    samples += ["Engineering Ops", "", "ſales", "ſenior", "vp\n", "Human  Resources"]
    for sample in samples:
        assert bool(pattern.fullmatch(sample)) == (canonical(sample) is not None), sample
