import gc
import os
import re
import subprocess
import sys
import time
import tracemalloc
from collections import Counter

import pytest

from contactlists.providers import sandbox
from contactlists.providers.base import (
    Lead,
    LeadPage,
    LeadQuery,
    LeadSearchProvider,
    ProviderError,
    SessionExpired,
    UnknownCompany,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    run_search,
)
from contactlists.providers.countries import supported_countries
from contactlists.providers.sandbox import (
    MAX_POPULATION,
    SandboxPerson,
    SandboxProvider,
    company_display_name,
    company_population,
)

COMPANY_IDS = [f"company-{i}" for i in range(200)]


def url(company_id: str) -> str:
    return f"https://www.linkedin.com/company/{company_id}"


def query(*company_ids: str, **filters: object) -> LeadQuery:
    return LeadQuery(tuple(url(c) for c in company_ids), **filters)  # type: ignore[arg-type]


def big_company(minimum: int = 200) -> str:
    return next(c for c in COMPANY_IDS if len(company_population(c)) >= minimum)


def people_by_id(*company_ids: str) -> dict[str, SandboxPerson]:
    return {p.profile_id: p for c in company_ids for p in company_population(c)}


async def fetch_all(provider: SandboxProvider, q: LeadQuery, count: int = 25) -> list[Lead]:
    leads: list[Lead] = []
    start = 0
    while True:
        page = await provider.fetch_page(q, start, count)
        leads.extend(page.leads)
        if len(page.leads) < count:
            return leads
        start += count


class RecordingProvider:
    """Wraps the sandbox to see which pages `run_search` asked for."""

    name = "recording"

    def __init__(self) -> None:
        self.inner = SandboxProvider()
        self.starts: list[int] = []
        self.pages: list[LeadPage] = []  # the pages served, not those that raised

    async def fetch_page(self, query: LeadQuery, start: int, count: int) -> LeadPage:
        self.starts.append(start)
        page = await self.inner.fetch_page(query, start, count)
        self.pages.append(page)
        return page


def test_satisfies_the_provider_protocol() -> None:
    provider: LeadSearchProvider = SandboxProvider()
    assert provider.name == "sandbox"


def test_rejects_negative_latency() -> None:
    with pytest.raises(ValueError, match="latency_ms"):
        SandboxProvider(latency_ms=-1)


class TestPopulations:
    def test_same_people_in_another_process(self) -> None:
        # A fresh interpreter with another hash seed: nothing may depend on `hash()`
        # or on set order, in our code or in Faker's locale data.
        script = (
            "from contactlists.providers.sandbox import company_population as p; "
            f"print(repr([p(c) for c in {COMPANY_IDS[:60]!r}]))"
        )
        out = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": "12345"},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == repr([company_population(c) for c in COMPANY_IDS[:60]])

    def test_different_companies_different_people(self) -> None:
        a, b = [c for c in COMPANY_IDS if company_population(c)][:2]
        assert not people_by_id(a).keys() & people_by_id(b).keys()

    def test_sizes_span_empty_to_beyond_the_cap(self) -> None:
        sizes = [len(company_population(c)) for c in COMPANY_IDS]
        assert min(sizes) == 0
        assert max(sizes) > 125
        assert max(sizes) <= MAX_POPULATION
        assert 2 <= sizes.count(0) <= 25  # about 5% of 200
        assert len({s for s in sizes if 0 < s <= 125}) >= 50  # many list sizes occur

    def test_titles_are_varied_and_mostly_individual_contributors(self) -> None:
        titles = Counter(p.title for c in COMPANY_IDS for p in company_population(c))
        assert len(titles) >= 150
        chiefs = sum(n for t, n in titles.items() if t in {"CEO", "CTO", "CFO", "COO", "CMO"})
        assert chiefs < titles.total() * 0.02

    def test_people_look_like_linkedin_members(self) -> None:
        people = [p for c in COMPANY_IDS for p in company_population(c)]
        assert len({p.profile_id for p in people}) == len(people)
        for person in people:
            assert re.fullmatch(r"ACwAA[A-Za-z0-9_-]{34}", person.profile_id)
            assert person.first_name
            assert person.title
            assert person.country_code in supported_countries()
            assert person.public_profile_url is None or re.fullmatch(
                r"https://www\.linkedin\.com/in/[a-z0-9-]+", person.public_profile_url
            )
            if person.location is not None:
                assert person.location.endswith(supported_countries()[person.country_code].name)
        missing_url = sum(p.public_profile_url is None for p in people) / len(people)
        assert 0.05 < missing_url < 0.15
        assert any(p.last_name is None for p in people)
        assert any(p.location is None for p in people)
        assert {p.country_code for p in people} >= {"US", "GB", "DE", "FR", "IN"}

    def test_company_display_names(self) -> None:
        assert company_display_name("stripe") == "Stripe"
        assert company_display_name("acme-corp") == "Acme Corp"
        numeric = company_display_name("2135371")
        assert numeric == company_display_name("2135371")
        assert not numeric.isdigit()


class TestFetchPage:
    async def test_same_query_same_leads(self) -> None:
        q = query(big_company(), job_titles=("engineer",))
        assert await fetch_all(SandboxProvider(), q) == await fetch_all(SandboxProvider(), q)

    async def test_leads_carry_the_person(self) -> None:
        company = big_company()
        leads = await fetch_all(SandboxProvider(), query(company))
        people = people_by_id(company)
        assert [lead.profile_id for lead in leads] == list(people)
        for lead in leads:
            person = people[lead.profile_id]
            assert lead.profile_urn is not None
            assert re.fullmatch(
                rf"urn:li:fs_salesProfile:\({lead.profile_id},NAME_SEARCH,[\w-]{{4}}\)",
                lead.profile_urn,
            )
            assert lead.full_name == person.full_name
            assert (lead.first_name, lead.last_name) == (person.first_name, person.last_name)
            assert (lead.title, lead.headline) == (person.title, person.headline)
            assert lead.company_name == person.company_name == company_display_name(company)
            assert lead.location == person.location
            assert lead.public_profile_url == person.public_profile_url

    async def test_job_title_filter(self) -> None:
        company = big_company()
        leads = await fetch_all(SandboxProvider(), query(company, job_titles=("ENGINEER",)))
        expected = [p for p in company_population(company) if "engineer" in p.title.lower()]
        assert leads
        assert [lead.profile_id for lead in leads] == [p.profile_id for p in expected]

    async def test_job_title_filter_matches_all_words_in_any_order(self) -> None:
        leads = [
            lead
            for company in COMPANY_IDS[:40]
            for lead in await fetch_all(
                SandboxProvider(), query(company, job_titles=("manager engineering", "xyz"))
            )
        ]
        assert leads
        for lead in leads:
            assert lead.title is not None
            assert {"engineering", "manager"} <= set(lead.title.lower().replace(",", "").split())
        assert any(lead.title == "Manager, Engineering" for lead in leads)

    async def test_country_filter(self) -> None:
        company = big_company()
        leads = await fetch_all(SandboxProvider(), query(company, countries=("DE", "FR", "US")))
        people = people_by_id(company)
        assert leads
        assert len(leads) < len(people)
        assert {people[lead.profile_id].country_code for lead in leads} <= {"DE", "FR", "US"}
        names = ("Germany", "France", "United States")
        assert all(lead.location is None or lead.location.endswith(names) for lead in leads)

    async def test_keywords_filter(self) -> None:
        company = big_company()
        leads = await fetch_all(SandboxProvider(), query(company, keywords="senior ENGINEER"))
        assert leads
        for lead in leads:
            text = f"{lead.title} {lead.headline} {lead.company_name}".lower()
            assert "senior" in text
            assert "engineer" in text

    async def test_keyword_in_company_name_matches_everyone(self) -> None:
        company = big_company()
        leads = await fetch_all(
            SandboxProvider(), query(company, keywords=company_display_name(company).upper())
        )
        assert len(leads) == len(company_population(company))

    async def test_filters_combine(self) -> None:
        company = big_company()
        one = await fetch_all(SandboxProvider(), query(company, job_titles=("engineer",)))
        both = await fetch_all(
            SandboxProvider(), query(company, job_titles=("engineer",), countries=("US",))
        )
        assert {lead.profile_id for lead in both} < {lead.profile_id for lead in one}

    async def test_pages_partition_the_result(self) -> None:
        company = big_company()
        q = query(company, job_titles=("engineer", "manager"))
        everything = await SandboxProvider().fetch_page(q, 0, 1000)
        assert everything.total == len(everything.leads)
        pages = [await SandboxProvider().fetch_page(q, s, 7) for s in range(0, 1000, 7)]
        assert all(page.total == everything.total for page in pages)
        assert [lead for page in pages for lead in page.leads] == list(everything.leads)

    async def test_page_past_the_end_is_empty_with_the_total(self) -> None:
        page = await SandboxProvider().fetch_page(query(big_company()), 10_000, 25)
        assert page.leads == ()
        assert page.total == len(company_population(big_company()))

    async def test_several_companies_are_interleaved(self) -> None:
        a, b = [c for c in COMPANY_IDS if len(company_population(c)) >= 10][:2]
        leads = await fetch_all(SandboxProvider(), query(a, b))
        names = [lead.company_name for lead in leads]
        assert len(leads) == len(company_population(a)) + len(company_population(b))
        assert names[:4] == [company_display_name(c) for c in (a, b, a, b)]

    async def test_same_company_twice_counts_once(self) -> None:
        company = big_company()
        q = LeadQuery((url(company), f"https://www.linkedin.com/sales/company/{company}"))
        page = await SandboxProvider().fetch_page(q, 0, 25)
        assert page.total == len(company_population(company))

    async def test_search_token_changes_but_profile_id_does_not(self) -> None:
        company = big_company()
        plain = await SandboxProvider().fetch_page(query(company), 0, 25)
        filtered = await SandboxProvider().fetch_page(
            query(company, keywords=company_display_name(company)), 0, 25
        )
        assert [lead.profile_id for lead in plain.leads] == [
            lead.profile_id for lead in filtered.leads
        ]
        assert [lead.profile_urn for lead in plain.leads] != [
            lead.profile_urn for lead in filtered.leads
        ]

    async def test_latency_is_added_per_page(self) -> None:
        provider = SandboxProvider(latency_ms=50)
        started = time.monotonic()
        await provider.fetch_page(query("stripe"), 0, 25)
        assert time.monotonic() - started >= 0.049  # asyncio may wake a hair early


FAILURES: list[tuple[str, type[ProviderError]]] = [
    ("upstream-error", UpstreamError),
    ("rate-limited", UpstreamRateLimited),
    ("session-expired", SessionExpired),
    ("timeout", UpstreamTimeout),
    ("unknown-company", UnknownCompany),
]


class TestMagicCompanies:
    @pytest.mark.parametrize(("magic", "error"), FAILURES)
    @pytest.mark.parametrize("page", [None, 1, 2, 3, 4, 5])
    async def test_failure_on_page_n(
        self, magic: str, error: type[ProviderError], page: int | None
    ) -> None:
        company = f"sandbox-{magic}" if page is None else f"sandbox-{magic}-page-{page}"
        provider = RecordingProvider()
        with pytest.raises(error) as raised:
            await run_search(provider, query(company, job_titles=("engineer",)), timeout_s=5)
        failing = page or 1
        assert provider.starts == [25 * n for n in range(failing)]
        if isinstance(raised.value, UpstreamRateLimited):
            assert raised.value.retry_after_s == 30

    async def test_pages_before_the_failure_are_full_and_match(self) -> None:
        q = query("sandbox-upstream-error-page-3", countries=("GB",), keywords="payments")
        provider = SandboxProvider()
        for start in (0, 25):
            page = await provider.fetch_page(q, start, 25)
            assert len(page.leads) == 25
            assert all(lead.headline and "payments" in lead.headline for lead in page.leads)
        with pytest.raises(UpstreamError):
            await provider.fetch_page(q, 50, 25)
        with pytest.raises(UpstreamError):
            await provider.fetch_page(q, 75, 25)

    async def test_failure_page_follows_the_page_size(self) -> None:
        provider = SandboxProvider()
        q = query("sandbox-timeout-page-2")
        assert len((await provider.fetch_page(q, 0, 10)).leads) == 10
        with pytest.raises(UpstreamTimeout):
            await provider.fetch_page(q, 10, 10)

    async def test_failure_beside_an_ordinary_company(self) -> None:
        provider = RecordingProvider()
        with pytest.raises(SessionExpired):
            await run_search(provider, query("stripe", "sandbox-session-expired"), timeout_s=5)
        assert provider.starts == [0]

    async def test_unknown_company_names_its_url(self) -> None:
        provider = RecordingProvider()
        unknown = "https://www.linkedin.com/sales/company/sandbox-unknown-company"
        q = LeadQuery((url("stripe"), unknown), keywords="x")
        with pytest.raises(UnknownCompany) as raised:
            await run_search(provider, q, timeout_s=5)
        assert raised.value.company_url == unknown
        assert provider.starts == [0]

    @pytest.mark.parametrize("page", [1, 2, 3, 4, 5])
    async def test_unknown_company_on_page_n(self, page: int) -> None:
        provider = RecordingProvider()
        unknown = f"https://www.linkedin.com/sales/company/sandbox-unknown-company-page-{page}/"
        q = LeadQuery(
            (url("sandbox-exact-3"), unknown),
            job_titles=("Head of Growth",),
            countries=("FR",),
            keywords="fintech",
        )
        with pytest.raises(UnknownCompany) as raised:
            await run_search(provider, q, timeout_s=5)
        assert raised.value.company_url == unknown  # as given, not re-normalised
        assert provider.starts == [25 * n for n in range(page)]
        assert len(provider.pages) == page - 1
        for served in provider.pages:
            assert len(served.leads) == 25
            for lead in served.leads:
                assert lead.title == "Head of Growth"
                assert lead.headline is not None
                assert "fintech" in lead.headline
                assert lead.location is None or lead.location.endswith("France")
        later = SandboxProvider()
        for start in range(25 * (page - 1), 125, 25):
            with pytest.raises(UnknownCompany):
                await later.fetch_page(q, start, 25)

    async def test_unknown_company_beyond_page_5_is_an_ordinary_company(self) -> None:
        page = await SandboxProvider().fetch_page(query("sandbox-unknown-company-page-6"), 0, 25)
        assert page.total == len(company_population("sandbox-unknown-company-page-6"))

    @pytest.mark.parametrize(
        ("size", "captured", "pages"),
        [(0, 0, 1), (1, 1, 1), (25, 25, 1), (30, 30, 2), (125, 125, 5), (200, 125, 5)],
    )
    async def test_exact_size(self, size: int, captured: int, pages: int) -> None:
        q = query(
            f"sandbox-exact-{size}",
            job_titles=("Head of Growth", "CTO"),
            countries=("DE", "BR"),
            keywords="B2B saas",
        )
        result = await run_search(SandboxProvider(), q, timeout_s=5)
        assert len(result.leads) == captured
        assert result.pages_fetched == pages
        for lead in result.leads:
            assert lead.title == "Head of Growth"
            assert lead.headline is not None
            assert "B2B saas" in lead.headline
            assert lead.location is None or lead.location.endswith(("Germany", "Brazil"))
        first = await SandboxProvider().fetch_page(q, 0, 25)
        assert first.total == size

    async def test_exact_without_filters_uses_the_taxonomy(self) -> None:
        page = await SandboxProvider().fetch_page(query("sandbox-exact-30"), 0, 50)
        assert len(page.leads) == 30
        assert len({lead.title for lead in page.leads}) > 5

    async def test_exact_people_keep_their_ids_whatever_the_query(self) -> None:
        provider = SandboxProvider()
        plain = await provider.fetch_page(query("sandbox-exact-30"), 0, 50)
        filtered = await provider.fetch_page(
            query("sandbox-exact-30", job_titles=("CFO",), countries=("FR",)), 0, 50
        )
        assert [lead.profile_id for lead in plain.leads] == [
            lead.profile_id for lead in filtered.leads
        ]

    async def test_exact_beyond_500_is_an_ordinary_company(self) -> None:
        page = await SandboxProvider().fetch_page(query("sandbox-exact-501"), 0, 25)
        assert page.total == len(company_population("sandbox-exact-501"))

    async def test_duplicates_repeat_people_across_pages(self) -> None:
        provider = SandboxProvider()
        q = query("sandbox-duplicates", job_titles=("Account Executive",))
        first = await provider.fetch_page(q, 0, 25)
        second = await provider.fetch_page(q, 25, 25)
        assert first.total == second.total == 45
        assert len(first.leads) == 25
        assert len(second.leads) == 20
        assert second.leads[:5] == first.leads[20:]
        assert all(lead.title == "Account Executive" for lead in first.leads + second.leads)

    async def test_duplicates_are_dropped_by_run_search(self) -> None:
        result = await run_search(SandboxProvider(), query("sandbox-duplicates"), timeout_s=5)
        assert len(result.leads) == 40
        assert len({lead.profile_id for lead in result.leads}) == 40
        assert result.pages_fetched == 2


async def test_memory_is_bounded_by_bytes_not_companies(monkeypatch: pytest.MonkeyPatch) -> None:
    """300 companies (about 30 MB of generated people were kept) stay under a 4 MiB bound."""
    bound = 4 * 1024 * 1024
    monkeypatch.setattr(sandbox._CACHE, "max_bytes", bound)
    provider = SandboxProvider()
    for i in range(0, 200, 10):  # every locale's Faker, loaded once for good
        await provider.fetch_page(query(*(f"warm-up-{j}" for j in range(i, i + 10))), 0, 25)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(0, 300, 10):
            await provider.fetch_page(query(*(f"flood-{j}" for j in range(i, i + 10))), 0, 25)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown <= bound + 2 * 1024 * 1024, f"{grown / 2**20:.0f} MiB kept"
