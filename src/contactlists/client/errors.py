"""What the client raises: one class per error `type` of the API's envelope.

`ApiError` carries every field of the envelope, so callers can branch on
`error_code` and `error_action` without parsing anything; `ConnectionFailed`
means no HTTP answer came back at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import httpx


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ContactListsError(Exception):
    """Anything the client raises."""


class ConnectionFailed(ContactListsError):
    """The server could not be reached, or the connection broke before an answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(ContactListsError):
    """The server answered with an error status."""

    type_name: ClassVar[str] = ""

    def __init__(
        self,
        *,
        status: int,
        type: str,
        code: str,
        message: str,
        error_code: str,
        error_action: str | None,
        request_id: str | None,
        fields: tuple[FieldError, ...] = (),
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.error_code = error_code
        self.error_action = error_action
        self.request_id = request_id
        self.fields = fields
        self.details = details or {}
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.message} ({self.error_code}, request {self.request_id})"


class ValidationError(ApiError):
    type_name = "VALIDATION"


class AuthenticationError(ApiError):
    type_name = "AUTHENTICATION"


class InsufficientCreditsError(ApiError):
    type_name = "CREDITS"


class AuthorizationError(ApiError):
    type_name = "AUTHORIZATION"


class NotFoundError(ApiError):
    type_name = "NOT_FOUND"


class RequestError(ApiError):
    """405, 406, 413, 415: the request itself cannot be served as sent."""

    type_name = "REQUEST"


class ConflictError(ApiError):
    type_name = "CONFLICT"


class PreconditionError(ApiError):
    """Sales Navigator is not connected, or its session expired."""

    type_name = "PRECONDITION"


class RateLimitError(ApiError):
    type_name = "RATE_LIMIT"


class InternalServerError(ApiError):
    type_name = "INTERNAL"


class UpstreamError(ApiError):
    type_name = "UPSTREAM"


class UnavailableError(ApiError):
    type_name = "UNAVAILABLE"


_BY_TYPE: dict[str, type[ApiError]] = {
    cls.type_name: cls
    for cls in (
        ValidationError,
        AuthenticationError,
        InsufficientCreditsError,
        AuthorizationError,
        NotFoundError,
        RequestError,
        ConflictError,
        PreconditionError,
        RateLimitError,
        InternalServerError,
        UpstreamError,
        UnavailableError,
    )
}
# For answers without the envelope (a proxy's HTML 502, say).
_TYPE_BY_STATUS = {
    400: "VALIDATION",
    401: "AUTHENTICATION",
    402: "CREDITS",
    403: "AUTHORIZATION",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "PRECONDITION",
    429: "RATE_LIMIT",
    502: "UPSTREAM",
    503: "UNAVAILABLE",
    504: "UPSTREAM",
}


def _retry_after(response: httpx.Response, body: dict[str, Any]) -> float | None:
    value = body.get("retryAfter", response.headers.get("retry-after"))
    try:
        return max(float(value), 0.0) if value is not None else None
    except (TypeError, ValueError):
        return None


def _envelope(response: httpx.Response) -> tuple[dict[str, Any], dict[str, Any]] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    inner = body.get("error") if isinstance(body, dict) else None
    return (body, inner) if isinstance(inner, dict) and "errorCode" in inner else None


def error_from_response(response: httpx.Response) -> ApiError:
    """The typed exception for an error answer, envelope or not."""
    request_id = response.headers.get("x-request-id")
    envelope = _envelope(response)
    if envelope is None:
        fallback = _TYPE_BY_STATUS.get(
            response.status_code, "INTERNAL" if response.status_code >= 500 else "REQUEST"
        )
        return _BY_TYPE[fallback](
            status=response.status_code,
            type=fallback,
            code=f"HTTP_{response.status_code}",
            message=f"HTTP {response.status_code} {response.reason_phrase}".strip(),
            error_code=f"HTTP_{response.status_code}",
            error_action=None,
            request_id=request_id,
            retry_after=_retry_after(response, {}),
        )
    body, inner = envelope
    error_type = str(inner.get("type", ""))
    return _BY_TYPE.get(error_type, ApiError)(
        status=response.status_code,
        type=error_type,
        code=str(inner.get("code", "")),
        message=str(inner.get("message", "")),
        error_code=str(inner["errorCode"]),
        error_action=inner.get("errorAction"),
        request_id=inner.get("requestId") or request_id,
        fields=tuple(
            FieldError(str(f.get("field", "")), str(f.get("message", "")))
            for f in inner.get("fields") or ()
        ),
        details=inner.get("details") or {},
        retry_after=_retry_after(response, body),
    )
