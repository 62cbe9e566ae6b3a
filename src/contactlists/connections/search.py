"""Running a search on the connection a create uses.

The sandbox is stateless. A LinkedIn seat needs its decrypted cookies, its lock,
its budget and its company ids first, and one deadline covers the company
lookups and every page.
"""

from __future__ import annotations

import asyncio
import time

from contactlists.connections import seats
from contactlists.connections import service as connections
from contactlists.core.auth import Principal
from contactlists.core.db import Database
from contactlists.core.settings import Settings
from contactlists.providers import get_provider
from contactlists.providers.base import LeadQuery, SearchResult, UpstreamTimeout, run_search
from contactlists.providers.linkedin import LazyHttpClient, LinkedInProvider


async def search(
    database: Database,
    principal: Principal,
    settings: Settings,
    http: LazyHttpClient,
    provider_name: str,
    query: LeadQuery,
) -> SearchResult:
    if provider_name != "linkedin":
        provider = get_provider(provider_name, settings)
        return await run_search(provider, query, timeout_s=settings.search_timeout_s)
    credentials = await connections.linkedin_credentials(database, principal, settings)
    session = connections.linkedin_session(http.get(), settings, credentials)
    account_id = principal.account_id
    async with seats.seat_lock(database, account_id, settings):
        await seats.ensure_budget(database, account_id, settings)
        deadline = time.monotonic() + settings.search_timeout_s
        try:
            async with asyncio.timeout(settings.search_timeout_s):
                company_ids = await seats.resolve_companies(database, session, query.company_urls)
        except TimeoutError as exc:
            raise UpstreamTimeout from exc
        provider = seats.PacedSeat(
            LinkedInProvider(session, company_ids),
            database,
            account_id,
            settings.linkedin_page_delay_ms,
        )
        result = await run_search(provider, query, timeout_s=deadline - time.monotonic())
    await connections.mark_verified(database, account_id)
    return result
