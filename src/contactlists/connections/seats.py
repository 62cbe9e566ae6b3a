"""How one LinkedIn seat may be used: serially, paced, within a daily budget.

A seat is an account's LinkedIn connection. Everything another worker must see
lives in the database, in short units of work of its own (never the create's
transaction, and no connection is held while LinkedIn answers):

- the seat lock: one search at a time across all workers; a waiting create
  polls for up to `CONTACTLISTS_SEARCH_LOCK_WAIT_S`, then gets 503
  `CONNECTION_BUSY`. A lock expires on its own after the search deadline plus a
  grace period, so a killed worker cannot wedge the seat;
- the daily page budget (UTC days): a search starts only if the seat has room
  for its worst case (`MAX_PAGES`), as credits are reserved, and every page is
  counted before it is requested, whether or not it then succeeds;
- the company-id cache: a company's id never changes, so each vanity name is
  looked up once, ever; lookups are not pages and cost no budget.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from contactlists.connections import seat_repository as repository
from contactlists.core.clock import utcnow
from contactlists.core.db import Database
from contactlists.core.errors import ConnectionBusy, UpstreamUnavailable
from contactlists.core.ids import new_id
from contactlists.core.settings import Settings
from contactlists.providers.base import (
    MAX_PAGES,
    LeadPage,
    LeadQuery,
    LeadSearchProvider,
    UnknownCompany,
)
from contactlists.providers.linkedin import LinkedInSession
from contactlists.providers.linkedin_query import numeric_company_id, universal_name

LOCK_GRACE_S = 30.0
LOCK_POLL_S = 0.25
_jitter = secrets.SystemRandom()


@asynccontextmanager
async def seat_lock(database: Database, account_id: str, settings: Settings) -> AsyncIterator[None]:
    holder = new_id("lock")
    ttl = timedelta(seconds=settings.search_timeout_s + LOCK_GRACE_S)
    give_up = time.monotonic() + settings.search_lock_wait_s
    while True:
        now = utcnow()
        async with database.transaction(write=True) as conn:
            held_until = await repository.try_lock(conn, account_id, holder, now, now + ttl)
        if held_until is None:
            break
        wait_left = give_up - time.monotonic()
        if wait_left <= 0:
            # The other search ends by its deadline: the lock's expiry less the grace.
            left = (held_until - now).total_seconds() - LOCK_GRACE_S
            raise ConnectionBusy(
                "Another search on this Sales Navigator seat is still running; retry shortly.",
                retry_after_s=max(1, math.ceil(left)),
            )
        await asyncio.sleep(min(LOCK_POLL_S, wait_left))
    try:
        yield
    finally:
        async with database.transaction(write=True) as conn:
            await repository.unlock(conn, account_id, holder)


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


async def ensure_budget(
    database: Database, account_id: str, settings: Settings, pages: int = MAX_PAGES
) -> None:
    now = utcnow()
    async with database.transaction() as conn:
        used = await repository.pages_used(conn, account_id, _day(now))
    limit = settings.linkedin_daily_pages
    if used + pages > limit:
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
        raise UpstreamUnavailable(
            f"This Sales Navigator seat has used {used} of its {limit} lead-search pages "
            f"today and a search may need {pages}; the budget resets at 00:00 UTC.",
            retry_after_s=max(1, math.ceil((tomorrow - now).total_seconds())),
            details={"pagesUsedToday": used, "dailyPageBudget": limit},
        )


async def resolve_companies(
    database: Database, session: LinkedInSession, company_urls: Collection[str]
) -> dict[str, str]:
    """Company page URL -> organization id for every vanity URL (numeric ones need none)."""
    names = {url: universal_name(url) for url in company_urls if not numeric_company_id(url)}
    if not names:
        return {}
    async with database.transaction() as conn:
        known = await repository.company_ids(conn, set(names.values()))
    resolved: dict[str, str] = {}
    for url, name in names.items():
        if name not in known:
            company_id = await session.lookup_company_id(name)
            if company_id is None:
                raise UnknownCompany(company_url=url)
            async with database.transaction(write=True) as conn:
                await repository.remember_company(conn, name, company_id, utcnow())
            known[name] = company_id
        resolved[url] = known[name]
    return resolved


class PacedSeat:
    """A provider as one seat may use it: a jittered pause between pages (±50%),
    and each page counted against the seat's day before it is requested."""

    def __init__(
        self, inner: LeadSearchProvider, database: Database, account_id: str, delay_ms: int
    ) -> None:
        self.name = inner.name
        self._inner = inner
        self._database = database
        self._account_id = account_id
        self._delay_s = delay_ms / 1000

    async def fetch_page(self, query: LeadQuery, start: int, count: int) -> LeadPage:
        if start > 0 and self._delay_s > 0:
            await asyncio.sleep(self._delay_s * _jitter.uniform(0.5, 1.5))
        async with self._database.transaction(write=True) as conn:
            await repository.add_page(conn, self._account_id, _day(utcnow()))
        return await self._inner.fetch_page(query, start, count)
