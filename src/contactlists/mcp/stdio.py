"""`contactlists mcp`: the MCP server over stdio, for a desktop agent or IDE.

It talks to a running server through one `AsyncClient` (the API's URL and key
come from `CONTACTLISTS_API_URL` and `CONTACTLISTS_API_KEY`, as the client CLI's
do), so it works against any deployment. stdout carries the protocol alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio

from contactlists.client import AsyncClient
from contactlists.mcp.tools import TOOL_RETRY, build_server


async def serve(api_url: str, api_key: str) -> None:
    async with AsyncClient(api_url, api_key, retry=TOOL_RETRY) as client:

        @contextlib.asynccontextmanager
        async def shared(_request: object | None) -> AsyncIterator[AsyncClient]:
            yield client

        await build_server(shared).run_stdio_async()


def run(api_url: str, api_key: str) -> None:
    anyio.run(serve, api_url, api_key)
