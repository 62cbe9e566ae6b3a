"""The contract's request pipeline, in the contract's order of checks.

FastAPI reads and validates a body before it resolves dependencies, which would
answer a malformed body before a missing key. `ContractRoute` runs the checks
that must come first — auth, then `Accept`, then the body's size, media type
and JSON syntax — before handing the request to FastAPI's own handler, which
then validates the parsed body against the route's model.
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
    UnsupportedMediaType,
    ValidationFailed,
)

MAX_BODY_BYTES = 1024 * 1024
_JSON_RANGES = ("*/*", "application/*", "application/json")


def _accepts_json(accept: str | None) -> bool:
    """False only when `Accept` is present and every range it lists excludes JSON."""
    if not accept or not accept.strip():
        return True
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() not in _JSON_RANGES:
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


class ContractRoute(APIRoute):
    """An authenticated API route whose early checks follow the contract's order."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        has_body = self.body_field is not None

        async def contract_handler(request: Request) -> Response:
            request.state.principal = await authenticate(
                request.app.state.database, bearer_token(request)
            )
            if not _accepts_json(request.headers.get("accept")):
                raise NotAcceptable("This API only produces application/json.")
            if has_body:
                await load_json_object(request)
            return await handler(request)

        return contract_handler
