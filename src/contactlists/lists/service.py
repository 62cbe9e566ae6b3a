"""The rules of contact lists: create, read, rename, delete.

Every function takes the `Database` and opens its own short units of work, so
that the create flow can hold no connection while the upstream search runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contactlists.auth import Principal
from contactlists.connections import service as connections
from contactlists.credits import service as credits
from contactlists.db import AnyRow, Database
from contactlists.errors import (
    ApiError,
    FieldError,
    NotFound,
    SessionExpiredError,
    UpstreamFailed,
    UpstreamTimedOut,
    UpstreamUnavailable,
    ValidationFailed,
)
from contactlists.lists import repository
from contactlists.lists.schemas import ListCreate
from contactlists.models import new_id, utcnow
from contactlists.pagination import PageParams, page_body
from contactlists.providers import get_provider
from contactlists.providers.base import (
    MAX_PAGES,
    Lead,
    LeadQuery,
    ProviderError,
    SearchResult,
    SessionExpired,
    UnknownCompany,
    UpstreamRateLimited,
    UpstreamTimeout,
    run_search,
)
from contactlists.providers.seniority import seniority_from_title
from contactlists.settings import Settings

SALES_LEAD_URL = "https://www.linkedin.com/sales/lead/"


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def list_out(values: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": values["id"],
        "name": values["name"],
        "filters": values["filters"],
        "contactCount": values["contact_count"],
        "provider": values["provider"],
        "createdAt": rfc3339(values["created_at"]),
        "updatedAt": rfc3339(values["updated_at"]),
    }


def item_out(row: AnyRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "listId": row.list_id,
        "baseContactId": row.base_contact_id,
        "firstName": row.first_name,
        "lastName": row.last_name,
        "fullName": row.full_name,
        "role": row.role,
        "companyName": row.company_name,
        "location": row.location,
        "seniority": row.seniority,
        "linkedInSalesNavigatorProfileUrl": SALES_LEAD_URL + row.profile_id,
        "headline": row.headline,
        "linkedInProfileUrl": row.linkedin_profile_url,
        "createdAt": rfc3339(row.created_at),
    }


def _not_found(list_id: str) -> NotFound:
    return NotFound(f"Contact list {list_id!r} not found.")


async def page_lists(database: Database, principal: Principal, page: PageParams) -> dict[str, Any]:
    async with database.transaction() as conn:
        total = await repository.count_lists(conn, principal.account_id, principal.mode)
        rows = await repository.page_lists(
            conn, principal.account_id, principal.mode, page.limit, page.offset
        )
    return page_body([list_out(row._mapping) for row in rows], total, page)


async def get_list(database: Database, principal: Principal, list_id: str) -> dict[str, Any]:
    async with database.transaction() as conn:
        row = await repository.get_list(conn, list_id, principal.account_id, principal.mode)
    if row is None:
        raise _not_found(list_id)
    return list_out(row._mapping)


async def page_contacts(
    database: Database, principal: Principal, list_id: str, page: PageParams
) -> dict[str, Any]:
    async with database.transaction() as conn:
        row = await repository.get_list(conn, list_id, principal.account_id, principal.mode)
        if row is None:
            raise _not_found(list_id)
        items = await repository.page_items(conn, list_id, page.limit, page.offset)
    return page_body([item_out(item) for item in items], row.contact_count, page)


async def rename_list(
    database: Database, principal: Principal, list_id: str, name: str
) -> dict[str, Any]:
    async with database.transaction(write=True) as conn:
        row = await repository.rename_list(
            conn, list_id, principal.account_id, principal.mode, name, utcnow()
        )
    if row is None:
        raise _not_found(list_id)
    return list_out(row._mapping)


async def delete_list(database: Database, principal: Principal, list_id: str) -> None:
    async with database.transaction(write=True) as conn:
        deleted = await repository.delete_list(conn, list_id, principal.account_id, principal.mode)
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
    provider = get_provider(provider_name, settings)
    failure: ApiError
    try:
        return await run_search(provider, query, timeout_s=settings.search_timeout_s)
    except UnknownCompany as exc:
        field = _company_field(body, exc.company_url)
        message = f"LinkedIn does not know the company {exc.company_url!r}."
        failure = ValidationFailed(
            message, error_code="UNKNOWN_COMPANY", fields=[FieldError(field, message)]
        )
    except SessionExpired:
        await connections.expire(database, principal, "session expired during a search")
        failure = SessionExpiredError(connections.SESSION_EXPIRED_MESSAGE)
    except UpstreamRateLimited as exc:
        failure = UpstreamUnavailable(
            "LinkedIn is throttling this Sales Navigator seat; retry later.",
            retry_after_s=exc.retry_after_s,
        )
    except UpstreamTimeout:
        failure = UpstreamTimedOut(
            f"The lead search did not finish within {settings.search_timeout_s:g} s."
        )
    except ProviderError as exc:
        failure = UpstreamFailed("The lead search failed upstream.", debug_cause=repr(exc))
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
) -> dict[str, Any]:
    """Check, search with no transaction open, then write everything in one."""
    provider_name = await connections.provider_for(database, principal)
    await credits.ensure_can_cover(database, principal, MAX_PAGES * settings.credits_per_page)
    result = await _search(database, principal, settings, provider_name, body)

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
    async with database.transaction(write=True) as conn:
        await repository.insert_list(conn, list_values)
        ids = await repository.upsert_base_contacts(
            conn,
            principal.account_id,
            principal.mode,
            [_base_contact_row(principal, lead, now) for lead in result.leads],
        )
        await repository.insert_items(
            conn,
            [
                {
                    "id": new_id("ci"),
                    "list_id": list_id,
                    "position": position,
                    "base_contact_id": ids[lead.profile_id],
                    "profile_id": lead.profile_id,
                    "first_name": lead.first_name,
                    "last_name": lead.last_name,
                    "full_name": lead.full_name,
                    "role": lead.title,
                    "company_name": lead.company_name,
                    "location": lead.location,
                    "seniority": seniority_from_title(lead.title),
                    "headline": lead.headline,
                    "linkedin_profile_url": lead.public_profile_url,
                    "created_at": now,
                }
                for position, lead in enumerate(result.leads)
            ],
        )
        await credits.charge(
            conn,
            principal,
            result.pages_with_leads * settings.credits_per_page,
            list_id,
            request_id,
        )
    return list_out(list_values)
