"""Direct routes are declared, and the declaration is checked when the route is built."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from contactlists.app import create_app
from contactlists.core.settings import Environment, Settings
from contactlists.lists import repository
from contactlists.web.routes import ContractRoute, NotDirect, direct

# The fast path: what `HotRoutes` serves from the middleware stack, with the
# list its path names read along with the key. A route joins or leaves this
# set on purpose, in this test, never as a side effect of a new parameter.
DIRECT_ROUTES = {
    ("GET", "/v1/contacts/lists", None),
    ("GET", "/v1/contacts/lists/{listId}", "listId"),
    ("GET", "/v1/contacts/lists/{listId}/contacts", "listId"),
}


def _settings() -> Settings:
    return Settings(
        env=Environment.TEST, database_url="sqlite+aiosqlite:///unused.db", secret_key="s" * 48
    )


def test_the_direct_routes_are_exactly_these() -> None:
    app = create_app(_settings(), check_migrations=False)
    found = {
        (method, route.path, route.direct.probe.parameter if route.direct.probe else None)
        for route in app.state.api_routes
        if isinstance(route, ContractRoute) and route.direct is not None
        for method in route.methods
    }
    assert found == DIRECT_ROUTES


async def _context(request: Request) -> str:
    return request.url.path


def _contract_router() -> APIRouter:
    return APIRouter(route_class=ContractRoute)


def test_a_direct_route_given_a_dependency_fails_to_start() -> None:
    router = _contract_router()
    with pytest.raises(NotDirect, match=r"list_contacts .*dependencies"):

        @router.get("/v1/contacts/lists/{listId}/contacts")
        @direct(probe=repository.LIST_PROBE)
        async def list_contacts(
            listId: str, request: Request, path: str = Depends(_context)
        ) -> Response:
            return Response()


def test_a_direct_route_given_a_query_parameter_fails_to_start() -> None:
    router = _contract_router()
    with pytest.raises(NotDirect, match="query or header parameters"):

        @router.get("/v1/contacts/lists")
        @direct()
        async def list_lists(request: Request, limit: int = 20) -> Response:
            return Response()


def test_a_direct_route_must_have_the_parameter_it_probes() -> None:
    router = _contract_router()
    with pytest.raises(NotDirect, match="a probe of a parameter the path lacks"):

        @router.get("/v1/contacts/lists/{id}")
        @direct(probe=repository.LIST_PROBE)
        async def get_list(id: str, request: Request) -> Response:
            return Response()


def test_an_undeclared_route_is_not_direct_even_if_it_could_be() -> None:
    router = _contract_router()

    @router.get("/v1/plain/{name}")
    async def plain(name: str, request: Request) -> Response:
        return Response()

    route = router.routes[-1]
    assert isinstance(route, ContractRoute)
    assert not route.is_direct
