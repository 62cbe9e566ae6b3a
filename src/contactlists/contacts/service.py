"""The search preview: one window of a live lead search, charged like a create, stored nowhere.

The create's order and machinery: the search rate budget, the connection (not
connected is an empty 200, expired a 422), a credit reservation for the pages
the window covers, the search under the seat lock (`connections.search`), then
the charge settled in a transaction of its own. A failure releases the
reservation; nothing else is written but the seat's page count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from contactlists.connections import search as connection_search
from contactlists.connections import service as connections
from contactlists.contacts.schemas import RESULT_CAP, ContactSearch
from contactlists.core import metrics
from contactlists.core.auth import Principal
from contactlists.core.db import Database
from contactlists.core.errors import ApiError
from contactlists.core.settings import Settings
from contactlists.credits import service as credits
from contactlists.credits.service import Reservation
from contactlists.lists.columns import preview_out
from contactlists.lists.create import company_field
from contactlists.providers.base import PAGE_SIZE, SearchResult
from contactlists.providers.linkedin import LinkedInHttp
from contactlists.web.ratelimit import Budget, RequestLimits

logger = logging.getLogger("contactlists")


@dataclass(frozen=True, slots=True)
class SearchContext:
    database: Database
    principal: Principal
    settings: Settings
    http: LinkedInHttp
    limits: RequestLimits
    request_id: str
    body: ContactSearch


def pages_covering(offset: int, limit: int) -> tuple[int, int]:
    """The first upstream page (of 25) of `[offset, offset + limit)` and how many."""
    first = offset // PAGE_SIZE
    return first, (offset + limit - 1) // PAGE_SIZE - first + 1


async def search_contacts(ctx: SearchContext) -> dict[str, Any]:
    body, principal, database = ctx.body, ctx.principal, ctx.database
    limit, offset = body.page_limit, body.offset
    await ctx.limits.spend(Budget.SEARCHES, principal.account_id)
    provider_name = await connections.connected_provider(database, principal)
    if provider_name is None:
        return _page([], 0, limit, offset, connected=False)
    first_page, pages = pages_covering(offset, limit)
    ttl = connection_search.hold_ttl(ctx.settings)
    cost_per_page = ctx.settings.credits_per_page
    reservation = await credits.reserve(
        database, principal, pages * cost_per_page, ctx.request_id, ttl
    )
    try:
        result = await connection_search.search_or_fail(
            database,
            principal,
            ctx.settings,
            ctx.http,
            provider_name,
            body.lead_query(body.first_name, body.last_name),
            company_field=lambda url: company_field(body.company_linked_in_urls, url, ""),
            first_page=first_page,
            max_pages=pages,
        )
    except BaseException as failure:
        await _release(database, reservation, failure)
        raise
    if reservation is not None:
        cost = result.pages_with_leads * cost_per_page
        async with database.transaction(write=True) as conn:
            await credits.settle(
                conn, reservation, cost, result.pages_with_leads, None, what="contact search"
            )
        metrics.credits_charged(cost)
    skip = offset - first_page * PAGE_SIZE
    leads = result.leads[skip : skip + limit]
    return _page([preview_out(lead) for lead in leads], _total(result, first_page), limit, offset)


def _total(result: SearchResult, first_page: int) -> int:
    """The upstream's count; without one, what the pages showed."""
    if result.total is None:
        return first_page * PAGE_SIZE + len(result.leads)
    return min(result.total, RESULT_CAP)


def _page(
    items: list[dict[str, Any]], total: int, limit: int, offset: int, *, connected: bool = True
) -> dict[str, Any]:
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "offset": offset,
        "hasMore": offset + len(items) < total,
        "salesNavConnected": connected,
    }


async def _release(
    database: Database, reservation: Reservation | None, failure: BaseException
) -> None:
    if reservation is None:
        return
    cause = failure.error_code if isinstance(failure, ApiError) else type(failure).__name__
    try:
        async with database.transaction(write=True) as conn:
            await credits.release(conn, reservation, f"contact search failed: {cause}")
    except Exception:
        logger.warning("a failed search's reservation is left to expire", exc_info=True)
