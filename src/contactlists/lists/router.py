"""HTTP for contact lists: parse, call one service function, answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from contactlists.auth import PrincipalDep
from contactlists.deps import DatabaseDep, RequestIdDep, SettingsDep, json_response
from contactlists.errors import (
    InsufficientCredits,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    UnsupportedMediaType,
    UpstreamFailed,
    UpstreamTimedOut,
    UpstreamUnavailable,
    ValidationFailed,
    error_responses,
)
from contactlists.lists import service
from contactlists.lists.schemas import ContactListOut, ContactPage, ListCreate, ListPage, ListRename
from contactlists.pagination import page_openapi, page_params
from contactlists.routing import ContractRoute

router = APIRouter(prefix="/v1/contacts/lists", route_class=ContractRoute, tags=["Contact Lists"])
_BODY_ERRORS = (ValidationFailed, PayloadTooLarge, UnsupportedMediaType)


@router.get(
    "",
    operation_id="listContactLists",
    responses={200: {"model": ListPage}, **error_responses(ValidationFailed)},
    openapi_extra=page_openapi(20, "lists"),
)
async def list_lists(request: Request, principal: PrincipalDep, database: DatabaseDep) -> Response:
    """List contact lists, newest first."""
    page = page_params(request, default_limit=20)
    return json_response(await service.page_lists(database, principal, page))


@router.post(
    "",
    status_code=201,
    operation_id="createContactList",
    responses={
        201: {"model": ContactListOut},
        **error_responses(
            *_BODY_ERRORS,
            PreconditionFailed,
            InsufficientCredits,
            UpstreamFailed,
            UpstreamUnavailable,
            UpstreamTimedOut,
        ),
    },
)
async def create_list(
    body: ListCreate,
    principal: PrincipalDep,
    database: DatabaseDep,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> Response:
    """Create a contact list from a live Sales Navigator lead search (synchronous)."""
    created = await service.create_list(database, principal, settings, body, request_id)
    return json_response(
        created, status_code=201, headers={"Location": f"/v1/contacts/lists/{created['id']}"}
    )


@router.get(
    "/{listId}",
    operation_id="getContactList",
    responses={200: {"model": ContactListOut}, **error_responses(NotFound)},
)
async def get_list(listId: str, principal: PrincipalDep, database: DatabaseDep) -> Response:
    """Get a contact list by ID."""
    return json_response(await service.get_list(database, principal, listId))


@router.put(
    "/{listId}",
    operation_id="renameContactList",
    responses={200: {"model": ContactListOut}, **error_responses(*_BODY_ERRORS, NotFound)},
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
    responses={204: {"description": "Deleted; empty body."}, **error_responses(NotFound)},
)
async def delete_list(listId: str, principal: PrincipalDep, database: DatabaseDep) -> Response:
    """Delete a contact list and all its stored contacts."""
    await service.delete_list(database, principal, listId)
    return Response(status_code=204)


@router.get(
    "/{listId}/contacts",
    operation_id="listContacts",
    responses={200: {"model": ContactPage}, **error_responses(ValidationFailed, NotFound)},
    openapi_extra=page_openapi(25, "contacts"),
)
async def list_contacts(
    listId: str,
    request: Request,
    principal: PrincipalDep,
    database: DatabaseDep,
) -> Response:
    """Get contacts in a contact list, in stored order."""
    page = page_params(request, default_limit=25)
    return json_response(await service.page_contacts(database, principal, listId, page))
