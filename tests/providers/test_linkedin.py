"""The LinkedIn provider over real HTTP, against the fake Sales Navigator on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from contactlists.providers.base import (
    LeadQuery,
    SeatRequired,
    SessionExpired,
    UnknownCompany,
    UpstreamError,
    UpstreamRateLimited,
    run_search,
)
from contactlists.providers.linkedin import (
    LinkedInHttp,
    LinkedInProvider,
    LinkedInSession,
    SessionOptions,
)
from contactlists.providers.linkedin_cookies import SessionCookies
from tests.fakes.linkedin_server import (
    CONTRACT,
    COOKIE_HEADER,
    DECORATION,
    JSESSIONID,
    LI_AT,
    LICENSES,
    LOOKUP,
    ME,
    SESSION_ENDERS,
    FakeLinkedIn,
)

STRIPE = "https://www.linkedin.com/company/stripe"
QUERY = LeadQuery(company_urls=(STRIPE,), job_titles=("Engineer",))
TRANSIENT = ["500", "502", "503", "reset"]


@pytest.fixture
async def http() -> AsyncIterator[Any]:
    async with LinkedInHttp(5.0).conversation() as conversation:
        yield conversation


def session_for(
    http: Any, fake: FakeLinkedIn, header: str = COOKIE_HEADER, **options: Any
) -> LinkedInSession:
    settings = {"retry_backoff_s": 0, "lead_decoration": f"{DECORATION}14", **options}
    return LinkedInSession(
        http,
        fake.base_url + "/",
        SessionCookies.from_header(header),
        options=SessionOptions(**settings),
    )


def stripe_provider(session: LinkedInSession) -> LinkedInProvider:
    return LinkedInProvider(session, {STRIPE: "2135371"})


class TestSession:
    async def test_every_request_looks_like_the_browsers(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        await session_for(http, fake_linkedin).member()
        headers = fake_linkedin.received_headers[0]
        assert headers["csrf-token"] == JSESSIONID
        assert fake_linkedin.sent_cookies(0) == SessionCookies.from_header(COOKIE_HEADER).values
        assert headers["x-restli-protocol-version"] == "2.0.0"
        assert headers["x-li-lang"] == "en_US"
        assert headers["x-li-page-instance"].startswith("urn:li:page:d_sales2_search_people;")
        assert headers["referer"].startswith("https://www.linkedin.com/sales/")
        assert (headers["sec-fetch-mode"], headers["sec-fetch-site"]) == ("cors", "same-origin")
        assert "Chrome/" in headers["user-agent"]  # curl_cffi's Chrome impersonation
        assert "Google Chrome" in headers["sec-ch-ua"]
        # A page load's headers would give an XHR away.
        assert not {"upgrade-insecure-requests", "sec-fetch-user"} & headers.keys()

    async def test_the_member_is_named(self, http: Any, fake_linkedin: FakeLinkedIn) -> None:
        member = await session_for(http, fake_linkedin).member()
        assert (member.name, member.public_identifier) == ("Ada Lovelace", "ada-lovelace-1815")

    @pytest.mark.parametrize(
        ("header", "signal"),
        [
            (COOKIE_HEADER.replace(LI_AT, "stale"), "UNAUTHORIZED"),
            (COOKIE_HEADER.replace(JSESSIONID, "ajax:0"), "CSRF_REJECTED"),
        ],
    )
    async def test_bad_cookies_end_the_session(
        self, http: Any, fake_linkedin: FakeLinkedIn, header: str, signal: str
    ) -> None:
        with pytest.raises(SessionExpired) as failure:
            await session_for(http, fake_linkedin, header).member()
        assert failure.value.signal == signal
        assert str(failure.value).startswith(f"{signal}: ")
        assert LI_AT not in str(failure.value)

    async def test_set_cookie_is_applied_and_handed_over(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        stored: list[str | None] = []

        async def store(jar: SessionCookies) -> None:
            stored.append(jar.get("lidc"))

        session = session_for(http, fake_linkedin)
        session_with_store = LinkedInSession(
            http,
            fake_linkedin.base_url,
            session.cookies,
            options=SessionOptions(retry_backoff_s=0),
            on_jar_change=store,
        )
        await session_with_store.member()
        await session_with_store.member()
        assert stored == ['"b=TB55:s=T:g=1:v=2:sig=AQE"', '"b=TB55:s=T:g=2:v=2:sig=AQE"']
        assert fake_linkedin.sent_cookies(1)["lidc"] == stored[0]

    async def test_the_seat_check_selects_the_only_contract(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        session = session_for(http, fake_linkedin)
        identity = await session.check_seat()
        assert identity.contract == CONTRACT
        assert identity.member.name == "Ada Lovelace"
        assert fake_linkedin.selections == [CONTRACT]
        assert session.cookies.get("li_a") in fake_linkedin.minted
        again = await session.check_seat()  # li_a held: the choice stands
        assert again.contract == CONTRACT
        assert fake_linkedin.selections == [CONTRACT]

    async def test_opening_sales_navigator_mints_li_a_as_a_browser_sees_it(
        self, fake_linkedin: FakeLinkedIn
    ) -> None:
        """The fake as OpenCLI's browser meets the real one: opening /sales/ sets li_a
        for a member with one contract, and sends one with several to the chooser."""
        headers = {
            "cookie": COOKIE_HEADER,
            "csrf-token": JSESSIONID,
            "x-restli-protocol-version": "2.0.0",
        }
        async with httpx.AsyncClient(base_url=fake_linkedin.base_url) as browser:
            opened = await browser.get("/sales/", headers=headers)
            assert opened.status_code == 200
            assert opened.cookies["li_a"] in fake_linkedin.minted
            fake_linkedin.contracts = ["Team", "Core"]
            chooser = await browser.get("/sales/", headers=headers)
            assert chooser.status_code == 302
            assert chooser.headers["location"].endswith("/sales/contract-chooser")

    async def test_no_seat(self, http: Any, fake_linkedin: FakeLinkedIn) -> None:
        fake_linkedin.contracts = []
        with pytest.raises(SeatRequired) as failure:
            await session_for(http, fake_linkedin).check_seat()
        assert str(failure.value).startswith("SALES_NAVIGATOR_SEAT_REQUIRED: ")
        assert failure.value.contracts is None

    async def test_a_seat_taken_away(self, http: Any, fake_linkedin: FakeLinkedIn) -> None:
        fake_linkedin.fail("seat-required", path=LICENSES)
        with pytest.raises(SeatRequired):
            await session_for(http, fake_linkedin).check_seat()

    async def test_several_contracts(self, http: Any, fake_linkedin: FakeLinkedIn) -> None:
        fake_linkedin.contracts = ["Team", "Core"]
        with pytest.raises(SeatRequired) as failure:
            await session_for(http, fake_linkedin).check_seat()
        assert failure.value.contracts == ["Team", "Core"]
        identity = await session_for(http, fake_linkedin, contract="core").check_seat()
        assert identity.contract == "Core"
        assert fake_linkedin.selections == ["Core"]

    @pytest.mark.parametrize("shape", ["elements", "normalized"])
    async def test_company_lookup(self, http: Any, fake_linkedin: FakeLinkedIn, shape: str) -> None:
        fake_linkedin.lookup_shape = shape
        fake_linkedin.add_company("ben&jerry's", "777", 0)
        session = session_for(http, fake_linkedin)
        assert await session.lookup_company_id("ben&jerry's") == "777"
        assert await session.lookup_company_id("nobody-knows") is None
        assert fake_linkedin.lookups == ["ben&jerry's", "nobody-knows"]

    async def test_company_lookup_failures_map_like_searches(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("429", path=LOOKUP, retry_after="9")
        with pytest.raises(UpstreamRateLimited) as failure:
            await session_for(http, fake_linkedin).lookup_company_id("stripe")
        assert failure.value.retry_after_s == 9

    async def test_identity_failures(self, http: Any, fake_linkedin: FakeLinkedIn) -> None:
        fake_linkedin.fail("redirect-checkpoint", path=ME)
        with pytest.raises(SessionExpired, match="checkpoint"):
            await session_for(http, fake_linkedin).member()

    async def test_a_connect_tries_once(self, http: Any, fake_linkedin: FakeLinkedIn) -> None:
        fake_linkedin.fail("500", path=ME)
        with pytest.raises(UpstreamError, match="verification"):
            await session_for(http, fake_linkedin, attempts=1).member()
        assert fake_linkedin.identity_calls == 1


class TestSearchPages:
    @pytest.mark.parametrize("shape", ["flat", "nested"])
    async def test_both_response_shapes(
        self, http: Any, fake_linkedin: FakeLinkedIn, shape: str
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
        assert lead.seniority_ids is None  # -14 carries no seniority

    async def test_a_search_without_li_a_selects_the_contract_first(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 3)
        session = session_for(http, fake_linkedin)
        assert session.cookies.get("li_a") is None
        page = await stripe_provider(session).fetch_page(QUERY, 0, 25)
        assert len(page.leads) == 3
        assert fake_linkedin.selections == [CONTRACT]

    async def test_linkedins_own_seniority_with_the_newer_decoration(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 1, seniority_ids=(320, 310))
        session = session_for(http, fake_linkedin, lead_decoration=f"{DECORATION}16")
        page = await stripe_provider(session).fetch_page(QUERY, 0, 25)
        assert page.leads[0].seniority_ids == (320, 310)

    async def test_an_unknown_decoration_is_a_400(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        session = session_for(http, fake_linkedin, lead_decoration=f"{DECORATION}99")
        with pytest.raises(UpstreamError, match="400"):
            await stripe_provider(session).fetch_page(QUERY, 0, 25)

    async def test_run_search_pages_through_the_fake(
        self, http: Any, fake_linkedin: FakeLinkedIn
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

    async def test_a_short_page_before_the_end_does_not_end_the_search(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 3000)
        fake_linkedin.short_pages = {2: 7}
        result = await run_search(
            stripe_provider(session_for(http, fake_linkedin)), QUERY, timeout_s=10
        )
        assert len(fake_linkedin.searches) == 5
        assert len(result.leads) == 125 - 7
        assert result.pages_with_leads == 5

    async def test_the_search_stops_at_linkedins_total(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 50)
        result = await run_search(
            stripe_provider(session_for(http, fake_linkedin)), QUERY, timeout_s=10
        )
        assert len(result.leads) == 50
        assert len(fake_linkedin.searches) == 2  # 25 + 25 reaches total: no empty third page

    async def test_the_total_is_capped_and_an_empty_page_ends_it(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 3000)
        page = await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert page.total == 2500
        fake_linkedin.short_pages = {2: 25}
        fake_linkedin.searches.clear()
        result = await run_search(
            stripe_provider(session_for(http, fake_linkedin)), QUERY, timeout_s=10
        )
        assert len(fake_linkedin.searches) == 2
        assert (len(result.leads), result.pages_with_leads) == (25, 1)

    async def test_duplicates_across_pages_are_dropped(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        people = fake_linkedin.add_company("stripe", "2135371", 200)
        fake_linkedin.duplicates_across_pages = True
        result = await run_search(
            stripe_provider(session_for(http, fake_linkedin)), QUERY, timeout_s=10
        )
        ids = [lead.profile_id for lead in result.leads]
        assert len(ids) == len(set(ids)) == 121  # 25 + 4 × 24 new ones
        new_ones = people[:25] + [
            p for start in range(25, 125, 25) for p in people[start : start + 24]
        ]
        assert ids == [p.profile_id for p in new_ones]

    async def test_a_jsessionid_rotated_mid_search_is_followed(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 130)
        fake_linkedin.rotate_jsessionid_at = 2
        session = session_for(http, fake_linkedin)
        result = await run_search(stripe_provider(session), QUERY, timeout_s=10)
        assert len(result.leads) == 125
        assert fake_linkedin.jsessionid != JSESSIONID
        assert session.cookies.csrf_token == fake_linkedin.jsessionid
        assert fake_linkedin.received_headers[-1]["csrf-token"] == fake_linkedin.jsessionid

    async def test_a_stale_csrf_token_is_refused(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 130)
        fake_linkedin.jsessionid = "ajax:rotated-elsewhere"
        with pytest.raises(SessionExpired) as failure:
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert failure.value.signal == "CSRF_REJECTED"

    async def test_an_unresolved_vanity_url_is_an_unknown_company(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        provider = LinkedInProvider(session_for(http, fake_linkedin), {})
        with pytest.raises(UnknownCompany) as failure:
            await provider.fetch_page(QUERY, 0, 25)
        assert failure.value.company_url == STRIPE
        assert fake_linkedin.searches == []

    async def test_numeric_company_urls_need_no_lookup(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company(None, "1035", 2)
        query = LeadQuery(
            company_urls=("https://www.linkedin.com/sales/company/1035",), keywords="first1"
        )
        provider = LinkedInProvider(session_for(http, fake_linkedin), {})
        page = await provider.fetch_page(query, 0, 25)
        assert [lead.first_name for lead in page.leads] == ["First1"]
        assert fake_linkedin.lookups == []

    @pytest.mark.parametrize(("kind", "signal"), SESSION_ENDERS)
    async def test_session_enders_are_never_retried(
        self, http: Any, fake_linkedin: FakeLinkedIn, kind: str, signal: str
    ) -> None:
        fake_linkedin.fail(kind)
        with pytest.raises(SessionExpired) as failure:
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert failure.value.signal == signal
        # No retry; a plain 403 is asked once more after choosing the contract again.
        assert len(fake_linkedin.searches) == (2 if kind == "403" else 1)

    async def test_a_seat_gone_mid_search(self, http: Any, fake_linkedin: FakeLinkedIn) -> None:
        fake_linkedin.fail("seat-required")
        with pytest.raises(SeatRequired):
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(fake_linkedin.searches) == 1

    async def test_one_self_redirect_rotating_cookies_is_followed(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 4)
        fake_linkedin.fail("self-redirect-rotate", times=1)
        page = await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(page.leads) == 4
        assert len(fake_linkedin.searches) == 2

    async def test_a_second_self_redirect_ends_the_session(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("self-redirect-rotate")
        with pytest.raises(SessionExpired) as failure:
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert failure.value.signal == "REDIRECTED"
        assert len(fake_linkedin.searches) == 2

    async def test_the_contract_chooser_selects_and_asks_again(
        self, http: Any, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 4)
        fake_linkedin.fail("redirect-contract-chooser", times=1)
        page = await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(page.leads) == 4
        assert fake_linkedin.selections == [CONTRACT, CONTRACT]
        assert len(fake_linkedin.searches) == 2

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
        http: Any,
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
        self, http: Any, fake_linkedin: FakeLinkedIn, kind: str
    ) -> None:
        fake_linkedin.fail(kind)
        with pytest.raises(UpstreamError, match="lead-search page 1"):
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(fake_linkedin.searches) == 3

    @pytest.mark.parametrize("kind", TRANSIENT)
    async def test_a_retry_can_succeed(
        self, http: Any, fake_linkedin: FakeLinkedIn, kind: str
    ) -> None:
        fake_linkedin.add_company("stripe", "2135371", 4)
        fake_linkedin.fail(kind, times=2)
        page = await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(page.leads) == 4
        assert len(fake_linkedin.searches) == 3

    @pytest.mark.parametrize("kind", ["400", "wrong-shape"])
    async def test_what_a_retry_cannot_mend_is_not_retried(
        self, http: Any, fake_linkedin: FakeLinkedIn, kind: str
    ) -> None:
        fake_linkedin.fail(kind)
        with pytest.raises(UpstreamError, match="lead-search page 1"):
            await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(fake_linkedin.searches) == 1

    async def test_a_stalled_request_times_out_and_is_retried(
        self, fake_linkedin: FakeLinkedIn
    ) -> None:
        fake_linkedin.fail("hang")
        async with LinkedInHttp(0.3).conversation() as http:
            with pytest.raises(UpstreamError, match="network error"):
                await stripe_provider(session_for(http, fake_linkedin)).fetch_page(QUERY, 0, 25)
        assert len(fake_linkedin.searches) == 3
