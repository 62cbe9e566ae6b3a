"""Serving the direct GET routes straight from the middleware stack."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from contactlists.web.routes import ContractRoute

ExceptionHandler = Callable[[Request, Exception], Coroutine[Any, Any, Response]]


def _direct_handler(route: BaseRoute) -> Callable[[Request], Coroutine[Any, Any, Response]] | None:
    if isinstance(route, ContractRoute) and route.is_direct:
        return route.get_route_handler()
    return None


class HotRoutes:
    """Serves the direct GET routes straight from the middleware stack.

    Measured in-process (`make profile`): the framework's layers between the
    user middleware and a direct endpoint — exception middleware, exit stack,
    router, route wrapper — cost more than everything a cached contacts page
    does itself. A GET is matched against the app's GET routes in the router's
    order; when the route the router would pick is a direct `ContractRoute`,
    its handler is called here, with the path parameters, `scope["route"]` and
    exception handlers the router would have given it. Every other request
    goes on down the stack.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        handlers: Mapping[Any, Callable[..., Any]],
    ) -> None:
        self.app = app
        self.handlers = handlers
        self.routes = [
            (route, _direct_handler(route))
            for route in routes
            if isinstance(route, Route) and "GET" in (route.methods or ())
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            path: str = scope["path"]
            for route, handler in self.routes:
                match = route.path_regex.fullmatch(path)
                if match is None:
                    continue
                if handler is None:
                    break
                scope["route"] = route
                scope["path_params"] = match.groupdict()
                request = Request(scope, receive, send)
                try:
                    response = await handler(request)
                except Exception as exc:
                    response = await self._handled(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _handled(self, request: Request, exc: Exception) -> Response:
        """The app's own handler for `exc`, as the exception middleware would find it."""
        for kind in type(exc).__mro__:
            handler: ExceptionHandler | None = self.handlers.get(kind)
            if handler is not None:
                return await handler(request, exc)
        raise exc
