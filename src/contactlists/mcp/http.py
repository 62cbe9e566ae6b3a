"""The MCP tools on the API itself: Streamable HTTP at `/mcp` (`CONTACTLISTS_MCP=true`).

Each request to `/mcp` is admitted as an API request is: the same Bearer keys,
the same 401 envelope, the same per-account request budget. Each tool call then
goes through `contactlists.client` with the caller's own key, into this app
in-process (`httpx.ASGITransport`, no socket), so a tool call is exactly an API
call: its auth, rate limits, idempotency, credits and errors are the API's own,
and the stdio server and this mount share one implementation.

Stateless with JSON answers: no session lives in a worker, so any worker of a
`serve --workers N` deployment can answer any request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from contactlists.client import AsyncClient
from contactlists.core.auth import bearer_token
from contactlists.mcp.tools import TOOL_RETRY, build_server
from contactlists.web.admission import admit

MCP_PATH = "/mcp"
# The in-process client's base URL: never resolved, the transport is the app itself.
IN_PROCESS_URL = "http://contactlists.internal"


class CallerKeyGate:
    """Admits a request to the MCP endpoint as the API admits its own: a valid
    key (else the contract's 401), then the account's request budget (else 429)."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await admit(Request(scope, receive), None)
        await self.inner(scope, receive, send)


def mount_mcp(app: FastAPI) -> None:
    """Serve the MCP tools at `/mcp`, each call made with the caller's key."""

    @asynccontextmanager
    async def caller_client(request: object | None) -> AsyncIterator[AsyncClient]:
        if not isinstance(request, Request):
            raise TypeError("the HTTP transport passes each call its request")
        transport = httpx.ASGITransport(app=app)
        async with AsyncClient(
            IN_PROCESS_URL,
            bearer_token(request.headers.get("authorization")),
            retry=TOOL_RETRY,
            transport=transport,
        ) as client:
            yield client

    server = build_server(caller_client)
    server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        # The SDK's DNS-rebinding guard protects servers that trust whoever can
        # reach them; this endpoint needs an API key a browser page never has,
        # and must answer under whatever host name the deployment uses.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    sessions = server.session_manager
    app.router.routes.append(Route(MCP_PATH, CallerKeyGate(StreamableHTTPASGIApp(sessions))))
    serve_api = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Any) -> AsyncIterator[Any]:
        async with serve_api(served) as state, sessions.run():
            yield state

    app.router.lifespan_context = lifespan
