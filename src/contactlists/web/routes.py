"""The contract's request pipeline, in the contract's order of checks.

FastAPI reads and validates a body before it resolves dependencies, which would
answer a malformed body before a missing key. `ContractRoute` runs the checks
that must come first — auth, then the account's rate limit (or, when auth fails,
the client address's), then `Accept`, then the body's size, media type and JSON
syntax — before handing the request to FastAPI's own handler, which then
validates the parsed body against the route's model.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from contactlists.core.auth import authenticate, bearer_token
from contactlists.core.errors import (
    FieldError,
    NotAcceptable,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from contactlists.core.settings import Settings
from contactlists.web.ratelimit import Budget, RequestLimits, client_address

MAX_BODY_BYTES = 1024 * 1024
JSON_MEDIA_TYPE = "application/json"


def _matches(media_range: str, produced: frozenset[str]) -> bool:
    if media_range == "*/*" or media_range in produced:
        return True
    kind, _, subtype = media_range.partition("/")
    return subtype == "*" and any(media.startswith(kind + "/") for media in produced)


def _acceptable(accept: str | None, produced: frozenset[str]) -> bool:
    """False only when `Accept` is present and every range it lists excludes `produced`."""
    if not accept or not accept.strip():
        return True
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not _matches(media.lower(), produced):
            continue
        quality = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            return True
    return False


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge("The request body is over 1 MiB.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge("The request body is over 1 MiB.")
        chunks.append(chunk)
    return b"".join(chunks)


def _invalid_body(message: str, error_code: str) -> ValidationFailed:
    return ValidationFailed(message, error_code=error_code, fields=[FieldError("body", message)])


async def load_json_object(request: Request) -> None:
    """Read, size-check and parse the body, caching it where FastAPI looks for it."""
    content_type = request.headers.get("content-type")
    if content_type and not _is_json_media_type(content_type):
        raise UnsupportedMediaType(f"Content-Type {content_type!r} is not supported; send JSON.")
    raw = await _read_limited(request)
    if not raw.strip():
        raise _invalid_body("The request body must be a JSON object.", "INVALID_JSON")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _invalid_body(f"The request body is not valid JSON: {exc}", "INVALID_JSON") from exc
    if not isinstance(parsed, dict):
        raise _invalid_body("The request body must be a JSON object.", "INVALID_FIELD")
    request._body = raw
    request._json = parsed


async def _admit(request: Request, probe_parameter: str | None) -> None:
    """Authenticate, then spend the account's request budget.

    A request that fails authentication spends its client address's budget
    instead, and gets its 401 only while that budget lasts.
    """
    state = request.scope["state"]
    limits = state["rate_limits"] = RequestLimits(request.app.state.limiter)
    probe_list = request.path_params.get(probe_parameter) if probe_parameter else None
    if probe_list is not None and "\x00" in probe_list:
        probe_list = None  # names no list, and PostgreSQL refuses NUL even as a parameter
    try:
        principal, probe = await authenticate(
            request.app.state.database,
            request.app.state.reads,
            bearer_token(request),
            probe_list=probe_list,
        )
    except Unauthenticated:
        settings: Settings = request.app.state.settings
        address = client_address(
            request.client.host if request.client else None,
            request.headers.getlist("x-forwarded-for"),
            settings.trusted_proxies,
        )
        await limits.spend(Budget.UNAUTHENTICATED, address)
        raise
    state["principal"] = principal
    state["list_probe"] = probe
    await limits.spend(Budget.REQUESTS, principal.account_id)


class ContractRoute(APIRoute):
    """An authenticated API route whose early checks follow the contract's order.

    A *direct* endpoint — one whose only parameters are the `Request` and the
    path's own string parameters, returning a `Response` — is called straight
    from here: FastAPI has nothing to inject, validate or serialise for it, and
    skipping its per-request machinery is a large share of a hot read's cost.

    A direct route whose path names a list (`PROBED_PARAMETER`) has that list
    read in the same query as the API key (`auth.list_probe_of`), so a read of
    one list — cached page or not — costs one round trip before its own.
    """

    PROBED_PARAMETER = "listId"

    @property
    def is_direct(self) -> bool:
        dependant = self.dependant
        return (
            dependant.request_param_name is not None
            and not dependant.dependencies
            and not (dependant.query_params or dependant.header_params)
            and not (dependant.cookie_params or dependant.body_params)
            and all(param.field_info.annotation is str for param in dependant.path_params)
        )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = self._direct_handler() if self.is_direct else super().get_route_handler()
        has_body = self.body_field is not None
        probed = self.PROBED_PARAMETER in self.param_convertors and self.is_direct
        # Errors are always JSON; a route may also produce what its 200 declares.
        produced = frozenset({JSON_MEDIA_TYPE, *self.responses.get(200, {}).get("content", {})})

        async def contract_handler(request: Request) -> Response:
            await _admit(request, self.PROBED_PARAMETER if probed else None)
            if not _acceptable(request.headers.get("accept"), produced):
                raise NotAcceptable(f"This endpoint produces only {', '.join(sorted(produced))}.")
            if has_body:
                await load_json_object(request)
            return await handler(request)

        return contract_handler

    def _direct_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        request_name = self.dependant.request_param_name or "request"

        async def direct(request: Request) -> Response:
            response: Response = await endpoint(**{request_name: request}, **request.path_params)
            return response

        return direct


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
