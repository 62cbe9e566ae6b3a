"""HTTP for contact lists: parse, call one service function, answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from contactlists.core.auth import principal_of, probed_row_of
from contactlists.core.errors import (
    ConnectionBusy,
    GatewayTimeout,
    IdempotencyConflict,
    InsufficientCredits,
    ListNotFound,
    PayloadTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
    UpstreamFailed,
    UpstreamUnavailable,
    ValidationFailed,
    error_responses,
)
from contactlists.idempotency import service as idempotency
from contactlists.idempotency.service import IdempotencyKey
from contactlists.lists import changes, export, repository, service
from contactlists.lists.change_schemas import ChangePage
from contactlists.lists.create import CreateContext, Created, ListSpec, refresh_spec
from contactlists.lists.create import create_list as create
from contactlists.lists.page_cache import CachedPage, etag_matches
from contactlists.lists.schemas import ContactListOut, ContactPage, ListCreate, ListPage, ListRename
from contactlists.web.deps import (
    DatabaseDep,
    PreparedResponse,
    PrincipalDep,
    ReadsDep,
    ShieldedWorkDep,
    json_response,
)
from contactlists.web.headers import header
from contactlists.web.pagination import page_openapi, page_params
from contactlists.web.routes import ContractRoute, direct
from contactlists.web.state import state_of

router = APIRouter(prefix="/v1/contacts/lists", route_class=ContractRoute, tags=["Contact Lists"])
_BODY_ERRORS = (ValidationFailed, PayloadTooLarge, UnsupportedMediaType)
_CREATE_ERRORS = (
    PreconditionFailed,
    InsufficientCredits,
    IdempotencyConflict,
    UpstreamFailed,
    UpstreamUnavailable,
    ConnectionBusy,
    GatewayTimeout,
)
_IDEMPOTENCY_KEY_PARAMETER = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": (
        "1-255 visible ASCII characters (double quotes around it are stripped). A repeat "
        "with the same key and body within 24 h returns the stored 201 with "
        "`Idempotent-Replayed: true`, without searching or charging again."
    ),
    "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
}
_EXPORT_CONTENT = {
    "text/csv": {
        "schema": {"type": "string"},
        "example": "\ufeffid,listId,baseContactId,firstName,...\r\nci_…,cl_…,bc_…,Ada,...\r\n",
    },
    "application/x-ndjson": {
        "schema": {"type": "string", "description": "One ContactOut JSON object per line."},
        "example": '{"id":"ci_…","listId":"cl_…","firstName":"Ada",...}\n',
    },
}
_EXPORT_FORMAT_PARAMETER = {
    "name": "format",
    "in": "query",
    "required": False,
    "description": "`csv` (UTF-8 with a BOM, formula-escaped cells) or `ndjson`.",
    "schema": {"type": "string", "enum": [f.value for f in export.ExportFormat], "default": "csv"},
}


def _idempotency_key(request: Request, fingerprinted: object) -> IdempotencyKey | None:
    return idempotency.parse_key(request.headers.getlist(idempotency.HEADER), fingerprinted)


def _context(request: Request, spec: ListSpec, key: IdempotencyKey | None) -> CreateContext:
    """Everything a create needs, from the request and the app (see `create`)."""
    return CreateContext(
        database=state_of(request).database,
        principal=principal_of(request),
        settings=state_of(request).settings,
        http=state_of(request).http,
        limits=request.scope["state"]["rate_limits"],
        request_id=request.state.request_id,
        spec=spec,
        idempotency_key=key,
    )


_SINCE_PARAMETER = {
    "name": "since",
    "in": "query",
    "required": True,
    "description": "The id of the list to compare with (the older snapshot, usually).",
    "schema": {"type": "string", "minLength": 1},
}
_ETAG_HEADER = {
    "ETag": {
        "description": "Strong; a page of a list never changes.",
        "schema": {"type": "string"},
    }
}
_LISTS_ETAG_HEADER = {
    "ETag": {
        "description": (
            "Strong; the page changes when a list of the account is created, refreshed, "
            "renamed or deleted."
        ),
        "schema": {"type": "string"},
    }
}
_NOT_MODIFIED = {"description": "`If-None-Match` matched the page's ETag; empty body."}


def _cached(request: Request, found: CachedPage) -> Response:
    """A cached page's body, or 304 when the client holds it already."""
    if etag_matches(header(request.scope, b"if-none-match"), found.etag):
        return Response(status_code=304, headers={"ETag": found.etag})
    return PreparedResponse(found.body, list(found.raw_headers))


async def create_context(request: Request, body: ListCreate) -> CreateContext:
    key = _idempotency_key(request, await request.json())
    return _context(request, ListSpec(body.name, body.filters), key)


async def refresh_context(listId: str, request: Request) -> CreateContext:
    """A refresh's create: the list's own search, fingerprinted on its id.

    The list is looked up (404) after the key is checked (400), before the flow."""
    key = _idempotency_key(request, {"refresh": listId})
    spec = await refresh_spec(state_of(request).database, principal_of(request), listId)
    return _context(request, spec, key)


def _created(created: Created) -> Response:
    headers = {"Location": f"/v1/contacts/lists/{created.body['id']}"}
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(created.body, status_code=201, headers=headers)


@router.get(
    "",
    operation_id="listContactLists",
    responses={
        200: {"model": ListPage, "headers": _LISTS_ETAG_HEADER},
        304: _NOT_MODIFIED,
        **error_responses(ValidationFailed),
    },
    openapi_extra=page_openapi(20, "lists"),
)
@direct()
async def list_lists(request: Request) -> Response:
    """List contact lists, newest first."""
    page = page_params(request, default_limit=20)
    state = state_of(request)
    found = await service.page_lists(state.reads, state.page_cache, principal_of(request), page)
    return _cached(request, found)


@router.post(
    "",
    status_code=201,
    operation_id="createContactList",
    responses={
        201: {"model": ContactListOut},
        **error_responses(*_BODY_ERRORS, *_CREATE_ERRORS),
    },
    openapi_extra={"parameters": [_IDEMPOTENCY_KEY_PARAMETER]},
)
async def create_list(
    context: Annotated[CreateContext, Depends(create_context)], shielded: ShieldedWorkDep
) -> Response:
    """Create a contact list from a live Sales Navigator lead search (synchronous)."""
    # Shielded: a client that disconnects does not abort the create half-way.
    return _created(await shielded.run(create(context)))


@router.post(
    "/{listId}/refresh",
    status_code=201,
    operation_id="refreshContactList",
    responses={
        201: {"model": ContactListOut},
        **error_responses(ValidationFailed, *_CREATE_ERRORS, ListNotFound),
    },
    openapi_extra={"parameters": [_IDEMPOTENCY_KEY_PARAMETER]},
)
async def refresh_list(
    context: Annotated[CreateContext, Depends(refresh_context)], shielded: ShieldedWorkDep
) -> Response:
    """Run a list's stored filters again and store the result as a new list (synchronous)."""
    return _created(await shielded.run(create(context)))


@router.get(
    "/{listId}",
    operation_id="getContactList",
    responses={200: {"model": ContactListOut}, **error_responses(ListNotFound)},
)
@direct(probe=repository.LIST_PROBE)
async def get_list(listId: str, request: Request) -> Response:
    """Get a contact list by ID."""
    return json_response(
        await service.get_list(
            state_of(request).reads, principal_of(request), listId, probed_row_of(request)
        )
    )


@router.put(
    "/{listId}",
    operation_id="renameContactList",
    responses={200: {"model": ContactListOut}, **error_responses(*_BODY_ERRORS, ListNotFound)},
)
async def rename_list(
    listId: str,
    body: ListRename,
    principal: PrincipalDep,
    database: DatabaseDep,
) -> Response:
    """Rename a contact list."""
    return json_response(await service.rename_list(database, principal, listId, body.name))


@router.delete(
    "/{listId}",
    status_code=204,
    operation_id="deleteContactList",
    responses={204: {"description": "Deleted; empty body."}, **error_responses(ListNotFound)},
)
async def delete_list(listId: str, principal: PrincipalDep, database: DatabaseDep) -> Response:
    """Delete a contact list and all its stored contacts."""
    await service.delete_list(database, principal, listId)
    return Response(status_code=204)


@router.get(
    "/{listId}/contacts",
    operation_id="listContacts",
    responses={
        200: {"model": ContactPage, "headers": _ETAG_HEADER},
        304: _NOT_MODIFIED,
        **error_responses(ValidationFailed, ListNotFound),
    },
    openapi_extra=page_openapi(25, "contacts"),
)
@direct(probe=repository.LIST_PROBE)
async def list_contacts(listId: str, request: Request) -> Response:
    """Get contacts in a contact list, in stored order."""
    page = page_params(request, default_limit=25)
    found = await service.page_contacts(
        state_of(request).reads,
        state_of(request).page_cache,
        principal_of(request),
        service.ListRef(listId, probed_row_of(request)),
        page,
    )
    return _cached(request, found)


@router.get(
    "/{listId}/changes",
    operation_id="listContactChanges",
    responses={
        200: {"model": ChangePage, "headers": _ETAG_HEADER},
        304: _NOT_MODIFIED,
        **error_responses(ValidationFailed, ListNotFound),
    },
    openapi_extra={"parameters": [_SINCE_PARAMETER, *page_openapi(25, "changes")["parameters"]]},
)
async def list_changes(
    listId: str, request: Request, principal: PrincipalDep, database: DatabaseDep, reads: ReadsDep
) -> Response:
    """How a list differs from another of the caller's: added, removed and changed people."""
    since = changes.since_param(request)
    page = page_params(request, default_limit=25)
    found = await changes.page_changes(
        database, reads, state_of(request).page_cache, principal, (listId, since), page
    )
    return _cached(request, found)


@router.get(
    "/{listId}/export",
    operation_id="exportContacts",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every contact of the list, in stored order.",
            "content": _EXPORT_CONTENT,
            "headers": {
                "Content-Disposition": {
                    "description": "`attachment` with the list's name as `filename*`.",
                    "schema": {"type": "string"},
                }
            },
        },
        **error_responses(ValidationFailed, ListNotFound),
    },
    openapi_extra={"parameters": [_EXPORT_FORMAT_PARAMETER]},
)
async def export_contacts(
    listId: str,
    request: Request,
    principal: PrincipalDep,
    database: DatabaseDep,
    reads: ReadsDep,
) -> Response:
    """Export every contact of a contact list as CSV or NDJSON, streamed in stored order."""
    fmt = export.export_format(request.query_params.getlist("format"))
    found = await export.open_export(database, reads, principal, listId, fmt)
    return StreamingResponse(
        found.chunks,
        media_type=found.media_type,
        headers={"Content-Disposition": found.content_disposition},
    )


@router.get(
    "/{listId}/changes/export",
    operation_id="exportContactChanges",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": (
                "Every change, in the order of the changes pages. CSV columns: `change`, "
                "`baseContactId`, `changedFields` (`;`-joined), then each contact column "
                "prefixed `before.` and `after.`."
            ),
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "One ContactChange per line."}
                },
            },
        },
        **error_responses(ValidationFailed, ListNotFound),
    },
    openapi_extra={"parameters": [_SINCE_PARAMETER, _EXPORT_FORMAT_PARAMETER]},
)
async def export_changes(
    listId: str, request: Request, principal: PrincipalDep, database: DatabaseDep, reads: ReadsDep
) -> Response:
    """Export every change of a list since another as CSV or NDJSON."""
    since = changes.since_param(request)
    fmt = export.export_format(request.query_params.getlist("format"))
    found = await changes.open_export(database, reads, principal, (listId, since), fmt)
    return StreamingResponse(
        found.chunks,
        media_type=found.media_type,
        headers={"Content-Disposition": found.content_disposition},
    )
