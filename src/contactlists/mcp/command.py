"""The `contactlists mcp` command, light to import: the operator CLI registers it,
and the `serve` process must not load the SDK or an HTTP client for it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

# contactlists.client.DEFAULT_BASE_URL, without importing the client (httpx) here.
DEFAULT_API_URL = "http://127.0.0.1:8000"


def mcp_command(
    api_url: Annotated[
        str,
        typer.Option("--api-url", envvar="CONTACTLISTS_API_URL", help="The API's base URL."),
    ] = DEFAULT_API_URL,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", envvar="CONTACTLISTS_API_KEY", help="An API key.", show_default=False
        ),
    ] = None,
) -> None:
    """Serve the API's tools to an AI agent over stdio (MCP); needs an API key.

    Example: CONTACTLISTS_API_KEY=sk_live_… contactlists mcp"""
    if not api_key:
        print("error: no API key: pass --api-key or set CONTACTLISTS_API_KEY", file=sys.stderr)
        raise typer.Exit(1)
    from contactlists.mcp.stdio import run

    run(api_url, api_key)
