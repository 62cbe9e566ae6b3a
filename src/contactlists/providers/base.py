"""The lead-search provider protocol, its value types and its typed errors.

Providers know nothing of the database: they turn a `LeadQuery` into pages of
`Lead`s. The paging rules of the contract (up to 5 pages of 25, one after
another, stop at the first short page, one deadline for the whole search) live
here in `run_search`, once, so every provider obeys them identically.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Protocol

from contactlists.core import metrics

PAGE_SIZE = 25
MAX_PAGES = 5


@dataclass(frozen=True, slots=True)
class LeadQuery:
    """A normalised search: company URLs as the contract canonicalises them."""

    company_urls: tuple[str, ...]
    job_titles: tuple[str, ...] = ()
    keywords: str | None = None
    countries: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()  # canonical names (`facets.DEPARTMENT_IDS`)
    seniority_levels: tuple[str, ...] = ()  # the contract's values
    first_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True, slots=True)
class Lead:
    """One person as the upstream returned them; `None` where it said nothing."""

    profile_id: str
    profile_urn: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    title: str | None = None
    company_name: str | None = None
    location: str | None = None
    headline: str | None = None
    public_profile_url: str | None = None
    # Sales Navigator's own seniority facet ids, when the result carries them.
    seniority_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class LeadPage:
    leads: tuple[Lead, ...]
    total: int | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Deduplicated leads in upstream order, and what the search cost."""

    leads: tuple[Lead, ...]
    pages_fetched: int
    pages_with_leads: int
    total: int | None = None  # the upstream's match count, as its last page said


class LeadSearchProvider(Protocol):
    """One upstream. `fetch_page` is called sequentially, never concurrently."""

    name: str

    async def fetch_page(self, query: LeadQuery, start: int, count: int) -> LeadPage: ...


class ProviderError(Exception):
    """Base of every failure a provider reports; mapped to HTTP by the service."""


class UpstreamError(ProviderError):
    """The upstream failed (5xx, malformed body, reset) after retries."""


@dataclass
class UpstreamRateLimited(ProviderError):
    """The upstream throttled the seat, or its daily page budget is spent."""

    retry_after_s: int = 60


class SessionExpired(ProviderError):
    """The connection's credentials no longer work; `signal` says how LinkedIn
    ended the session (`SESSION_ENDED`, `LOGIN_WALL`, `CSRF_REJECTED`, …) and
    `str()` is the connection's `lastError`: the signal, then the detail."""

    def __init__(self, signal: str, detail: str) -> None:
        super().__init__(f"{signal}: {detail}")
        self.signal = signal


class SeatRequired(ProviderError):
    """The member has no usable Sales Navigator seat: none at all, or several
    contracts and none chosen (`contracts` names them)."""

    def __init__(self, detail: str, *, contracts: list[str] | None = None) -> None:
        super().__init__(f"SALES_NAVIGATOR_SEAT_REQUIRED: {detail}")
        self.detail = detail
        self.contracts = contracts


class UpstreamTimeout(ProviderError):
    """The whole search missed its deadline."""


@dataclass
class UnknownCompany(ProviderError):
    """The upstream does not know this company; `company_url` is as normalised."""

    company_url: str = ""
    extra: dict[str, str] = field(default_factory=dict)


async def run_search(
    provider: LeadSearchProvider,
    query: LeadQuery,
    *,
    timeout_s: float,
    max_pages: int = MAX_PAGES,
    page_size: int = PAGE_SIZE,
    first_page: int = 0,
) -> SearchResult:
    """Fetch up to `max_pages` pages from `first_page` one after another under one deadline.

    Stops at an empty page, or once the next page would start at or past the
    upstream's `total`. A short page before that does not end the search:
    Sales Navigator sometimes returns fewer than asked before the end. Leads
    are deduplicated by profile id across pages, keeping the first
    occurrence, so upstream order is preserved.
    """
    deadline = time.monotonic() + timeout_s
    seen: set[str] = set()
    leads: list[Lead] = []
    pages_fetched = 0
    pages_with_leads = 0
    total = None
    for page_number in range(first_page, first_page + max_pages):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UpstreamTimeout
        start = page_number * page_size
        try:
            async with asyncio.timeout(remaining):
                page = await provider.fetch_page(query, start, page_size)
        except TimeoutError as exc:
            raise UpstreamTimeout from exc
        pages_fetched += 1
        total = page.total
        metrics.page_fetched(provider.name)
        if not page.leads:
            break
        pages_with_leads += 1
        for lead in page.leads:
            if lead.profile_id not in seen:
                seen.add(lead.profile_id)
                leads.append(lead)
        if page.total is not None and start + page_size >= page.total:
            break
        if page.total is None and len(page.leads) < page_size:
            break
    return SearchResult(tuple(leads), pages_fetched, pages_with_leads, total)
