"""The agent tools as agents use them: `contactlists mcp` over stdio and the `/mcp`
mount over Streamable HTTP, both driven by the MCP SDK's own client against a
real `contactlists serve` process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent, TextResourceContents

from contactlists.client import Client as SyncClient
from contactlists.core.db import Database
from tests.api.helpers import company
from tests.conftest import _in_thread, account_maker, sqlite_copy
from tests.live_server import free_port, server_env, serving

TOOLS = {
    "contact_lists-create",
    "contact_lists-list",
    "contact_lists-get",
    "contact_lists-get_contacts",
    "contact_lists-update",
    "contact_lists-delete",
    "credits-get",
    "connection-get",
    "contacts-search",
    "contact_lists-refresh",
    "contact_lists-changes",
}


class Keys(NamedTuple):
    base: str
    test: str  # sandbox, never charged
    limited: str  # a live key of an account with 20 credits
    unconnected: str  # a live key of an account with no Sales Navigator connection
    expiring: str  # a live key whose sandbox session the tests expire


def _provision(database_url: str) -> tuple[str, str, str, str]:
    async def make() -> tuple[str, str, str, str]:
        database = Database(database_url)
        try:
            new = account_maker(database)
            plain, limited = await new(), await new(credits=20)
            unconnected, expiring = await new(connect=False), await new()
        finally:
            await database.dispose()
        return plain.test_key, limited.live_key, unconnected.live_key, expiring.live_key

    return _in_thread(lambda: asyncio.run(make()))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Iterator[Keys]:
    workdir = tmp_path_factory.mktemp("mcp")
    database_url = sqlite_copy(migrated_template, workdir)
    keys = _provision(database_url)
    env = {**server_env(workdir, database_url), "CONTACTLISTS_MCP": "true"}
    with serving(env, workdir) as base:
        yield Keys(base, *keys)


def stdio(server: Keys, key: str, workdir: Path) -> Client:
    """`contactlists mcp` as a desktop agent launches it."""
    command = StdioServerParameters(
        command=sys.executable,
        args=["-m", "contactlists", "mcp"],
        env={"CONTACTLISTS_API_URL": server.base, "CONTACTLISTS_API_KEY": key},
        cwd=workdir,
    )
    return Client(command, read_timeout_seconds=60)


@asynccontextmanager
async def http(server: Keys, key: str) -> AsyncIterator[Client]:
    """The `/mcp` mount, with `key` as the Bearer token."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as session:
        transport = streamable_http_client(f"{server.base}/mcp", http_client=session)
        async with Client(transport, read_timeout_seconds=60) as client:
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool call that must succeed; its structured output."""
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def fail(client: Client, tool: str, **arguments: Any) -> str:
    """A tool call that must fail; the text the agent reads."""
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert result.is_error, result.structured_content
    text = result.content[0]
    assert isinstance(text, TextContent)
    return text.text


def create_args(vanity: str = "sandbox-exact-30", name: str = "Engineers") -> dict[str, Any]:
    return {"name": name, "companyLinkedInUrls": [company(vanity)], "jobTitles": ["Engineer"]}


class TestStdio:
    async def test_lists_the_tools_with_schemas(self, server: Keys, tmp_path: Path) -> None:
        async with stdio(server, server.test, tmp_path) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.description
            assert tool.input_schema["type"] == "object"
            assert tool.output_schema is not None, tool.name
        limit = tools["contact_lists-get_contacts"].input_schema["properties"]["limit"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 25)
        assert tools["contact_lists-get_contacts"].input_schema["required"] == ["listId"]
        assert "hasMore" in str(tools["contact_lists-get_contacts"].output_schema)
        assert "Permanently" in (tools["contact_lists-delete"].description or "")
        assert tools["contact_lists-delete"].annotations.destructive_hint  # type: ignore[union-attr]
        create = tools["contact_lists-create"].input_schema
        assert set(create["required"]) == {"name", "companyLinkedInUrls"}

    async def test_a_repeated_create_makes_one_list_and_charges_once(
        self, server: Keys, tmp_path: Path
    ) -> None:
        async with stdio(server, server.limited, tmp_path) as client:
            assert await call(client, "credits-get") == {"remainingCredits": 20, "unlimited": False}
            first = await call(client, "contact_lists-create", **create_args())
            again = await call(client, "contact_lists-create", **create_args())
            assert again == first
            assert first["contactCount"] == 30
            # 30 leads are two upstream pages: two credits, once.
            assert (await call(client, "credits-get"))["remainingCredits"] == 18
            lists = await call(client, "contact_lists-list")
            assert [item["id"] for item in lists["items"]] == [first["id"]]
            assert (lists["total"], lists["hasMore"], lists["nextOffset"]) == (1, False, None)

    async def test_pages_reads_renames_and_deletes_a_list(
        self, server: Keys, tmp_path: Path
    ) -> None:
        async with stdio(server, server.test, tmp_path) as client:
            created = await call(client, "contact_lists-create", **create_args(name="Paged"))
            list_id = created["id"]
            first = await call(client, "contact_lists-get_contacts", listId=list_id)
            assert (len(first["items"]), first["limit"], first["total"]) == (25, 25, 30)
            assert (first["hasMore"], first["nextOffset"]) == (True, 25)
            rest = await call(
                client, "contact_lists-get_contacts", listId=list_id, offset=first["nextOffset"]
            )
            assert (len(rest["items"]), rest["hasMore"], rest["nextOffset"]) == (5, False, None)
            ids = [item["id"] for item in first["items"] + rest["items"]]
            assert len(set(ids)) == 30
            assert all(item["listId"] == list_id for item in first["items"])

            resource = await client.read_resource(f"contactlists://lists/{list_id}")
            content = resource.contents[0]  # type: ignore[union-attr]
            assert isinstance(content, TextResourceContents)
            assert content.mime_type == "application/json"
            body = json.loads(content.text)
            assert body["list"] == created
            assert body["contacts"] == first
            listed = await client.list_resources()
            assert f"contactlists://lists/{list_id}" in {str(r.uri) for r in listed.resources}

            renamed = await call(client, "contact_lists-update", listId=list_id, name="Renamed")
            assert renamed["name"] == "Renamed"
            assert (await call(client, "contact_lists-get", listId=list_id))["name"] == "Renamed"
            deleted = await call(client, "contact_lists-delete", listId=list_id)
            assert deleted == {"id": list_id, "deleted": True}
            gone = await fail(client, "contact_lists-get", listId=list_id)
            assert "errorCode: LIST_NOT_FOUND" in gone
            assert list_id in gone

    async def test_previews_refreshes_and_compares(self, server: Keys, tmp_path: Path) -> None:
        async with stdio(server, server.limited, tmp_path) as client:
            urls = [company("sandbox-exact-60")]
            preview = await call(
                client, "contacts-search", companyLinkedInUrls=urls, jobTitles=["CTO"], limit=10
            )
            assert (preview["total"], preview["hasMore"], len(preview["items"])) == (60, True, 10)
            assert preview["salesNavConnected"] is True
            text = await fail(client, "contacts-search", limit=10)
            assert "errorCode: MISSING_FILTER" in text
            created = await call(client, "contact_lists-create", **create_args(name="Source"))
            refreshed = await call(client, "contact_lists-refresh", listId=created["id"])
            again = await call(client, "contact_lists-refresh", listId=created["id"])
            assert refreshed["refreshedFrom"] == created["id"]
            assert again["id"] == refreshed["id"]  # a repeated call never pays twice
            changes = await call(
                client, "contact_lists-changes", listId=refreshed["id"], since=created["id"]
            )
            assert changes["summary"] == {
                "added": 0, "removed": 0, "changed": 0, "unchanged": created["contactCount"]
            }  # fmt: skip
            assert changes["items"] == []

    async def test_a_422_is_a_tool_error_with_its_action(
        self, server: Keys, tmp_path: Path
    ) -> None:
        async with stdio(server, server.unconnected, tmp_path) as client:
            text = await fail(client, "contact_lists-create", **create_args())
            connection = await call(client, "connection-get")
        assert "errorCode: SALES_NAVIGATOR_NOT_CONNECTED" in text
        assert "errorAction: CONNECT_SALES_NAVIGATOR" in text
        assert "status: 422" in text
        assert connection["state"] == "not_connected"

        async with stdio(server, server.expiring, tmp_path) as client:
            expired = create_args("sandbox-session-expired")
            text = await fail(client, "contact_lists-create", **expired)
            connection = await call(client, "connection-get")
        assert "errorCode: SALES_NAVIGATOR_SESSION_EXPIRED" in text
        assert "errorAction: RECONNECT_SALES_NAVIGATOR" in text
        assert (connection["provider"], connection["state"]) == ("sandbox", "expired")

    async def test_a_bad_argument_names_its_field(self, server: Keys, tmp_path: Path) -> None:
        async with stdio(server, server.test, tmp_path) as client:
            text = await fail(
                client, "contact_lists-create", **create_args("x") | {"companyLinkedInUrls": ["x"]}
            )
            out_of_range = await fail(client, "contact_lists-get_contacts", listId="x", limit=0)
        assert "errorCode: INVALID_COMPANY_URL" in text
        assert "errorAction: FIX_REQUEST" in text
        assert "field filters.companyLinkedInUrls[0]" in text
        assert "limit" in out_of_range

    async def test_an_unreachable_api_is_a_tool_error(self, server: Keys, tmp_path: Path) -> None:
        nowhere = server._replace(base=f"http://127.0.0.1:{free_port()}")
        async with stdio(nowhere, server.test, tmp_path) as client:
            text = await fail(client, "credits-get")
        assert "errorCode: CONNECTION_FAILED" in text
        assert "errorAction: RETRY_LATER" in text

    def test_refuses_to_start_without_a_key(self, server: Keys, tmp_path: Path) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "contactlists", "mcp"],
            env={"PATH": "/usr/bin:/bin", "CONTACTLISTS_API_URL": server.base},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        assert "CONTACTLISTS_API_KEY" in result.stderr


class TestHttpMount:
    async def test_answers_the_same_calls_with_a_key(self, server: Keys) -> None:
        async with http(server, server.test) as client:
            assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
            created = await call(client, "contact_lists-create", **create_args(name="Over HTTP"))
            again = await call(client, "contact_lists-create", **create_args(name="Over HTTP"))
            assert again["id"] == created["id"]
            page = await call(client, "contact_lists-get_contacts", listId=created["id"], limit=10)
            assert (len(page["items"]), page["hasMore"], page["nextOffset"]) == (10, True, 10)
            resource = await client.read_resource(f"contactlists://lists/{created['id']}")
            content = resource.contents[0]  # type: ignore[union-attr]
            assert isinstance(content, TextResourceContents)
            assert json.loads(content.text)["list"]["id"] == created["id"]
        async with http(server, server.unconnected) as client:
            text = await fail(client, "contact_lists-create", **create_args())
        assert "errorAction: CONNECT_SALES_NAVIGATOR" in text

    async def test_calls_are_the_callers_own(self, server: Keys) -> None:
        """Each call uses the caller's key: another account's list is not found."""
        async with http(server, server.test) as client:
            mine = await call(client, "contact_lists-create", **create_args(name="Mine"))
        async with http(server, server.unconnected) as client:
            text = await fail(client, "contact_lists-get", listId=mine["id"])
        assert "errorCode: LIST_NOT_FOUND" in text

    @pytest.mark.parametrize(
        ("authorization", "error_code"),
        [(None, "MISSING_API_KEY"), ("Bearer sk_test_" + "A" * 43, "INVALID_API_KEY")],
    )
    def test_refuses_a_request_without_a_valid_key(
        self, server: Keys, authorization: str | None, error_code: str
    ) -> None:
        headers = {"Accept": "application/json, text/event-stream"}
        if authorization:
            headers["Authorization"] = authorization
        list_tools = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        response = httpx.post(f"{server.base}/mcp", json=list_tools, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        error = response.json()["error"]
        assert (error["errorCode"], error["errorAction"]) == (error_code, "CHECK_API_KEY")


def test_the_blocking_client_reads_the_connection(server: Keys) -> None:
    with SyncClient(server.base, server.limited) as api:
        connection = api.connection.get()
    assert (connection.provider, connection.state) == ("sandbox", "active")
    assert connection.cookie_names == []


async def test_the_mount_is_absent_unless_enabled(client: httpx.AsyncClient) -> None:
    """The default app (CONTACTLISTS_MCP unset) has no `/mcp`: the contract's 404."""
    response = await client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 404
    assert response.json()["error"]["errorCode"] == "ROUTE_NOT_FOUND"
