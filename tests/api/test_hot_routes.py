"""The hot GET routes answer exactly as the framework's own routing would.

`HotRoutes` serves the direct GET routes in front of the framework's stack. The
same requests are sent to the app as it runs and to one without `HotRoutes`
in front, on one database, and every answer must match:
status, body and headers, except what differs by nature (request ids, the
moving rate-limit figures).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from contactlists.app import ContactListsApi, create_app
from contactlists.core.metrics import REQUESTS
from contactlists.core.settings import Settings
from contactlists.web.routes import ContractRoute
from tests.api.helpers import create_body
from tests.conftest import AccountKeys, MakeAccount, asgi_client

LISTS = "/v1/contacts/lists"
VARYING_HEADERS = {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset"}


@asynccontextmanager
async def _framework_routed(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with every request left to the framework's router."""
    application = create_app(settings)
    assert isinstance(application, ContactListsApi)
    application.front = None
    async with application.router.lifespan_context(application):
        yield application


def _comparable(response: httpx.Response) -> tuple[int, Any, list[tuple[str, str]]]:
    body: Any = response.content
    if response.headers.get("content-type") == "application/json" and body:
        body = orjson.loads(body)
        if "error" in body:
            del body["error"]["requestId"]
    headers = sorted((k, v) for k, v in response.headers.items() if k not in VARYING_HEADERS)
    return response.status_code, body, headers


def _direct_get_paths(app: FastAPI) -> set[str]:
    return {
        route.path
        for route in app.state.api_routes
        if isinstance(route, ContractRoute) and route.is_direct and "GET" in route.methods
    }


async def test_hot_routes_answer_as_the_router_does(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    acct: AccountKeys,
    make_account: MakeAccount,
) -> None:
    created = await client.post(LISTS, json=create_body("sandbox-exact-30"), headers=acct.live)
    assert created.status_code == 201
    list_id = created.json()["id"]
    other = await make_account()
    page = f"{LISTS}/{list_id}/contacts"
    etag = (await client.get(page, headers=acct.live)).headers["etag"]
    requests: list[tuple[str, dict[str, str]]] = [
        (LISTS, acct.live),
        (f"{LISTS}?limit=1&offset=0", acct.live),
        (f"{LISTS}?offset=-1", acct.live),
        (f"{LISTS}/{list_id}", acct.live),
        (f"{LISTS}/{list_id}", other.live),
        (f"{LISTS}/{list_id}", acct.test),
        (f"{LISTS}/cl_missing", acct.live),
        (f"{LISTS}/cl_%00nul", acct.live),
        (page, acct.live),
        (f"{page}?limit=10&offset=20", acct.live),
        (f"{page}?limit=0", acct.live),
        (f"{page}?limit=1&limit=2", acct.live),
        (f"{page}?offset=abc", acct.live),
        (page, {**acct.live, "If-None-Match": etag}),
        (page, {**acct.live, "Accept": "text/html"}),
        (page, other.live),
        (page, {}),
        (page, {"Authorization": "Bearer sk_live_" + "x" * 43}),
        (f"{LISTS}/cl_missing/contacts", acct.live),
        (f"{LISTS}/cl_%00nul/contacts", acct.live),
    ]
    async with _framework_routed(settings) as framework_app, asgi_client(framework_app) as routed:
        for path, headers in requests:
            hot = await client.get(path, headers=headers)
            framework = await routed.get(path, headers=headers)
            assert _comparable(hot) == _comparable(framework), path
    # Every direct GET route was exercised above.
    assert {path.split("?")[0].replace(list_id, "{listId}") for path, _ in requests} >= (
        _direct_get_paths(app)
    )


async def test_hot_routes_are_counted_under_their_template(
    client: httpx.AsyncClient, acct: AccountKeys
) -> None:
    template = f"{LISTS}/{{listId}}/contacts"
    counter = REQUESTS.labels(template, "GET", "404")
    before = counter._value.get()
    await client.get(f"{LISTS}/cl_missing/contacts", headers=acct.live)
    assert counter._value.get() == before + 1


async def test_head_and_other_methods_still_go_to_the_router(
    client: httpx.AsyncClient, acct: AccountKeys
) -> None:
    response = await client.head(f"{LISTS}/cl_missing/contacts", headers=acct.live)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
