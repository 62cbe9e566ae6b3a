"""HTTP for the search preview: parse, call the service, answer."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from contactlists.contacts import service
from contactlists.contacts.schemas import ContactSearch, ContactSearchPage
from contactlists.core.auth import principal_of
from contactlists.core.errors import (
    ConnectionBusy,
    GatewayTimeout,
    InsufficientCredits,
    PayloadTooLarge,
    PreconditionFailed,
    RateLimited,
    UnsupportedMediaType,
    UpstreamFailed,
    UpstreamUnavailable,
    ValidationFailed,
    error_responses,
)
from contactlists.web.deps import ShieldedWorkDep, json_response
from contactlists.web.routes import ContractRoute
from contactlists.web.state import state_of

router = APIRouter(prefix="/v1/contacts", route_class=ContractRoute, tags=["Contacts"])


@router.post(
    "/search",
    operation_id="searchContacts",
    responses={
        200: {"model": ContactSearchPage},
        **error_responses(
            ValidationFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
            RateLimited,
            PreconditionFailed,
            InsufficientCredits,
            UpstreamFailed,
            UpstreamUnavailable,
            ConnectionBusy,
            GatewayTimeout,
        ),
    },
)
async def search_contacts(
    body: ContactSearch, request: Request, shielded: ShieldedWorkDep
) -> Response:
    """Preview the contacts a search finds, without creating a list (charged per page)."""
    state = state_of(request)
    context = service.SearchContext(
        database=state.database,
        principal=principal_of(request),
        settings=state.settings,
        http=state.http,
        limits=request.scope["state"]["rate_limits"],
        request_id=request.state.request_id,
        body=body,
    )
    # Shielded: a disconnect mid-search must not leave the charge half-settled.
    return json_response(await shielded.run(service.search_contacts(context)))
