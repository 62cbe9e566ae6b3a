"""Typed dependencies shared by the routers.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in a
worker thread, and that hop cost more than the whole database read of a page.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from contactlists.core.auth import Principal, principal_of
from contactlists.core.db import Database
from contactlists.core.readstore import ReadStore
from contactlists.core.settings import Settings
from contactlists.providers.linkedin import LinkedInHttp
from contactlists.web.ratelimit import RequestLimits
from contactlists.web.shielding import ShieldedWork
from contactlists.web.state import state_of


async def get_database(request: Request) -> Database:
    return state_of(request).database


async def get_reads(request: Request) -> ReadStore:
    return state_of(request).reads


async def get_app_settings(request: Request) -> Settings:
    return state_of(request).settings


async def get_http_client(request: Request) -> LinkedInHttp:
    return state_of(request).http


async def request_id(request: Request) -> str:
    value: str = request.state.request_id
    return value


async def request_limits(request: Request) -> RequestLimits:
    """The budgets the contract route spent for this request; a create spends another."""
    limits: RequestLimits = request.state.rate_limits
    return limits


async def shielded_work(request: Request) -> ShieldedWork:
    return state_of(request).shielded


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


class PreparedResponse(Response):
    """A response from finished parts: the body's bytes and the raw header pairs.

    Starlette's `Response` encodes its headers from a mapping each time one is
    made; here they come encoded (a cached page keeps its own), in the order
    Starlette would write them, so the bytes on the wire are the same.
    """

    def __init__(
        self, body: bytes, raw_headers: list[tuple[bytes, bytes]], status_code: int = 200
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.raw_headers = raw_headers
        self.background = None


_JSON_CONTENT_TYPE = (b"content-type", b"application/json")


def json_response(
    body: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialise straight to bytes: the bodies are already plain JSON values."""
    content = orjson.dumps(body)
    if headers is None and status_code != 204:
        length = (b"content-length", b"%d" % len(content))
        return PreparedResponse(content, [length, _JSON_CONTENT_TYPE], status_code)
    return Response(
        content, status_code=status_code, headers=headers, media_type="application/json"
    )
