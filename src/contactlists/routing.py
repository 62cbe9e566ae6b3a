"""The contract's request pipeline, in the contract's order of checks.

FastAPI reads and validates a body before it resolves dependencies, which would
answer a malformed body before a missing key. `ContractRoute` runs the checks
that must come first — auth, then the account's rate limit (or, when auth fails,
the client address's), then `Accept`, then the body's size, media type and JSON
syntax — before handing the request to FastAPI's own handler, which then
validates the parsed body against the route's model.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from contactlists.auth import authenticate, bearer_token
from contactlists.errors import (
    FieldError,
    NotAcceptable,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from contactlists.ratelimit import Budget, RequestLimits, client_address
from contactlists.settings import Settings

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


async def _admit(request: Request) -> None:
    """Authenticate, then spend the account's request budget.

    A request that fails authentication spends its client address's budget
    instead, and gets its 401 only while that budget lasts.
    """
    limits = RequestLimits(request.app.state.limiter)
    request.state.rate_limits = limits
    try:
        principal = await authenticate(
            request.app.state.database, request.app.state.reads, bearer_token(request)
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
    request.state.principal = principal
    await limits.spend(Budget.REQUESTS, principal.account_id)


class ContractRoute(APIRoute):
    """An authenticated API route whose early checks follow the contract's order.

    A *direct* endpoint — one whose only parameters are the `Request` and the
    path's own string parameters, returning a `Response` — is called straight
    from here: FastAPI has nothing to inject, validate or serialise for it, and
    skipping its per-request machinery is a large share of a hot read's cost.
    """

    def _is_direct(self) -> bool:
        dependant = self.dependant
        return (
            dependant.request_param_name is not None
            and not dependant.dependencies
            and not (dependant.query_params or dependant.header_params)
            and not (dependant.cookie_params or dependant.body_params)
            and all(param.field_info.annotation is str for param in dependant.path_params)
        )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = self._direct_handler() if self._is_direct() else super().get_route_handler()
        has_body = self.body_field is not None
        # Errors are always JSON; a route may also produce what its 200 declares.
        produced = frozenset({JSON_MEDIA_TYPE, *self.responses.get(200, {}).get("content", {})})

        async def contract_handler(request: Request) -> Response:
            await _admit(request)
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
