"""The one error hierarchy and the one envelope every error is rendered in.

Each `ApiError` subclass fixes the contract's status, `type`, `code`,
`errorCode` and `errorAction`; instances add the message, field errors and
headers. `render_error` is the only place the envelope is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel
from starlette.responses import Response


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ApiError(Exception):
    status: ClassVar[int] = 500
    type: ClassVar[str] = "INTERNAL"
    code: ClassVar[str] = "INTERNAL_ERROR"
    error_code: str = "INTERNAL_ERROR"
    error_action: ClassVar[str | None] = "RETRY_LATER"
    description: ClassVar[str] = "Unexpected server error."

    def __init__(
        self,
        message: str,
        *,
        error_code: str | None = None,
        fields: list[FieldError] | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry_after_s: int | None = None,
        debug_cause: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code
        self.fields = fields or []
        self.details = details or {}
        self.headers = dict(headers or {})
        self.retry_after_s = retry_after_s
        self.debug_cause = debug_cause
        if retry_after_s is not None:
            self.headers["Retry-After"] = str(retry_after_s)


class ValidationFailed(ApiError):
    status = 400
    type = "VALIDATION"
    code = "VALIDATION_ERROR"
    error_code = "INVALID_FIELD"
    error_action = "FIX_REQUEST"
    description = "The request is invalid; `fields` names each offending field."


class Unauthenticated(ApiError):
    status = 401
    type = "AUTHENTICATION"
    code = "UNAUTHENTICATED"
    error_code = "INVALID_API_KEY"
    error_action = "CHECK_API_KEY"
    description = "The API key is missing, malformed, unknown or revoked."

    def __init__(self, message: str, *, error_code: str) -> None:
        super().__init__(message, error_code=error_code, headers={"WWW-Authenticate": "Bearer"})


class InsufficientCredits(ApiError):
    status = 402
    type = "CREDITS"
    code = "INSUFFICIENT_CREDITS"
    error_code = "INSUFFICIENT_CREDITS"
    error_action = "BUY_CREDITS"
    description = "The account's available credits cannot cover the search."


class Forbidden(ApiError):
    status = 403
    type = "AUTHORIZATION"
    code = "FORBIDDEN"
    error_code = "TEST_MODE_FORBIDDEN"
    error_action = "USE_LIVE_KEY"
    description = "Test keys cannot change the connection."


class NotFound(ApiError):
    status = 404
    type = "NOT_FOUND"
    code = "NOT_FOUND"
    error_code = "NOT_FOUND"
    error_action = None
    description = "No such resource for this account and mode."


class ListNotFound(NotFound):
    error_code = "LIST_NOT_FOUND"


class RouteNotFound(NotFound):
    error_code = "ROUTE_NOT_FOUND"


class MethodNotAllowed(ApiError):
    status = 405
    type = "REQUEST"
    code = "METHOD_NOT_ALLOWED"
    error_code = "METHOD_NOT_ALLOWED"
    error_action = "FIX_REQUEST"
    description = "The path exists but not with this method; see `Allow`."


class NotAcceptable(ApiError):
    status = 406
    type = "REQUEST"
    code = "NOT_ACCEPTABLE"
    error_code = "NOT_ACCEPTABLE"
    error_action = "FIX_REQUEST"
    description = "`Accept` excludes every media type the endpoint produces."


class IdempotencyConflict(ApiError):
    status = 409
    type = "CONFLICT"
    code = "IDEMPOTENCY_CONFLICT"
    error_code = "IDEMPOTENCY_CONFLICT"
    error_action = "FIX_REQUEST"
    description = "The Idempotency-Key was used with another body, or is still running."


class IdempotencyInProgress(IdempotencyConflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
    error_code = "IDEMPOTENCY_IN_PROGRESS"
    error_action = "RETRY_LATER"


class PayloadTooLarge(ApiError):
    status = 413
    type = "REQUEST"
    code = "PAYLOAD_TOO_LARGE"
    error_code = "PAYLOAD_TOO_LARGE"
    error_action = "FIX_REQUEST"
    description = "The body is over 1 MiB."


class RequestTimeout(ApiError):
    status = 408
    type = "REQUEST"
    code = "REQUEST_TIMEOUT"
    error_code = "REQUEST_TIMEOUT"
    error_action = "RETRY_LATER"
    description = "The body did not arrive in time."


class UnsupportedMediaType(ApiError):
    status = 415
    type = "REQUEST"
    code = "UNSUPPORTED_MEDIA_TYPE"
    error_code = "UNSUPPORTED_MEDIA_TYPE"
    error_action = "FIX_REQUEST"
    description = "The Content-Type is explicitly not JSON."


class PreconditionFailed(ApiError):
    status = 422
    type = "PRECONDITION"
    code = "SALES_NAVIGATOR_NOT_CONNECTED"
    error_code = "SALES_NAVIGATOR_NOT_CONNECTED"
    error_action = "CONNECT_SALES_NAVIGATOR"
    description = "Sales Navigator is not connected, or its session expired."


class SalesNavigatorSessionExpired(PreconditionFailed):
    code = "SALES_NAVIGATOR_SESSION_EXPIRED"
    error_code = "SALES_NAVIGATOR_SESSION_EXPIRED"
    error_action = "RECONNECT_SALES_NAVIGATOR"


class SalesNavigatorSeatRequired(PreconditionFailed):
    code = "SALES_NAVIGATOR_SEAT_REQUIRED"
    error_code = "SALES_NAVIGATOR_SEAT_REQUIRED"
    error_action = "CONNECT_SALES_NAVIGATOR"
    description = (
        "The LinkedIn member has no active Sales Navigator seat, or several contracts "
        "and none was named (`details.contracts`)."
    )


class RateLimited(ApiError):
    status = 429
    type = "RATE_LIMIT"
    code = "RATE_LIMITED"
    error_code = "RATE_LIMITED"
    error_action = "RETRY_LATER"
    description = "Too many requests; retry after `retryAfter` seconds."


class InternalError(ApiError):
    description = "Unexpected server error (no internals are disclosed)."


class UpstreamFailed(ApiError):
    status = 502
    type = "UPSTREAM"
    code = "UPSTREAM_ERROR"
    error_code = "UPSTREAM_ERROR"
    error_action = "RETRY_LATER"
    description = "The lead search failed upstream after retries."


class UpstreamUnavailable(ApiError):
    status = 503
    type = "UPSTREAM"
    code = "UPSTREAM_RATE_LIMITED"
    error_code = "UPSTREAM_RATE_LIMITED"
    error_action = "RETRY_LATER"
    description = "The upstream throttled the seat, the seat is busy, or the database is down."


class ServiceUnavailable(ApiError):
    """This service cannot serve now (its database is down): not an upstream failure."""

    status = 503
    type = "UNAVAILABLE"
    code = "SERVICE_UNAVAILABLE"
    error_code = "SERVICE_UNAVAILABLE"
    error_action = "RETRY_LATER"
    description = "The database is unavailable; retry after `retryAfter` seconds."


class ConnectionBusy(UpstreamUnavailable):
    code = "CONNECTION_BUSY"
    error_code = "CONNECTION_BUSY"
    description = "Another search on the Sales Navigator seat did not finish in time."


class GatewayTimeout(ApiError):
    status = 504
    type = "UPSTREAM"
    code = "UPSTREAM_TIMEOUT"
    error_code = "UPSTREAM_TIMEOUT"
    error_action = "RETRY_LATER"
    description = "The lead search missed its deadline."


def error_body(error: ApiError, request_id: str, *, debug: bool = False) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "type": error.type,
        "code": error.code,
        "message": error.message,
        "errorCode": error.error_code,
        "errorAction": error.error_action,
        "details": error.details,
        "requestId": request_id,
        "fields": [{"field": f.field, "message": f.message} for f in error.fields],
    }
    if debug and error.debug_cause:
        inner["debug"] = {"cause": error.debug_cause}
    body: dict[str, Any] = {"error": inner, "message": error.message}
    if error.retry_after_s is not None:
        body["retryAfter"] = error.retry_after_s
    return body


def render_error(error: ApiError, request_id: str, *, debug: bool = False) -> Response:
    return Response(
        orjson.dumps(error_body(error, request_id, debug=debug)),
        status_code=error.status,
        headers=error.headers,
        media_type="application/json",
    )


class _FieldErrorOut(BaseModel):
    field: str
    message: str


class _ErrorOut(BaseModel):
    type: str
    code: str
    message: str
    errorCode: str
    errorAction: str | None
    details: dict[str, Any]
    requestId: str
    fields: list[_FieldErrorOut]


class ErrorEnvelope(BaseModel):
    """The contract's error envelope; `retryAfter` only on 429 and 503."""

    error: _ErrorOut
    message: str
    retryAfter: int | None = None


def error_responses(*errors: type[ApiError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given errors, grouped by status."""
    by_status: dict[int, list[type[ApiError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    return {
        status: {
            "model": ErrorEnvelope,
            "description": " / ".join(dict.fromkeys(e.description for e in group)),
        }
        for status, group in sorted(by_status.items())
    }
