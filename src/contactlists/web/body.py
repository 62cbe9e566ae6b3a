"""Reading a request body: its size limit, media type and JSON syntax, before FastAPI."""

from __future__ import annotations

import orjson
from starlette.requests import Request

from contactlists.core.errors import (
    FieldError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

MAX_BODY_BYTES = 1024 * 1024


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
        raise UnsupportedMediaType(
            f"Content-Type {content_type!r} is not supported: send the body as JSON with "
            "`Content-Type: application/json` (curl: -H 'Content-Type: application/json')."
        )
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
