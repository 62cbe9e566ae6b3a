"""Tenant isolation: every operation × every caller that is not the owner.

The operations come from the app's own OpenAPI document, so a new route is in
the matrix the day it is added: one with `{listId}` in its path is checked as a
list operation with no further work; any other must be given its expectations
in `ACCOUNT_OPERATIONS` or `PUBLIC_OPERATIONS`, or this test fails.

The owner is a limited account with a sandbox connection and a live list. The
callers: another account (limited, not connected), the owner's own test key
(another mode), the owner's revoked live key, and no key at all. On the owner's
list every one of them gets the contract's 404 (another account or mode) or
401, and the database is unchanged; on the account-level routes they see and
change their own data only; the owner's view is the same before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from contactlists.accounts import service as accounts
from contactlists.core.db import Database
from tests.api.helpers import assert_error, company, create_body
from tests.conftest import AccountKeys, MakeAccount, Snapshot

LISTS = "/v1/contacts/lists"
OWNER_CREDITS = 100
OTHER_CREDITS = 7
CALLERS = ("other", "test", "revoked", "none")
BODIES: dict[str, dict[str, Any]] = {
    "createContactList": create_body("sandbox-exact-3", name="Caller's own list"),
    "renameContactList": {"name": "Hijacked"},
    "putSalesNavigatorConnection": {"provider": "sandbox"},
    "searchContacts": {"companyLinkedInUrls": [company("sandbox-exact-3")], "limit": 0},
}
# Operations that compare two lists: the owner's list in both positions.
QUERIES = {"listContactChanges": "since={listId}", "exportContactChanges": "since={listId}"}
# Unauthenticated callers: the contract's 401 codes.
UNAUTHENTICATED = {"revoked": "REVOKED_API_KEY", "none": "MISSING_API_KEY"}

Check = Callable[[httpx.Response, "Matrix"], None]


def _status(status: int) -> Check:
    def check(response: httpx.Response, matrix: Matrix) -> None:
        assert response.status_code == status, response.text

    return check


def _forbidden(response: httpx.Response, matrix: Matrix) -> None:
    assert_error(response, 403, "TEST_MODE_FORBIDDEN")


def _page_without_owner_list(response: httpx.Response, matrix: Matrix) -> None:
    assert response.status_code == 200, response.text
    assert matrix.list_id not in response.text
    assert response.json()["total"] == 0


def _own_credits(response: httpx.Response, matrix: Matrix) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["remainingCredits"] == OTHER_CREDITS


def _own_connection(response: httpx.Response, matrix: Matrix) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "not_connected"


def _owner_connection(response: httpx.Response, matrix: Matrix) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "active"


def _connector(status: str) -> Check:
    def check(response: httpx.Response, matrix: Matrix) -> None:
        assert response.status_code == 200, response.text
        assert response.json()["connectors"][0]["status"] == status

    return check


def _a_search_of_its_own(response: httpx.Response, matrix: Matrix) -> None:
    assert response.status_code == 200, response.text
    assert (response.json()["total"], response.json()["salesNavConnected"]) == (3, True)


def _a_list_of_its_own(response: httpx.Response, matrix: Matrix) -> None:
    assert response.status_code == 201, response.text
    assert response.json()["id"] != matrix.list_id


# What another account and the owner's test key get on each account-level
# operation, in the order they are called (the other account connects before
# it creates, and disconnects last).
ACCOUNT_OPERATIONS: dict[str, dict[str, Check]] = {
    "listContactLists": {"other": _page_without_owner_list, "test": _page_without_owner_list},
    "getCredits": {"other": _own_credits, "test": _status(200)},
    "getSalesNavigatorConnection": {"other": _own_connection, "test": _owner_connection},
    "listConnectors": {"other": _connector("disconnected"), "test": _connector("connected")},
    "putSalesNavigatorConnection": {"other": _status(200), "test": _forbidden},
    "searchContacts": {"other": _a_search_of_its_own, "test": _a_search_of_its_own},
    "createContactList": {"other": _a_list_of_its_own, "test": _a_list_of_its_own},
    "deleteSalesNavigatorConnection": {"other": _status(204), "test": _forbidden},
}
PUBLIC_OPERATIONS = {"healthz", "readyz"}


class Matrix:
    """The owner, its list, and how each caller authenticates."""

    def __init__(self, owner: AccountKeys, other: AccountKeys, list_id: str) -> None:
        self.owner = owner
        self.list_id = list_id
        self.headers = {
            "other": other.live,
            "test": owner.test,
            "revoked": owner.live,
            "none": {},
        }

    async def owner_view(self, client: httpx.AsyncClient) -> list[tuple[int, bytes]]:
        """Everything the owner can read, byte for byte."""
        paths = [
            LISTS,
            f"{LISTS}/{self.list_id}",
            f"{LISTS}/{self.list_id}/contacts",
            f"{LISTS}/{self.list_id}/export",
            "/v1/credits",
            "/v1/integrations/sales-navigator",
        ]
        view = []
        for path in paths:
            response = await client.get(path, headers=self.live_owner)
            view.append((response.status_code, response.content))
        return view

    @property
    def live_owner(self) -> dict[str, str]:
        return self.owner.live


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI wraps those)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


def operations(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, operationId) of every operation the app publishes, in order."""
    published = [
        (method.upper(), path, operation["operationId"])
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
    ]
    routed = {(method, route.path) for route in _api_routes(app.routes) for method in route.methods}
    assert routed == {(method, path) for method, path, _ in published}, "unpublished route"
    return published


def _url(path: str, list_id: str, operation_id: str = "") -> str:
    query = QUERIES.get(operation_id, "").replace("{listId}", list_id)
    return path.replace("{listId}", list_id) + (f"?{query}" if query else "")


async def _revoke_live_key(database: Database, account: AccountKeys) -> None:
    for key in await accounts.list_keys(database, account.id):
        if key.mode == "live":
            await accounts.revoke_key(database, key.id)


@pytest.mark.parametrize("caller", CALLERS)
async def test_no_caller_but_the_owner_reads_or_changes_anything(
    client: httpx.AsyncClient,
    app: FastAPI,
    database: Database,
    make_account: MakeAccount,
    snapshot: Snapshot,
    caller: str,
) -> None:
    owner = await make_account(credits=OWNER_CREDITS)
    other = await make_account(credits=OTHER_CREDITS, connect=False)
    created = await client.post(LISTS, json=create_body("sandbox-exact-30"), headers=owner.live)
    assert created.status_code == 201, created.text
    matrix = Matrix(owner, other, created.json()["id"])
    before = await matrix.owner_view(client)
    if caller == "revoked":
        await _revoke_live_key(database, owner)
        # The owner reads on with a fresh key.
        _, key = await accounts.create_key(database, owner.id, "live")
        matrix.owner = AccountKeys(owner.id, key, owner.test)
    headers = matrix.headers[caller]
    published = operations(app)
    list_operations = [op for op in published if "{listId}" in op[1]]
    # Deletes last, so that one wrongly obeyed cannot hide what came before it.
    list_operations.sort(key=lambda op: op[0] == "DELETE")
    unchanged = await snapshot()

    for method, path, operation_id in list_operations:
        response = await client.request(
            method,
            _url(path, matrix.list_id, operation_id),
            json=BODIES.get(operation_id),
            headers=headers,
        )
        if caller in UNAUTHENTICATED:
            assert_error(response, 401, UNAUTHENTICATED[caller])
        else:
            error = assert_error(response, 404, "LIST_NOT_FOUND")
            assert error["errorAction"] is None
        assert "Engineering leads" not in response.text
    assert await snapshot() == unchanged

    account_operations = [op for op in published if "{listId}" not in op[1]]
    unknown = {op[2] for op in account_operations} - {*ACCOUNT_OPERATIONS, *PUBLIC_OPERATIONS}
    assert not unknown, f"give these operations isolation expectations: {unknown}"
    order = list(ACCOUNT_OPERATIONS)
    account_operations.sort(key=lambda op: order.index(op[2]) if op[2] in order else len(order))
    for method, path, operation_id in account_operations:
        response = await client.request(
            method, path, json=BODIES.get(operation_id), headers=headers
        )
        if operation_id in PUBLIC_OPERATIONS:
            assert response.status_code == 200, response.text
        elif caller in UNAUTHENTICATED:
            assert_error(response, 401, UNAUTHENTICATED[caller])
        else:
            ACCOUNT_OPERATIONS[operation_id][caller](response, matrix)
        assert matrix.list_id not in response.text
    if caller in UNAUTHENTICATED:
        assert await snapshot() == unchanged
    assert await matrix.owner_view(client) == before
