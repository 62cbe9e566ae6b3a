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


def _literal_ends(template: str) -> tuple[str, str]:
    """The text before a path template's first parameter and after its last: a
    path that lacks either cannot match, which rules most routes out without a
    regular expression."""
    return template[: template.index("{")], template[template.rindex("}") + 1 :]


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
        # The GET routes in the router's order: those with a fixed path by path,
        # the templated ones in a list to match in turn.
        self._fixed: dict[str, tuple[int, Route, RouteHandler | None]] = {}
        self._templated: list[tuple[int, Route, str, str, RouteHandler | None]] = []
        # By identity: routes compare by value and are unhashable.
        self._direct: dict[int, RouteHandler] = {}
        gets = [r for r in routes if isinstance(r, Route) and "GET" in (r.methods or ())]
        for order, route in enumerate(gets):
            handler = _direct_handler(route)
            if handler is not None:
                self._direct[id(route)] = handler
            if "{" in route.path:
                head, tail = _literal_ends(route.path)
                self._templated.append((order, route, head, tail, handler))
            else:
                self._fixed.setdefault(route.path, (order, route, handler))
        self._serve_in_context = in_context(self._serve)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            found = self._match(scope["path"])
            if found is not None:
                scope["route"], scope["path_params"] = found
                await self._serve_in_context(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _match(self, path: str) -> tuple[Route, dict[str, Any]] | None:
        """The direct route the router would pick for a GET of `path`, with its
        parameters; None when it would pick another route, or none."""
        fixed = self._fixed.get(path)
        for order, route, head, tail, handler in self._templated:
            if fixed is not None and order > fixed[0]:
                break
            if not path.startswith(head) or not path.endswith(tail):
                continue
            match = route.path_regex.fullmatch(path)
            if match is not None:
                return (route, match.groupdict()) if handler is not None else None
        if fixed is not None and fixed[2] is not None:
            return fixed[1], {}
        return None

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
