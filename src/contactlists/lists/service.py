"""The rules of contact lists: create, read, rename, delete.

Every function takes the `Database` and opens its own short units of work, so
that the create flow can hold no connection while the upstream search runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from contactlists import metrics
from contactlists.auth import Principal
from contactlists.connections import search as connection_search
from contactlists.connections import service as connections
from contactlists.credits import service as credits
from contactlists.credits.service import Reservation
from contactlists.db import Database
from contactlists.errors import (
    ApiError,
    FieldError,
    NotFound,
    SessionExpiredError,
    ValidationFailed,
)
from contactlists.idempotency import service as idempotency
from contactlists.idempotency.service import Claim, IdempotencyKey, StoredResponse
from contactlists.lists import repository
from contactlists.lists.page_cache import CachedPage, PageCache, etag_of
from contactlists.lists.schemas import ListCreate
from contactlists.lists.wire import item_out, list_out, list_out_from
from contactlists.models import new_id, utcnow
from contactlists.pagination import PageParams, page_body
from contactlists.providers.base import (
    MAX_PAGES,
    Lead,
    LeadQuery,
    ProviderError,
    SearchResult,
    SeatRequired,
    SessionExpired,
    UnknownCompany,
)
from contactlists.providers.linkedin import LinkedInHttp
from contactlists.providers.seniority import lead_seniority
from contactlists.ratelimit import Budget, RequestLimits
from contactlists.readstore import ListProbe, ReadStore
from contactlists.settings import Settings

logger = logging.getLogger("contactlists")
# How long an idempotency claim or credit reservation outlives the longest a
# create can run (the seat lock wait and the search deadline) before it expires.
ABANDONED_GRACE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Created:
    """A create's 201 body, and whether it is an idempotent replay."""

    body: dict[str, Any]
    replayed: bool


def _not_found(list_id: str) -> NotFound:
    return NotFound(f"Contact list {list_id!r} not found.")


def _checked(list_id: str) -> str:
    """No list id has a NUL, and PostgreSQL refuses one even as a parameter (a
    500 waiting to happen): such an id names no list, on every backend alike."""
    if "\x00" in list_id:
        raise _not_found(list_id)
    return list_id


async def page_lists(reads: ReadStore, principal: Principal, page: PageParams) -> dict[str, Any]:
    total, rows = await reads.lists_page(
        principal.account_id, principal.mode, page.limit, page.offset
    )
    return page_body([list_out(row) for row in rows], total, page)


async def _list_row(
    reads: ReadStore, principal: Principal, list_id: str, probe: ListProbe | None
) -> Sequence[Any]:
    """The list's row as authentication probed it, else read now; 404 if none."""
    if probe is not None and probe.list_id == list_id:
        row = probe.row
    else:
        row = await reads.list_row(_checked(list_id), principal.account_id, principal.mode)
    if row is None:
        raise _not_found(list_id)
    return row


async def get_list(
    reads: ReadStore, principal: Principal, list_id: str, probe: ListProbe | None
) -> dict[str, Any]:
    return list_out(await _list_row(reads, principal, list_id, probe))


async def page_contacts(
    reads: ReadStore,
    cache: PageCache,
    principal: Principal,
    list_id: str,
    page: PageParams,
    probe: ListProbe | None,
) -> CachedPage:
    """A page of contacts as serialised bytes with its ETag (see `page_cache`).

    A list's items are immutable and their positions dense, so its stored
    `contactCount` says exactly how many items a page holds; fewer means the
    list was deleted between the two reads (no transaction spans them), and the
    answer is then what it would be a moment later: 404, nothing cached.
    """
    row = await _list_row(reads, principal, list_id, probe)
    key = (list_id, page.limit, page.offset)
    cached = cache.get(key)
    if cached is not None:
        return cached
    total = int(row[3])
    items = await reads.items(list_id, page.limit, page.offset)
    if len(items) != max(0, min(page.limit, total - page.offset)):
        raise _not_found(list_id)
    body = orjson.dumps(page_body([item_out(item) for item in items], total, page))
    if not items:
        # Past the end (or an empty list): cheap to answer again, and caching
        # it would let 2^31 offsets each take a place in the cache.
        return CachedPage(body, etag_of(body))
    return cache.put(key, body)


async def rename_list(
    database: Database, principal: Principal, list_id: str, name: str
) -> dict[str, Any]:
    async with database.transaction(write=True) as conn:
        row = await repository.rename_list(
            conn, _checked(list_id), principal.account_id, principal.mode, name, utcnow()
        )
    if row is None:
        raise _not_found(list_id)
    return list_out(row)


async def delete_list(database: Database, principal: Principal, list_id: str) -> None:
    async with database.transaction(write=True) as conn:
        deleted = await repository.delete_list(
            conn, _checked(list_id), principal.account_id, principal.mode
        )
    if not deleted:
        raise _not_found(list_id)


def _company_field(body: ListCreate, company_url: str) -> str:
    urls = body.filters.company_linked_in_urls
    index = urls.index(company_url) if company_url in urls else 0
    return f"filters.companyLinkedInUrls[{index}]"


async def _search(
    database: Database,
    principal: Principal,
    settings: Settings,
    http: LinkedInHttp,
    provider_name: str,
    body: ListCreate,
) -> SearchResult:
    """Run the upstream search and map its typed failures onto the contract."""
    query = LeadQuery(
        company_urls=tuple(body.filters.company_linked_in_urls),
        job_titles=tuple(body.filters.job_titles or ()),
        keywords=body.filters.keywords or None,
        countries=tuple(body.filters.countries or ()),
    )
    failure: ApiError
    try:
        with metrics.observe_search(provider_name):
            return await connection_search.search(
                database, principal, settings, http, provider_name, query
            )
    except UnknownCompany as exc:
        field = _company_field(body, exc.company_url)
        message = f"LinkedIn does not know the company {exc.company_url!r}."
        failure = ValidationFailed(
            message, error_code="UNKNOWN_COMPANY", fields=[FieldError(field, message)]
        )
    except SessionExpired as exc:
        await connections.expire(database, principal, str(exc))
        failure = SessionExpiredError(connections.SESSION_EXPIRED_MESSAGE)
    except SeatRequired as exc:
        await connections.expire(database, principal, str(exc))
        failure = connections.seat_required(exc)
    except ProviderError as exc:
        failure = connections.upstream_failure(exc, settings)
    raise failure


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


async def create_list(
    database: Database,
    principal: Principal,
    settings: Settings,
    body: ListCreate,
    request_id: str,
    http: LinkedInHttp,
    *,
    idempotency_key: IdempotencyKey | None,
    limits: RequestLimits,
) -> Created:
    """The contract's order: idempotency replay or conflict, the create rate limit,
    the connection, the credit reservation, the search with no transaction open,
    then one write transaction. A failure gives back the claim and reservation."""
    ttl = timedelta(seconds=settings.search_lock_wait_s + settings.search_timeout_s)
    ttl += ABANDONED_GRACE
    claim: Claim | None = None
    if idempotency_key is not None:
        claimed = await idempotency.claim(database, principal, idempotency_key, ttl)
        if isinstance(claimed, StoredResponse):
            return Created(claimed.body, replayed=True)
        claim = claimed
    reservation: Reservation | None = None
    try:
        await limits.spend(Budget.CREATES, principal.account_id)
        provider_name = await connections.provider_for(database, principal)
        reservation = await credits.reserve(
            database, principal, MAX_PAGES * settings.credits_per_page, request_id, ttl
        )
        result = await _search(database, principal, settings, http, provider_name, body)
        created = await _store(
            database, principal, settings, body, provider_name, result, reservation, claim
        )
    except BaseException as failure:
        await _abandon(database, reservation, claim, failure)
        raise
    return Created(created, replayed=False)


async def _abandon(
    database: Database,
    reservation: Reservation | None,
    claim: Claim | None,
    failure: BaseException,
) -> None:
    """Give back what a failed create held; whatever cannot be given back expires."""
    if reservation is None and claim is None:
        return
    cause = failure.error_code if isinstance(failure, ApiError) else type(failure).__name__
    try:
        async with database.transaction(write=True) as conn:
            if reservation is not None:
                await credits.release(conn, reservation, f"create failed: {cause}")
            if claim is not None:
                await idempotency.release(conn, claim)
    except Exception:
        logger.warning("a failed create's holds are left to expire", exc_info=True)


async def _store(
    database: Database,
    principal: Principal,
    settings: Settings,
    body: ListCreate,
    provider_name: str,
    result: SearchResult,
    reservation: Reservation | None,
    claim: Claim | None,
) -> dict[str, Any]:
    """The list, its people, the settled charge and the stored 201: one transaction."""
    now = utcnow()
    list_id = new_id("cl")
    list_values = {
        "id": list_id,
        "account_id": principal.account_id,
        "mode": principal.mode,
        "name": body.name,
        "filters": body.filters.echo(),
        "provider": provider_name,
        "contact_count": len(result.leads),
        "created_at": now,
        "updated_at": now,
    }
    # Rows are built before the write transaction: SQLite has one writer, and
    # what runs while it is held delays every other create's commit.
    people = [_base_contact_row(principal, lead, now) for lead in result.leads]
    items: list[dict[str, Any]] = [
        {
            "id": new_id("ci"),
            "list_id": list_id,
            "position": position,
            "profile_id": lead.profile_id,
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "full_name": lead.full_name,
            "role": lead.title,
            "company_name": lead.company_name,
            "location": lead.location,
            "seniority": lead_seniority(lead.title, lead.seniority_ids),
            "headline": lead.headline,
            "linkedin_profile_url": lead.public_profile_url,
            "created_at": now,
        }
        for position, lead in enumerate(result.leads)
    ]
    async with database.transaction(write=True) as conn:
        await repository.insert_list(conn, list_values)
        ids = await repository.upsert_base_contacts(conn, people)
        for item in items:
            item["base_contact_id"] = ids[item["profile_id"]]
        await repository.insert_items(conn, items)
        cost = 0
        if reservation is not None:
            cost = result.pages_with_leads * settings.credits_per_page
            await credits.settle(conn, reservation, cost, result.pages_with_leads, list_id)
        created = list_out_from(list_values)
        if claim is not None:
            await idempotency.complete(conn, claim, StoredResponse(201, created), list_id)
    metrics.credits_charged(cost)
    return created
