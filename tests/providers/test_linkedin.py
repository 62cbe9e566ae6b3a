"""The LinkedIn provider over real HTTP, against the fake Sales Navigator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from contactlists.providers.base import (
    LeadQuery,
    SessionExpired,
    UnknownCompany,
    UpstreamError,
    UpstreamRateLimited,
    run_search,
)
from contactlists.providers.linkedin import (
    LinkedInCredentials,
    LinkedInProvider,
    LinkedInSession,
    new_http_client,
)
from tests.fakes.linkedin_server import JSESSIONID, LI_AT, LOOKUP, ME, FakeLinkedIn

STRIPE = "https://www.linkedin.com/company/stripe"
SESSION_ENDERS = [
    "401",
    "403",
    "csrf",
    "redirect-login",
    "redirect-uas-login",
    "redirect-checkpoint",
    "redirect-authwall",
    "redirect-contract-chooser",
]
TRANSIENT = ["500", "502", "503", "malformed", "wrong-shape", "reset", "redirect-elsewhere"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client(5.0) as client:
        yield client


def session_for(
    http: httpx.AsyncClient, fake: FakeLinkedIn, li_at: str = LI_AT, jsessionid: str = JSESSIONID
) -> LinkedInSession:
    credentials = LinkedInCredentials(li_at=li_at, jsessionid=jsessionid)
    return LinkedInSession(http, fake.base_url + "/", credentials, retry_backoff_s=0)


def stripe_provider(session: LinkedInSession) -> LinkedInProvider:
    return LinkedInProvider(session, {STRIPE: "2135371"})


QUERY = LeadQuery(company_urls=(STRIPE,), job_titles=("Engineer",))


class TestSession:
    async def test_verify_sends_the_documented_headers(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn
    ) -> None:
        await session_for(http, fake_linkedin).verify()
        assert fake_linkedin.identity_calls == 1
        headers = fake_linkedin.received_headers[0]
        assert headers["csrf-token"] == JSESSIONID
        assert headers["cookie"] == f'li_at={LI_AT}; JSESSIONID="{JSESSIONID}"'
        assert headers["x-restli-protocol-version"] == "2.0.0"
        assert headers["accept"] == "application/json"

    @pytest.mark.parametrize(
        ("li_at", "jsessionid", "reason"),
        [("stale", JSESSIONID, "401"), (LI_AT, "ajax:0", "CSRF")],
    )
    async def test_bad_cookies_are_an_expired_session(
        self,
        http: httpx.AsyncClient,
        fake_linkedin: FakeLinkedIn,
        li_at: str,
        jsessionid: str,
        reason: str,
    ) -> None:
        with pytest.raises(SessionExpired, match=reason) as failure:
            await session_for(http, fake_linkedin, li_at, jsessionid).verify()
        assert LI_AT not in str(failure.value)

    async def test_cookies_the_server_sets_are_never_kept(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.set_cookie = "li_at=someone-else; Path=/"
        await session_for(http, fake_linkedin).verify()
        await session_for(http, fake_linkedin).verify()
        assert fake_linkedin.received_headers[1]["cookie"] == (
            f'li_at={LI_AT}; JSESSIONID="{JSESSIONID}"'
        )

    @pytest.mark.parametrize("shape", ["elements", "normalized"])
    async def test_company_lookup(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn, shape: str
    ) -> None:
        fake_linkedin.lookup_shape = shape
        fake_linkedin.add_company("ben&jerry's", "777", 0)
        session = session_for(http, fake_linkedin)
        assert await session.lookup_company_id("ben&jerry's") == "777"
        assert await session.lookup_company_id("nobody-knows") is None
        assert fake_linkedin.lookups == ["ben&jerry's", "nobody-knows"]

    async def test_company_lookup_failures_map_like_searches(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("429", path=LOOKUP, retry_after="9")
        with pytest.raises(UpstreamRateLimited) as failure:
            await session_for(http, fake_linkedin).lookup_company_id("stripe")
        assert failure.value.retry_after_s == 9


class TestSearchPages:
    @pytest.mark.parametrize("shape", ["flat", "nested"])
    async def test_both_response_shapes(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn, shape: str
    ) -> None:
        fake_linkedin.shape = shape
        people = fake_linkedin.add_company("stripe", "2135371", 3, title="Staff Engineer")
        page = await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert [lead.profile_id for lead in page.leads] == [p.profile_id for p in people]
        lead = page.leads[0]
        assert lead.profile_urn == people[0].urn
        assert (lead.first_name, lead.last_name) == ("First0", "Last2135371")
        assert (lead.title, lead.company_name) == ("Staff Engineer", "Company 2135371")
        assert lead.location == people[0].location

    async def test_run_search_pages_through_the_fake(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 130)
        provider = stripe_provider(session_for(http, fake_linkedin))
        result = await run_search(provider, QUERY, timeout_s=10)
        assert len(result.leads) == 125
        assert [(s.start, s.count) for s in fake_linkedin.searches] == [
            (0, 25),
            (25, 25),
            (50, 25),
            (75, 25),
            (100, 25),
        ]
        titles = fake_linkedin.searches[0].filter_values("CURRENT_TITLE")
        assert titles == [{"text": "Engineer", "selectionType": "INCLUDED"}]

    async def test_numeric_company_urls_need_no_lookup(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company(None, "1035", 2)
        query = LeadQuery(
            company_urls=("https://www.linkedin.com/sales/company/1035",), keywords="first1"
        )
        provider = LinkedInProvider(session_for(http, fake_linkedin), {})
        page = await provider.fetch_page(query, 0, 25)
        assert [lead.first_name for lead in page.leads] == ["First1"]
        assert fake_linkedin.lookups == []

    async def test_an_unresolved_vanity_url_is_an_unknown_company(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn
    ) -> None:
        provider = LinkedInProvider(session_for(http, fake_linkedin), {})
        with pytest.raises(UnknownCompany) as failure:
            await provider.fetch_page(QUERY, 0, 25)
        assert failure.value.company_url == STRIPE
        assert fake_linkedin.searches == []

    @pytest.mark.parametrize("kind", SESSION_ENDERS)
    async def test_session_enders(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn, kind: str
    ) -> None:
        fake_linkedin.fail(kind)
        with pytest.raises(SessionExpired):
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(fake_linkedin.searches) == 1

    @pytest.mark.parametrize(
        ("kind", "retry_after", "expected"),
        [
            ("429", "17", 17),
            ("429", None, 60),
            ("999", None, 60),
            ("429", "Wed, 21 Oct 2015 07:28:00 GMT", 1),
            ("999", "not-a-number", 60),
        ],
    )
    async def test_throttling(
        self,
        http: httpx.AsyncClient,
        fake_linkedin: FakeLinkedIn,
        kind: str,
        retry_after: str | None,
        expected: int,
    ) -> None:
        fake_linkedin.fail(kind, retry_after=retry_after)
        with pytest.raises(UpstreamRateLimited) as failure:
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert failure.value.retry_after_s == expected
        assert len(fake_linkedin.searches) == 1  # throttling is never retried

    @pytest.mark.parametrize("kind", TRANSIENT)
    async def test_transient_failures_are_retried_twice(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn, kind: str
    ) -> None:
        fake_linkedin.fail(kind)
        with pytest.raises(UpstreamError):
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(fake_linkedin.searches) == 3

    @pytest.mark.parametrize("kind", TRANSIENT)
    async def test_a_retry_can_succeed(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn, kind: str
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 4)
        fake_linkedin.fail(kind, times=2)
        page = await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(page.leads) == 4
        assert len(fake_linkedin.searches) == 3

    async def test_client_errors_are_not_retried(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("400")
        with pytest.raises(UpstreamError, match="400"):
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(fake_linkedin.searches) == 1

    async def test_a_stalled_request_times_out_and_is_retried(
        self, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("hang")
        async with new_http_client(0.2) as http:
            with pytest.raises(UpstreamError, match="ReadTimeout"):
                await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(fake_linkedin.searches) == 3

    async def test_identity_failures(
        self, http: httpx.AsyncClient, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("redirect-checkpoint", path=ME)
        with pytest.raises(SessionExpired, match="checkpoint"):
            await session_for(http, fake_linkedin).verify()
