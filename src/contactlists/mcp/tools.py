"""The MCP server: tools and resources over `contactlists.client.AsyncClient`.

Every tool and resource makes its API calls through a `ClientSource`, which
turns the transport's request (None over stdio, the HTTP request on the `/mcp`
mount) into a client: one long-lived client over stdio, a client with the
caller's own key on the mount. So both transports share one implementation and
the API's guarantees (auth, rate limits, idempotency, credits, errors) hold
exactly as they do for any other client.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any, Generic, TypeVar

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    ListResourcesResult,
    PaginatedRequestParams,
    Resource,
    ToolAnnotations,
)
from pydantic import Field

from contactlists.client import (
    ApiError,
    AsyncClient,
    ChangePage,
    Connection,
    Contact,
    ContactList,
    ContactListsError,
    Credits,
    NotFoundError,
    Page,
    RetryPolicy,
    SearchPage,
)
from contactlists.client.models import Model

T = TypeVar("T")
ClientSource = Callable[[object | None], AbstractAsyncContextManager[AsyncClient]]

SERVER_NAME = "contactlists"
LIST_URI = "contactlists://lists/{list_id}"
# An agent waits on its tool call: a short retry budget, then the error (with
# its errorAction) goes back to the agent instead of blocking it for minutes.
TOOL_RETRY = RetryPolicy(max_attempts=3, max_retry_after_s=10.0)
MAX_OFFSET = 2_147_483_647

INSTRUCTIONS = (
    "Contact lists are stored, point-in-time LinkedIn Sales Navigator lead searches. "
    "contact_lists-create runs a search and stores its leads (it may cost credits: check "
    "credits-get first); read them back a page at a time with contact_lists-get_contacts, "
    "following nextOffset while hasMore is true. A failed call's text names its errorCode "
    "and errorAction: FIX_REQUEST (change the arguments), RETRY_LATER (call again later), "
    "CONNECT_SALES_NAVIGATOR or RECONNECT_SALES_NAVIGATOR (ask the user to connect Sales "
    "Navigator), BUY_CREDITS (ask the user for credits), CHECK_API_KEY (ask the user to "
    "check the API key)."
)

_ACTION_HINTS = {
    "FIX_REQUEST": "Fix the arguments and call again.",
    "RETRY_LATER": "Call again later with the same arguments (safe: creates are idempotent).",
    "CONNECT_SALES_NAVIGATOR": "Ask the user to connect a LinkedIn Sales Navigator seat.",
    "RECONNECT_SALES_NAVIGATOR": "Ask the user to reconnect Sales Navigator: the session ended.",
    "BUY_CREDITS": "Ask the user to add credits to the account.",
    "CHECK_API_KEY": "Ask the user to check the API key (CONTACTLISTS_API_KEY).",
    "USE_LIVE_KEY": "This needs a live key (sk_live_...), not a test key.",
}

ListId = Annotated[str, Field(description="The list's id (`cl_...`).", min_length=1)]
ListName = Annotated[str, Field(description="The list's name, 1-200 characters.", min_length=1)]
Offset = Annotated[
    int, Field(ge=0, le=MAX_OFFSET, description="How many items to skip (0 = the first page).")
]


class Paged(Model, Generic[T]):
    """One page, as the API returns it, plus where the next one starts."""

    items: list[T]
    total: int
    limit: int
    offset: int
    has_more: bool
    next_offset: int | None = Field(
        description="The offset of the next page, or null on the last page."
    )


class Deleted(Model):
    id: str
    deleted: bool


def _paged(page: Page[T]) -> Paged[T]:
    return Paged[T](**dict(page), next_offset=page.next_offset)


def error_text(exc: ContactListsError) -> str:
    """What the agent reads when a call fails: the API error's message, errorCode
    and errorAction, one per line, and what to do about it."""
    if not isinstance(exc, ApiError):
        return "\n".join(
            (
                f"The Contact Lists API could not be reached: {exc}",
                "errorCode: CONNECTION_FAILED",
                "errorAction: RETRY_LATER",
                _ACTION_HINTS["RETRY_LATER"],
            )
        )
    lines = [
        exc.message,
        f"errorCode: {exc.error_code}",
        f"errorAction: {exc.error_action or 'none'}",
        f"status: {exc.status}",
    ]
    lines += [f"field {field.field}: {field.message}" for field in exc.fields]
    if exc.retry_after is not None:
        lines.append(f"retryAfter: {exc.retry_after:g} seconds")
    if exc.request_id:
        lines.append(f"requestId: {exc.request_id}")
    if hint := _ACTION_HINTS.get(exc.error_action or ""):
        lines.append(hint)
    return "\n".join(lines)


def idempotency_key(body: dict[str, Any]) -> str:
    """The create's `Idempotency-Key`, derived from its arguments: an agent that
    repeats a call (a retry, a lost answer) replays the first create for 24 h."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "mcp-" + hashlib.sha256(canonical.encode()).hexdigest()


class ContactListsMCP(MCPServer[Any]):
    """The MCP server; `resources/list` names every list of the caller's account."""

    def __init__(self, source: ClientSource) -> None:
        super().__init__(SERVER_NAME, instructions=INSTRUCTIONS, log_level="WARNING")
        self.source = source

    @asynccontextmanager
    async def api(self, ctx: Context) -> AsyncIterator[AsyncClient]:
        """A client for this call; an API error becomes a tool error the agent reads."""
        try:
            async with self.source(ctx.request_context.request) as client:
                yield client
        except ContactListsError as exc:
            raise ToolError(error_text(exc)) from exc

    async def _handle_list_resources(
        self, ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        cursor = params.cursor if params else None
        offset = int(cursor) if cursor and cursor.isdigit() else 0
        try:
            async with self.source(ctx.request) as client:
                page = await client.lists.page(limit=100, offset=min(offset, MAX_OFFSET))
        except ContactListsError as exc:
            raise MCPError(INTERNAL_ERROR, error_text(exc)) from exc
        resources = [
            Resource(
                uri=LIST_URI.format(list_id=found.id),
                name=found.id,
                title=found.name,
                description=f"{found.name}: {found.contact_count} contacts ({found.provider})",
                mime_type="application/json",
            )
            for found in page.items
        ]
        following = page.next_offset
        return ListResourcesResult(
            resources=resources, next_cursor=None if following is None else str(following)
        )


def build_server(source: ClientSource) -> ContactListsMCP:
    """The tools and resources, each call made through a client from `source`."""
    server = ContactListsMCP(source)
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(
        name="contact_lists-create",
        title="Create a contact list",
        description=(
            "Run a LinkedIn Sales Navigator lead search for people at the given companies and "
            "store the leads as a new contact list (up to 125 leads, 5 pages of 25; takes "
            "seconds to a minute). At least one of jobTitles, keywords or countries is required. "
            "Cost, on an account with limited credits and a live key: the server's credits per "
            "page (1 by default) for each page of 25 leads, so an empty search is free; the "
            "cost of 5 pages must be available to start; "
            "test keys and unlimited accounts are never charged. Calling again with identical "
            "arguments within 24 hours returns the same list without a new search or charge; "
            "change the name to take a new snapshot. Returns the list (read its leads with "
            "contact_lists-get_contacts)."
        ),
        annotations=ToolAnnotations(idempotent_hint=True, open_world_hint=True),
    )
    async def create(
        ctx: Context,
        name: ListName,
        # Arguments are named as the API's fields (camelCase), which agents see.
        companyLinkedInUrls: Annotated[
            list[str],
            Field(
                min_length=1,
                description="1-10 LinkedIn company page URLs, e.g. "
                "https://www.linkedin.com/company/stripe.",
            ),
        ],
        jobTitles: Annotated[
            list[str] | None,
            Field(description="Up to 25 job titles to match, e.g. ['Engineer', 'CTO']."),
        ] = None,
        keywords: Annotated[
            str | None, Field(description="Words every lead must match (up to 300 characters).")
        ] = None,
        countries: Annotated[
            list[str] | None,
            Field(description="Up to 50 ISO 3166-1 alpha-2 country codes, e.g. ['US', 'GB']."),
        ] = None,
    ) -> ContactList:
        arguments: dict[str, Any] = {
            "name": name,
            "companyLinkedInUrls": companyLinkedInUrls,
            "jobTitles": jobTitles or [],
            "keywords": keywords or None,
            "countries": countries or [],
        }
        async with server.api(ctx) as client:
            return await client.lists.create(
                name=name,
                company_linkedin_urls=companyLinkedInUrls,
                job_titles=jobTitles,
                keywords=keywords,
                countries=countries,
                idempotency_key=idempotency_key(arguments),
            )

    @server.tool(
        name="contacts-search",
        title="Preview a lead search",
        description=(
            "Preview the people a LinkedIn Sales Navigator lead search finds, without "
            "creating a list: the upstream's match count (`total`, at most 2,500) and one "
            "page of leads. Give at least one filter. Cost, on an account with limited "
            "credits and a live key: the server's credits per page (1 by default) for each "
            "upstream page of 25 the window [offset, offset + limit) covers that returned a "
            "lead; test keys and unlimited accounts are never charged. When "
            "salesNavConnected is false, nothing was searched: ask the user to connect "
            "Sales Navigator. Use it to check a search before contact_lists-create."
        ),
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True),
    )
    async def search(
        ctx: Context,
        companyLinkedInUrls: Annotated[
            list[str] | None, Field(description="LinkedIn company page URLs.")
        ] = None,
        jobTitles: Annotated[list[str] | None, Field(description="Job titles to match.")] = None,
        keywords: Annotated[str | None, Field(description="Words every lead must match.")] = None,
        countries: Annotated[
            list[str] | None, Field(description="ISO 3166-1 alpha-2 codes, e.g. ['US'].")
        ] = None,
        departments: Annotated[
            list[str] | None,
            Field(description="Sales Navigator functions, e.g. ['Engineering', 'Sales']."),
        ] = None,
        seniorityLevels: Annotated[
            list[str] | None,
            Field(description="OWNER, PARTNER, CXO, VP, DIRECTOR, MANAGER, STRATEGIC, ..."),
        ] = None,
        firstName: Annotated[str | None, Field(description="A first name to match.")] = None,
        lastName: Annotated[str | None, Field(description="A last name to match.")] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Leads per page, 1-100.")] = 25,
        offset: Annotated[
            int, Field(ge=0, le=2499, description="Leads to skip; offset + limit <= 2,500.")
        ] = 0,
    ) -> SearchPage:
        async with server.api(ctx) as client:
            return await client.contacts.search(
                limit=limit,
                offset=offset,
                company_linkedin_urls=companyLinkedInUrls or [],
                job_titles=jobTitles,
                keywords=keywords,
                countries=countries,
                departments=departments,
                seniority_levels=seniorityLevels,
                first_name=firstName,
                last_name=lastName,
            )

    @server.tool(
        name="contact_lists-refresh",
        title="Refresh a contact list",
        description=(
            "Run a list's stored search again and store the result as a NEW list (same name, "
            "refreshedFrom = the source); the source list is untouched. Costs what "
            "contact_lists-create costs. Calling again for the same list within 24 hours "
            "returns the same new list without a new search or charge. Then compare the two "
            "with contact_lists-changes (listId = the new list, since = the source)."
        ),
        annotations=ToolAnnotations(idempotent_hint=True, open_world_hint=True),
    )
    async def refresh(ctx: Context, listId: ListId) -> ContactList:
        async with server.api(ctx) as client:
            key = idempotency_key({"refresh": listId})
            return await client.lists.refresh(listId, idempotency_key=key)

    @server.tool(
        name="contact_lists-changes",
        title="What changed between two lists",
        description=(
            "How list listId differs from the older list `since`: one page of changes "
            "(added, removed, or changed in role, companyName, location or seniority), with "
            "the summary of all of them on every page. 'removed' means not in the newer "
            "list: the person left, changed title out of the filter, or fell outside the "
            "first 125 results; it is not proof of a job change. When hasMore is true, call "
            "again with offset = nextOffset. Free."
        ),
        annotations=read_only,
    )
    async def changes(
        ctx: Context,
        listId: ListId,
        since: Annotated[str, Field(description="The older list's id (`cl_...`).", min_length=1)],
        limit: Annotated[int, Field(ge=1, le=100, description="Changes per page, 1-100.")] = 25,
        offset: Offset = 0,
    ) -> ChangePage:
        async with server.api(ctx) as client:
            return await client.lists.changes_page(listId, since=since, limit=limit, offset=offset)

    @server.tool(
        name="contact_lists-list",
        title="List contact lists",
        description=(
            "One page of the account's contact lists, newest first, with hasMore and "
            "nextOffset. Free."
        ),
        annotations=read_only,
    )
    async def list_lists(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=100, description="Lists per page, 1-100.")] = 20,
        offset: Offset = 0,
    ) -> Paged[ContactList]:
        async with server.api(ctx) as client:
            return _paged(await client.lists.page(limit=limit, offset=offset))

    @server.tool(
        name="contact_lists-get",
        title="Get a contact list",
        description="One contact list: its name, filters, contactCount and provider. Free.",
        annotations=read_only,
    )
    async def get(ctx: Context, listId: ListId) -> ContactList:
        async with server.api(ctx) as client:
            return await client.lists.get(listId)

    @server.tool(
        name="contact_lists-get_contacts",
        title="Get a contact list's contacts",
        description=(
            "One page of a list's contacts (name, role, company, location, seniority, LinkedIn "
            "URLs) in stored order. When hasMore is true, call again with offset = nextOffset. "
            "Free."
        ),
        annotations=read_only,
    )
    async def get_contacts(
        ctx: Context,
        listId: ListId,
        limit: Annotated[int, Field(ge=1, le=100, description="Contacts per page, 1-100.")] = 25,
        offset: Offset = 0,
    ) -> Paged[Contact]:
        async with server.api(ctx) as client:
            return _paged(await client.contacts.page(listId, limit=limit, offset=offset))

    @server.tool(
        name="contact_lists-update",
        title="Rename a contact list",
        description=(
            "Rename a contact list (its filters and contacts are a snapshot and never change). "
            "Free."
        ),
        annotations=ToolAnnotations(idempotent_hint=True, open_world_hint=False),
    )
    async def update(ctx: Context, listId: ListId, name: ListName) -> ContactList:
        async with server.api(ctx) as client:
            return await client.lists.rename(listId, name)

    @server.tool(
        name="contact_lists-delete",
        title="Delete a contact list",
        description=(
            "Permanently delete a contact list and its contacts, personal data included. This "
            "cannot be undone; confirm with the user first. Free."
        ),
        annotations=ToolAnnotations(destructive_hint=True, open_world_hint=False),
    )
    async def delete(ctx: Context, listId: ListId) -> Deleted:
        async with server.api(ctx) as client:
            await client.lists.delete(listId)
        return Deleted(id=listId, deleted=True)

    @server.tool(
        name="credits-get",
        title="Get the credit balance",
        description=(
            "The account's remaining credits (null with unlimited: true on an unlimited "
            "account). Free."
        ),
        annotations=read_only,
    )
    async def credits_get(ctx: Context) -> Credits:
        async with server.api(ctx) as client:
            return await client.credits.get()

    @server.tool(
        name="connection-get",
        title="Get the Sales Navigator connection",
        description=(
            "The account's Sales Navigator connection: provider (linkedin, sandbox or null), "
            "state (active, expired or not_connected) and the connected member. Creates need "
            "an active connection with a live key. Free."
        ),
        annotations=read_only,
    )
    async def connection_get(ctx: Context) -> Connection:
        async with server.api(ctx) as client:
            return await client.connection.get()

    @server.resource(
        LIST_URI,
        name="contact_list",
        title="Contact list",
        description="A contact list's metadata and its first page of 25 contacts, as JSON.",
        mime_type="application/json",
    )
    async def list_resource(list_id: str, ctx: Context) -> str:
        try:
            async with server.source(ctx.request_context.request) as client:
                found = await client.lists.get(list_id)
                first = await client.contacts.page(list_id, limit=25, offset=0)
        except NotFoundError as exc:
            raise ResourceNotFoundError(error_text(exc)) from exc
        except ContactListsError as exc:
            raise ResourceError(error_text(exc)) from exc
        content = {
            "list": found.model_dump(mode="json", by_alias=True),
            "contacts": _paged(first).model_dump(mode="json", by_alias=True),
        }
        return json.dumps(content, ensure_ascii=False)

    return server
