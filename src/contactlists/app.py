"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from contactlists.connections.router import connectors_router
from contactlists.connections.router import router as connections_router
from contactlists.contacts.router import router as contacts_router
from contactlists.core.db import Database
from contactlists.core.errors import (
    ServiceUnavailable,
    error_responses,
)
from contactlists.core.memory import release_free_memory
from contactlists.core.metrics import METRICS_PATH, MetricsEndpoint
from contactlists.core.migrate import ensure_migrated
from contactlists.core.readstore import ReadStore, open_read_store
from contactlists.core.settings import Settings, get_settings
from contactlists.credits.router import router as credits_router
from contactlists.lists.page_cache import PageCache
from contactlists.lists.router import router as lists_router
from contactlists.providers.linkedin import LinkedInHttp
from contactlists.web.deadlines import BodyDeadline
from contactlists.web.deps import DatabaseDep, json_response
from contactlists.web.docs import install_docs
from contactlists.web.exception_handlers import install_exception_handlers
from contactlists.web.hot_routes import HotRoutes
from contactlists.web.middleware import RequestContextMiddleware
from contactlists.web.openapi import openapi_document
from contactlists.web.ratelimit import Limiter
from contactlists.web.shielding import ShieldedWork
from contactlists.web.state import AppState

API_DESCRIPTION = (
    "Contact lists from LinkedIn Sales Navigator lead searches: a company's LinkedIn page "
    "and role filters go in, a stored, paged, point-in-time list of leads comes out."
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


class ContactListsApi(FastAPI):
    """FastAPI with one application in front of its middleware stack.

    `front` (the direct GET routes, `HotRoutes`) gets every request first and
    passes on what it does not serve; None leaves every request to the stack.
    """

    front: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        return stack if self.front is None else self.front(stack)


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
            release_free_memory()
            yield
        finally:
            # Creates still running (a SIGTERM's graceful shutdown cancels what
            # outlives its timeout) finish before anything they use is closed.
            await shielded.drain()
            if reads is not None:
                await reads.close()
            await limiter.close()
            await database.dispose()

    app = ContactListsApi(
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
    app.state = AppState()
    routers = (
        lists_router,
        contacts_router,
        credits_router,
        connections_router,
        connectors_router,
        health_router,
    )
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
    in_context = partial(RequestContextMiddleware, debug=settings.debug, plain_paths=plain_paths)
    app.front = partial(
        HotRoutes, routes=served, handlers=app.exception_handlers, in_context=in_context
    )
    app.add_middleware(BodyDeadline, timeout_s=settings.body_timeout_s)
    app.add_middleware(in_context)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app
