"""Running a search on the connection a create uses.

The sandbox is stateless. A LinkedIn seat first takes its lock, then reads its
stored session (so it always starts from the newest jar), checks its budget,
checks its seat on the first search of each UTC day, resolves its company ids,
and pages; every answer that changes the jar is stored before the next
request. One deadline covers the seat check, the company lookups and every
page.
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
from contactlists.providers.linkedin import LinkedInHttp, LinkedInProvider, LinkedInSession


async def search(
    database: Database,
    principal: Principal,
    settings: Settings,
    http: LinkedInHttp,
    provider_name: str,
    query: LeadQuery,
) -> SearchResult:
    if provider_name != "linkedin":
        provider = get_provider(provider_name, settings)
        return await run_search(provider, query, timeout_s=settings.search_timeout_s)
    account_id = principal.account_id
    async with seats.seat_lock(database, account_id, settings):
        store = await connections.load_seat(database, principal, settings)
        state = store.state
        await seats.ensure_budget(database, account_id, settings)
        deadline = time.monotonic() + settings.search_timeout_s
        async with http.conversation() as conversation:
            session = LinkedInSession(
                conversation,
                settings.linkedin_base_url,
                state.cookies,
                options=connections.session_options(settings, state.contract, retries=True),
                on_jar_change=store.save,
            )
            try:
                async with asyncio.timeout(settings.search_timeout_s):
                    if state.seat_checked_on != connections.today():
                        identity = await session.check_seat()
                        state.member_name = identity.member.name
                        state.member_public_identifier = identity.member.public_identifier
                        state.contract = identity.contract
                        state.seat_checked_on = connections.today()
                        await store.save()
                    company_ids = await seats.resolve_companies(
                        database, session, query.company_urls
                    )
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
