"""The create flow: one contact list from a live lead search, stored atomically.

A refresh is the same flow: the filters and name come from a stored list, and
the new list names it in `refreshed_from`.

The contract's order: idempotency replay or conflict, the create rate limit,
the connection, the credit reservation, the search with no transaction open,
then one write transaction. A failure gives back the claim and reservation.
It coordinates several domains (idempotency, credits, connections, the
provider), so it lives apart from the single-list rules in `service`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contactlists.connections import search as connection_search
from contactlists.connections import service as connections
from contactlists.core import metrics
from contactlists.core.auth import Principal
from contactlists.core.clock import utcnow
from contactlists.core.db import Database
from contactlists.core.errors import (
    ApiError,
)
from contactlists.core.ids import new_id
from contactlists.core.settings import Settings
from contactlists.credits import service as credits
from contactlists.credits.service import Reservation
from contactlists.idempotency import service as idempotency
from contactlists.idempotency.service import Claim, IdempotencyKey, StoredResponse
from contactlists.lists import repository, service
from contactlists.lists.columns import lead_values, list_out_from
from contactlists.lists.schemas import ListFilters
from contactlists.providers.base import (
    MAX_PAGES,
    Lead,
    SearchResult,
)
from contactlists.providers.linkedin import LinkedInHttp
from contactlists.web.ratelimit import Budget, RequestLimits

logger = logging.getLogger("contactlists")


@dataclass(frozen=True, slots=True)
class ListSpec:
    """What a create searches for and stores: a request's body, or a refreshed list's."""

    name: str
    filters: ListFilters
    refreshed_from: str | None = None


@dataclass(slots=True)
class CreateContext:
    """One create: who asks for what, through what, and what it holds so far."""

    database: Database
    principal: Principal
    settings: Settings
    http: LinkedInHttp
    limits: RequestLimits
    request_id: str
    spec: ListSpec
    idempotency_key: IdempotencyKey | None = None
    # Filled in as the flow goes; released by `_abandon` if it fails.
    claim: Claim | None = None
    reservation: Reservation | None = None
    provider_name: str = ""


@dataclass(frozen=True, slots=True)
class Created:
    """A create's 201 body, and whether it is an idempotent replay."""

    body: dict[str, Any]
    replayed: bool


async def refresh_spec(database: Database, principal: Principal, list_id: str) -> ListSpec:
    """What a refresh of the caller's list searches for: its name and stored filters."""
    async with database.transaction() as conn:
        found = await repository.read_search(conn, principal, service.checked(list_id))
    if found is None:
        raise service.not_found(list_id)
    name, filters = found
    # Stored as normalised, so they validate as they did when the list was made.
    return ListSpec(name, ListFilters.model_validate(filters), refreshed_from=list_id)


async def create_list(ctx: CreateContext) -> Created:
    settings, principal, database = ctx.settings, ctx.principal, ctx.database
    ttl = connection_search.hold_ttl(settings)
    if ctx.idempotency_key is not None:
        claimed = await idempotency.claim(database, principal, ctx.idempotency_key, ttl)
        if isinstance(claimed, StoredResponse):
            return Created(claimed.body, replayed=True)
        ctx.claim = claimed
    try:
        await ctx.limits.spend(Budget.CREATES, principal.account_id)
        ctx.provider_name = await connections.provider_for(database, principal)
        ctx.reservation = await credits.reserve(
            database, principal, MAX_PAGES * settings.credits_per_page, ctx.request_id, ttl
        )
        created = await _store(ctx, await _search(ctx))
    except BaseException as failure:
        await _abandon(ctx, failure)
        raise
    return Created(created, replayed=False)


def company_field(urls: list[str] | None, company_url: str, prefix: str = "filters.") -> str:
    """The request field naming `company_url` among the filters' company URLs."""
    urls = urls or []
    index = urls.index(company_url) if company_url in urls else 0
    return f"{prefix}companyLinkedInUrls[{index}]"


async def _search(ctx: CreateContext) -> SearchResult:
    filters = ctx.spec.filters
    return await connection_search.search_or_fail(
        ctx.database,
        ctx.principal,
        ctx.settings,
        ctx.http,
        ctx.provider_name,
        filters.lead_query(),
        company_field=lambda url: company_field(filters.company_linked_in_urls, url),
    )


async def _abandon(ctx: CreateContext, failure: BaseException) -> None:
    """Give back what a failed create held; whatever cannot be given back expires."""
    if ctx.reservation is None and ctx.claim is None:
        return
    cause = failure.error_code if isinstance(failure, ApiError) else type(failure).__name__
    try:
        async with ctx.database.transaction(write=True) as conn:
            if ctx.reservation is not None:
                await credits.release(conn, ctx.reservation, f"create failed: {cause}")
            if ctx.claim is not None:
                await idempotency.release(conn, ctx.claim)
    except Exception:
        logger.warning("a failed create's holds are left to expire", exc_info=True)


def _base_contact_row(principal: Principal, lead: Lead, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id("bc"),
        "account_id": principal.account_id,
        "mode": principal.mode,
        "profile_id": lead.profile_id,
        "profile_urn": lead.profile_urn,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "full_name": lead.full_name,
        "title": lead.title,
        "company_name": lead.company_name,
        "location": lead.location,
        "headline": lead.headline,
        "public_profile_url": lead.public_profile_url,
        "created_at": now,
        "updated_at": now,
    }


async def _store(ctx: CreateContext, result: SearchResult) -> dict[str, Any]:
    """The list, its people, the settled charge, the stored 201 and the account's
    new lists version: one transaction."""
    principal, now = ctx.principal, utcnow()
    list_id = new_id("cl")
    list_values = {
        "id": list_id,
        "account_id": principal.account_id,
        "mode": principal.mode,
        "name": ctx.spec.name,
        "filters": ctx.spec.filters.echo(),
        "provider": ctx.provider_name,
        "refreshed_from": ctx.spec.refreshed_from,
        "contact_count": len(result.leads),
        "created_at": now,
        "updated_at": now,
    }
    # Rows are built before the write transaction: SQLite has one writer, and
    # what runs while it is held delays every other create's commit.
    people = [_base_contact_row(principal, lead, now) for lead in result.leads]
    items = [
        {
            "id": new_id("ci"),
            "list_id": list_id,
            "position": position,
            "created_at": now,
            **lead_values(lead),
        }
        for position, lead in enumerate(result.leads)
    ]
    cost = 0
    async with ctx.database.transaction(write=True) as conn:
        await repository.bump_lists_version(conn, principal.account_id)
        await repository.insert_list(conn, list_values)
        ids = await repository.upsert_base_contacts(conn, people)
        for item, lead in zip(items, result.leads, strict=True):
            item["base_contact_id"] = ids[lead.profile_id]
        await repository.insert_items(conn, items)
        if ctx.reservation is not None:
            cost = result.pages_with_leads * ctx.settings.credits_per_page
            await credits.settle(conn, ctx.reservation, cost, result.pages_with_leads, list_id)
        created = list_out_from(list_values)
        if ctx.claim is not None:
            await idempotency.complete(conn, ctx.claim, StoredResponse(201, created), list_id)
    metrics.credits_charged(cost)
    return created
