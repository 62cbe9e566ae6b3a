"""Serving the direct GET routes in front of the framework's middleware stack."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from contactlists.web.routes import ContractRoute

ExceptionHandler = Callable[[Request, Exception], Coroutine[Any, Any, Response]]
RouteHandler = Callable[[Request], Coroutine[Any, Any, Response]]


def _direct_handler(route: BaseRoute) -> RouteHandler | None:
    if isinstance(route, ContractRoute) and route.is_direct:
        return route.get_route_handler()
    return None


def _literal_ends(path: str) -> tuple[str, str]:
    """The text before a path template's first parameter and after its last: a
    path that lacks either cannot match, which rules most routes out without a
    regular expression."""
    if "{" not in path:
        return path, path
    return path[: path.index("{")], path[path.rindex("}") + 1 :]


class HotRoutes:
    """Serves the direct GET routes before the framework's own layers.

    Measured in-process (`make profile`): the framework's layers — its error
    and body-limit middleware, the exception middleware, exit stack, router and
    route wrapper — cost more than everything a cached contacts page does
    itself. So this is the outermost application: a GET is matched against the
    app's GET routes in the router's order, and when the route the router would
    pick is a direct `ContractRoute`, its handler runs here, inside its own
    request context (`in_context`, the same middleware every other request
    passes through), with the path parameters, `scope["route"]` and exception
    handlers the router would have given it. Every other request goes on to the
    framework's stack (`app`). A direct handler never reads a body, so the body
    deadline has nothing to time on this path.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        handlers: Mapping[Any, Callable[..., Any]],
        in_context: Callable[[ASGIApp], ASGIApp],
    ) -> None:
        self.app = app
        self.handlers = handlers
        gets = [r for r in routes if isinstance(r, Route) and "GET" in (r.methods or ())]
        self.routes = [
            (route, *_literal_ends(route.path), _direct_handler(route)) for route in gets
        ]
        # By identity: routes compare by value and are unhashable.
        self._direct: dict[int, RouteHandler] = {
            id(route): handler for route, _, _, handler in self.routes if handler is not None
        }
        self._serve_in_context = in_context(self._serve)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            path: str = scope["path"]
            for route, head, tail, handler in self.routes:
                if not path.startswith(head) or not path.endswith(tail):
                    continue
                match = route.path_regex.fullmatch(path)
                if match is None:
                    continue
                if handler is None:
                    break
                scope["route"] = route
                scope["path_params"] = match.groupdict()
                await self._serve_in_context(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await self._direct[id(scope["route"])](request)
        except Exception as exc:
            response = await self._handled(request, exc)
        await response(scope, receive, send)

    async def _handled(self, request: Request, exc: Exception) -> Response:
        """The app's own handler for `exc`, as the exception middleware would find it."""
        for kind in type(exc).__mro__:
            handler: ExceptionHandler | None = self.handlers.get(kind)
            if handler is not None:
                return await handler(request, exc)
        raise exc
