"""HTTP for the account's Sales Navigator connection."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from contactlists.connections import service
from contactlists.connections.schemas import ConnectionOut, ConnectionPut, ConnectorsOut
from contactlists.core.errors import (
    ConnectionBusy,
    Forbidden,
    PayloadTooLarge,
    RateLimited,
    SalesNavigatorSeatRequired,
    SalesNavigatorSessionExpired,
    UnsupportedMediaType,
    UpstreamFailed,
    UpstreamUnavailable,
    ValidationFailed,
    error_responses,
)
from contactlists.web.deps import (
    DatabaseDep,
    HttpClientDep,
    PrincipalDep,
    RequestLimitsDep,
    SettingsDep,
    json_response,
)
from contactlists.web.routes import ContractRoute

router = APIRouter(
    prefix="/v1/integrations/sales-navigator", route_class=ContractRoute, tags=["Sales Navigator"]
)


@router.get(
    "", operation_id="getSalesNavigatorConnection", responses={200: {"model": ConnectionOut}}
)
async def get_connection(
    principal: PrincipalDep, database: DatabaseDep, settings: SettingsDep
) -> Response:
    """The account's Sales Navigator connection (never its credentials)."""
    return json_response(await service.describe(database, settings, principal.account_id))


@router.put(
    "",
    operation_id="putSalesNavigatorConnection",
    responses={
        200: {"model": ConnectionOut},
        **error_responses(
            ValidationFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
            Forbidden,
            RateLimited,
            SalesNavigatorSessionExpired,
            SalesNavigatorSeatRequired,
            UpstreamFailed,
            UpstreamUnavailable,
            ConnectionBusy,
        ),
    },
)
async def put_connection(
    body: ConnectionPut,
    principal: PrincipalDep,
    database: DatabaseDep,
    settings: SettingsDep,
    http: HttpClientDep,
    limits: RequestLimitsDep,
) -> Response:
    """Connect (or renew) the account's Sales Navigator seat, or the sandbox (live keys only)."""
    request = service.ConnectRequest(body.provider, body.session_cookies(), body.contract)
    return json_response(
        await service.replace(database, principal, settings, http, request, limits=limits)
    )


@router.delete(
    "",
    status_code=204,
    operation_id="deleteSalesNavigatorConnection",
    responses={204: {"description": "Disconnected; empty body."}, **error_responses(Forbidden)},
)
async def delete_connection(principal: PrincipalDep, database: DatabaseDep) -> Response:
    """Disconnect the account and forget its credentials (live keys only)."""
    await service.disconnect(database, principal)
    return Response(status_code=204)


# The original's connector list, beside the connection it reports on.
connectors_router = APIRouter(prefix="/v1", route_class=ContractRoute, tags=["Sales Navigator"])


@connectors_router.get(
    "/connectors", operation_id="listConnectors", responses={200: {"model": ConnectorsOut}}
)
async def list_connectors(principal: PrincipalDep, database: DatabaseDep) -> Response:
    """The account's connectors and their status (the original's `GET /v1/connectors`)."""
    return json_response(await service.connectors(database, principal))
