"""Typed dependencies shared by the routers.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in a
worker thread, and that hop cost more than the whole database read of a page.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from contactlists.auth import Principal, principal_of
from contactlists.db import Database
from contactlists.providers.linkedin import LinkedInHttp
from contactlists.ratelimit import RequestLimits
from contactlists.readstore import ReadStore
from contactlists.settings import Settings
from contactlists.shielding import ShieldedWork


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def reads_of(request: Request) -> ReadStore:
    reads: ReadStore = request.app.state.reads
    return reads


async def get_reads(request: Request) -> ReadStore:
    return reads_of(request)


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_http_client(request: Request) -> LinkedInHttp:
    """The process's opener of conversations with LinkedIn."""
    client: LinkedInHttp = request.app.state.http
    return client


async def request_id(request: Request) -> str:
    value: str = request.state.request_id
    return value


async def request_limits(request: Request) -> RequestLimits:
    """The budgets the contract route spent for this request; a create spends another."""
    limits: RequestLimits = request.state.rate_limits
    return limits


async def shielded_work(request: Request) -> ShieldedWork:
    work: ShieldedWork = request.app.state.shielded
    return work


async def current_principal(request: Request) -> Principal:
    return principal_of(request)


PrincipalDep = Annotated[Principal, Depends(current_principal)]
DatabaseDep = Annotated[Database, Depends(get_database)]
ReadsDep = Annotated[ReadStore, Depends(get_reads)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
RequestIdDep = Annotated[str, Depends(request_id)]
HttpClientDep = Annotated[LinkedInHttp, Depends(get_http_client)]
RequestLimitsDep = Annotated[RequestLimits, Depends(request_limits)]
ShieldedWorkDep = Annotated[ShieldedWork, Depends(shielded_work)]


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialise straight to bytes: the bodies are already plain JSON values."""
    return Response(
        orjson.dumps(body), status_code=status_code, headers=headers, media_type="application/json"
    )
