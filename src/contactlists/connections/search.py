"""Running a search on the connection a create (or a preview) uses.

The sandbox is stateless. A LinkedIn seat first takes its lock, then reads its
stored session (so it always starts from the newest jar), checks its budget,
checks its seat on the first search of each UTC day, resolves its company ids,
and pages; every answer that changes the jar is stored before the next
request. One deadline covers the seat check, the company lookups and every
page. `search_or_fail` maps the providers' typed failures onto the contract's
errors, the same for every caller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

from contactlists.connections import seats
from contactlists.connections import service as connections
from contactlists.core import metrics
from contactlists.core.auth import Principal
from contactlists.core.db import Database
from contactlists.core.errors import (
    ApiError,
    FieldError,
    SalesNavigatorSessionExpired,
    ValidationFailed,
)
from contactlists.core.settings import Settings
from contactlists.providers import get_provider
from contactlists.providers.base import (
    MAX_PAGES,
    LeadQuery,
    ProviderError,
    SearchResult,
    SeatRequired,
    SessionExpired,
    UnknownCompany,
    UpstreamTimeout,
    run_search,
)
from contactlists.providers.linkedin import LinkedInHttp, LinkedInProvider, LinkedInSession

# How long an idempotency claim or credit reservation outlives the longest a
# search can run (the seat lock wait and the search deadline) before it expires.
ABANDONED_GRACE = timedelta(seconds=30)


def hold_ttl(settings: Settings) -> timedelta:
    """How long what a search holds (a claim, a reservation) lives if it is never given back."""
    return timedelta(seconds=settings.search_lock_wait_s + settings.search_timeout_s) + (
        ABANDONED_GRACE
    )


async def search(
    database: Database,
    principal: Principal,
    settings: Settings,
    http: LinkedInHttp,
    provider_name: str,
    query: LeadQuery,
    *,
    first_page: int = 0,
    max_pages: int = MAX_PAGES,
) -> SearchResult:
    pages = {"first_page": first_page, "max_pages": max_pages}
    if provider_name != "linkedin":
        provider = get_provider(provider_name, settings)
        return await run_search(provider, query, timeout_s=settings.search_timeout_s, **pages)
    account_id = principal.account_id
    async with seats.seat_lock(database, account_id, settings):
        store = await connections.load_seat(database, principal, settings)
        state = store.state
        await seats.ensure_budget(database, account_id, settings, max_pages)
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
            left = deadline - time.monotonic()
            result = await run_search(provider, query, timeout_s=left, **pages)
    await connections.mark_verified(database, account_id)
    return result


async def search_or_fail(
    database: Database,
    principal: Principal,
    settings: Settings,
    http: LinkedInHttp,
    provider_name: str,
    query: LeadQuery,
    *,
    company_field: Callable[[str], str],
    first_page: int = 0,
    max_pages: int = MAX_PAGES,
) -> SearchResult:
    """`search`, its typed failures as the contract's errors; `company_field` names
    the request field of a company the upstream does not know."""
    failure: ApiError
    try:
        with metrics.observe_search(provider_name):
            return await search(
                database,
                principal,
                settings,
                http,
                provider_name,
                query,
                first_page=first_page,
                max_pages=max_pages,
            )
    except UnknownCompany as exc:
        message = f"LinkedIn does not know the company {exc.company_url!r}."
        failure = ValidationFailed(
            message,
            error_code="UNKNOWN_COMPANY",
            fields=[FieldError(company_field(exc.company_url), message)],
        )
    except SessionExpired as exc:
        await connections.expire(database, principal, str(exc))
        failure = SalesNavigatorSessionExpired(connections.SESSION_EXPIRED_MESSAGE)
    except SeatRequired as exc:
        await connections.expire(database, principal, str(exc))
        failure = connections.seat_required(exc)
    except ProviderError as exc:
        failure = connections.upstream_failure(exc, settings)
    raise failure
