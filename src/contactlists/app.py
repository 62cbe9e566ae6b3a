"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.routing import Route

from contactlists.connections.router import router as connections_router
from contactlists.credits.router import router as credits_router
from contactlists.db import Database
from contactlists.deadlines import BodyDeadline
from contactlists.deps import DatabaseDep, json_response
from contactlists.docs import install_docs
from contactlists.errors import (
    InternalError,
    NotAcceptable,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
    Unauthenticated,
    error_responses,
)
from contactlists.handlers import RequestContextMiddleware, install_exception_handlers
from contactlists.lists.page_cache import PageCache
from contactlists.lists.router import router as lists_router
from contactlists.metrics import METRICS_PATH, MetricsEndpoint
from contactlists.migrate import ensure_migrated
from contactlists.providers.linkedin import LinkedInHttp
from contactlists.ratelimit import Limiter
from contactlists.readstore import ReadStore, open_read_store
from contactlists.routing import HotRoutes
from contactlists.settings import Settings, get_settings
from contactlists.shielding import ShieldedWork

API_DESCRIPTION = (
    "Contact lists from LinkedIn Sales Navigator lead searches: a company's LinkedIn page "
    "and role filters go in, a stored, paged, point-in-time list of leads comes out."
)
# Every authenticated operation can answer these, whatever its own errors are
# (a request of any method may send a body, and be too slow sending it).
_COMMON_ERRORS = error_responses(
    Unauthenticated, NotAcceptable, RequestTimeout, RateLimited, InternalError, ServiceUnavailable
)

health_router = APIRouter(tags=["Health"])


@health_router.get("/healthz", operation_id="healthz", responses={200: {"description": "Alive."}})
async def healthz() -> Response:
    """Liveness: the process answers."""
    return json_response({"status": "ok"})


@health_router.get(
    "/readyz",
    operation_id="readyz",
    responses={200: {"description": "Ready."}, **error_responses(ServiceUnavailable)},
)
async def readyz(database: DatabaseDep) -> Response:
    """Readiness: the database answers."""
    await database.ping()
    return json_response({"status": "ready"})


# OpenAPI links: where a list's id comes from in each list operation's success,
# and the operations it feeds (clients and the fuzzer's stateful phase follow them).
_LIST_ID_SOURCES = {
    "createContactList": ("201", "$response.body#/id"),
    "getContactList": ("200", "$response.body#/id"),
    "renameContactList": ("200", "$response.body#/id"),
    "listContacts": ("200", "$request.path.listId"),
    "exportContacts": ("200", "$request.path.listId"),
    "deleteContactList": ("204", "$request.path.listId"),
}
_LIST_ID_TARGETS = tuple(name for name in _LIST_ID_SOURCES if name != "createContactList")


def _add_links(schema: dict[str, Any]) -> None:
    for operations in schema["paths"].values():
        for operation in operations.values():
            source = _LIST_ID_SOURCES.get(operation.get("operationId", ""))
            if source is None:
                continue
            status, expression = source
            operation["responses"][status]["links"] = {
                target: {"operationId": target, "parameters": {"listId": expression}}
                for target in _LIST_ID_TARGETS
            }


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema.setdefault("components", {})["securitySchemes"] = {
        "ApiKeyAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "`sk_live_` or `sk_test_` followed by 43 URL-safe characters.",
        }
    }
    envelope_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            # FastAPI's default 422 describes its own validation errors; ours are 400s.
            if "HTTPValidationError" in str(operation["responses"].get("422")):
                del operation["responses"]["422"]
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            operation["security"] = [{"ApiKeyAuth": []}]
            for status, spec in _COMMON_ERRORS.items():
                operation["responses"].setdefault(
                    str(status),
                    {
                        "description": spec["description"],
                        "content": {"application/json": {"schema": envelope_ref}},
                    },
                )
    _add_links(schema)
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database.from_settings(settings)
        limiter = Limiter(settings)
        shielded = ShieldedWork()
        http = LinkedInHttp(settings.linkedin_request_timeout_s)
        reads: ReadStore | None = None
        try:
            if check_migrations:
                await ensure_migrated(database, settings.database_url)
            app.state.database = database
            app.state.settings = settings
            app.state.limiter = limiter
            app.state.shielded = shielded
            app.state.http = http
            app.state.reads = reads = await open_read_store(settings)
            app.state.page_cache = PageCache(
                settings.page_cache_mb * 1024 * 1024, settings.page_cache_entries
            )
            yield
        finally:
            # Creates still running (a SIGTERM's graceful shutdown cancels what
            # outlives its timeout) finish before anything they use is closed.
            await shielded.drain()
            if reads is not None:
                await reads.close()
            await limiter.close()
            await database.dispose()

    app = FastAPI(
        title="Contact Lists API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        debug=False,
        # A slash redirect would build an absolute URL from the Host header; an
        # unknown path, trailing slash or not, is the 404 envelope.
        redirect_slashes=False,
        # Served from package data by `docs.install_docs` (or not at all), never a CDN.
        docs_url=None,
        redoc_url=None,
        # The contract: no Content-Type means JSON (explicit non-JSON is a 415).
        strict_content_type=False,
        # Observability is Prometheus and JSON access lines (README "Operations");
        # FastAPI's OpenTelemetry bridge would otherwise look for providers on
        # every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    routers = (lists_router, credits_router, connections_router, health_router)
    if settings.docs:
        install_docs(app, app.openapi_url or "/openapi.json")
    for router in routers:
        app.include_router(router)
    if settings.mcp:  # the agent tools over Streamable HTTP; imports the MCP SDK
        from contactlists.mcp.http import mount_mcp

        mount_mcp(app)
    app.state.api_routes = [route for router in routers for route in router.routes]
    install_exception_handlers(app, debug=settings.debug, postgresql=not settings.is_sqlite)
    if settings.metrics_token is not None:
        app.add_middleware(MetricsEndpoint, token=settings.metrics_token)
    # Paths served by no API route (the docs, the OpenAPI document, /metrics) are
    # fixed, so they can label a request's metrics themselves.
    plain = (r.path for r in app.routes if isinstance(r, Route) and not isinstance(r, APIRoute))
    plain_paths = frozenset({METRICS_PATH, *plain})
    # The framework's own routes (the docs) are registered before the routers.
    served = [route for route in app.routes if isinstance(route, Route)] + app.state.api_routes
    app.add_middleware(HotRoutes, routes=served, handlers=app.exception_handlers)
    app.add_middleware(BodyDeadline, timeout_s=settings.body_timeout_s)
    app.add_middleware(RequestContextMiddleware, debug=settings.debug, plain_paths=plain_paths)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
