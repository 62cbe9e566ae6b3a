"""The exception handlers: everything that turns a failure into the contract's envelope."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy.exc
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contactlists.core.errors import (
    ApiError,
    FieldError,
    InternalError,
    MethodNotAllowed,
    RouteNotFound,
    ServiceUnavailable,
    ValidationFailed,
    render_error,
)

if TYPE_CHECKING:
    pass

logger = logging.getLogger("contactlists")
_ERROR_CODES_BY_TYPE = {
    "extra_forbidden": "UNKNOWN_FIELD",
    "json_invalid": "INVALID_JSON",
    "missing_filter": "MISSING_FILTER",
    "invalid_company_url": "INVALID_COMPANY_URL",
    "unsupported_country": "UNSUPPORTED_COUNTRY",
}
# PostgreSQL SQLSTATE classes that mean "the database cannot serve now, retry":
# connection exception, invalid authorization, unknown database, insufficient
# resources (too many connections) and operator intervention (statement timeout,
# shutdown, starting up).
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "28", "3D", "53", "57"})


def _request_id(request: Request) -> str:
    value: str = request.scope.get("state", {}).get("request_id") or str(uuid.uuid4())
    return value


def _field_path(loc: Sequence[int | str]) -> str:
    """`('body', 'filters', 'countries', 1)` -> `filters.countries[1]`."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path") else list(loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _field_message(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    message = str(error["msg"])
    # Pydantic prefixes custom errors raised in validators with this phrase.
    return message.removeprefix("Value error, ")


def validation_failure(errors: Sequence[Any]) -> ValidationFailed:
    """Map the framework's validation errors onto one 400 with `fields[]`."""
    fields = [FieldError(_field_path(e["loc"]), _field_message(e)) for e in errors]
    codes = [_ERROR_CODES_BY_TYPE.get(e["type"], "INVALID_FIELD") for e in errors]
    if "MISSING_FILTER" in codes:
        first = codes.index("MISSING_FILTER")
        message = fields[first].message
    else:
        first = 0
        message = f"validation failed for '{fields[0].field}': {fields[0].message}"
        if errors[0]["type"] == "invalid_choice":
            # Already in the original's form, which names the filter, not the element.
            message = fields[0].message
        if len(fields) > 1:
            message += f" (and {len(fields) - 1} more)"
    return ValidationFailed(message, error_code=codes[first], fields=fields)


def _database_unavailable(exc: Exception) -> bool:
    """An outage to retry (503), or a bug (the last-resort 500)?"""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and not isinstance(
        exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError
    ):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(sqlstate, str) and sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
    return True


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route serves on this path (Starlette names only the first's)."""
    path = request.url.path
    routes: list[Route] = request.app.state.api_routes
    return sorted(
        {
            method
            for route in routes
            if route.path_regex.fullmatch(path)
            for method in route.methods or ()
        }
    )


def _raw_driver_unavailable(postgresql: bool) -> tuple[type[Exception], ...]:
    """The errors of the raw read path's driver (readstore) that mean an outage.

    asyncpg's only on PostgreSQL: a SQLite server never raises them, and
    importing asyncpg would cost it ~3 MiB resident.
    """
    if not postgresql:
        return (sqlite3.OperationalError,)
    import asyncpg

    return (
        sqlite3.OperationalError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.QueryCanceledError,
        asyncpg.exceptions.TooManyConnectionsError,
        asyncpg.exceptions.CannotConnectNowError,
    )


def install_exception_handlers(app: FastAPI, *, debug: bool, postgresql: bool) -> None:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        return render_error(cast(ApiError, exc), _request_id(request), debug=debug)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        errors = cast(RequestValidationError, exc).errors()
        return render_error(validation_failure(errors), _request_id(request), debug=debug)

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        exc = cast(HTTPException, exc)
        error: ApiError
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            error = MethodNotAllowed(
                f"Method {request.method} is not allowed on {request.url.path}; "
                f"use {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        elif exc.status_code == 404:
            error = RouteNotFound(f"No route matches {request.method} {request.url.path}.")
        else:
            error = InternalError(str(exc.detail))
        return render_error(error, _request_id(request), debug=debug)

    async def on_database_unavailable(request: Request, exc: Exception) -> Response:
        if not _database_unavailable(exc):
            raise exc  # a bug, not an outage: the last-resort 500
        logger.warning("database unavailable: %s", type(exc).__name__)
        error = ServiceUnavailable(
            "The database is unavailable; retry shortly.",
            retry_after_s=1,
            debug_cause=repr(exc),
        )
        return render_error(error, _request_id(request), debug=debug)

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_exception)
    # asyncpg reports an unreachable server as a bare OSError (refused,
    # TimeoutError, DNS failure) and a server that refuses the session or
    # cancels a statement as a DBAPIError carrying its SQLSTATE.
    # The raw read path (readstore) raises its drivers' own errors.
    for unavailable in (
        sqlalchemy.exc.DBAPIError,
        sqlalchemy.exc.TimeoutError,
        OSError,
        *_raw_driver_unavailable(postgresql),
    ):
        app.add_exception_handler(unavailable, on_database_unavailable)
