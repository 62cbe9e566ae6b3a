"""The contract's request pipeline, in the contract's order of checks.

FastAPI reads and validates a body before it resolves dependencies, which would
answer a malformed body before a missing key. `ContractRoute` runs the checks
that must come first — auth, then the account's rate limit (or, when auth fails,
the client address's), then `Accept`, then the body's size, media type and JSON
syntax — before handing the request to FastAPI's own handler, which then
validates the parsed body against the route's model.

An endpoint may also declare itself *direct* (`@direct()`): it takes only the
`Request` and the path's own string parameters and returns a `Response`, so
FastAPI has nothing to inject, validate or serialise for it, and the route
calls it straight — and `HotRoutes` serves it from the middleware stack.
Skipping that machinery is a large share of a hot read's cost, so the
declaration is checked: a direct endpoint whose signature stops qualifying
fails the app at import, instead of silently leaving the fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from contactlists.core.auth import OwnedRowProbe
from contactlists.core.errors import NotAcceptable
from contactlists.web.admission import admit
from contactlists.web.body import load_json_object
from contactlists.web.headers import header
from contactlists.web.negotiation import JSON_MEDIA_TYPE, acceptable

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_DIRECT = "__contactlists_direct__"


@dataclass(frozen=True, slots=True)
class Direct:
    """An endpoint's declaration that it is direct, and the row its path names."""

    probe: OwnedRowProbe | None = None


class NotDirect(TypeError):
    """A route declared direct whose endpoint does not qualify."""


def direct(*, probe: OwnedRowProbe | None = None) -> Callable[[Endpoint], Endpoint]:
    """Declare an endpoint direct; `probe` reads its path's row with the caller's key."""

    def declare(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _DIRECT, Direct(probe))
        return endpoint

    return declare


class ContractRoute(APIRoute):
    """An authenticated API route whose early checks follow the contract's order."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Read before FastAPI builds the route, which asks for its handler.
        self.direct: Direct | None = getattr(endpoint, _DIRECT, None)
        super().__init__(path, endpoint, **kwargs)
        if self.direct is not None:
            self._check_direct(self.direct)

    @property
    def is_direct(self) -> bool:
        return self.direct is not None

    def _check_direct(self, declared: Direct) -> None:
        dependant = self.dependant
        problems = [
            problem
            for problem, found in (
                ("no `Request` parameter", dependant.request_param_name is None),
                ("dependencies", bool(dependant.dependencies)),
                (
                    "query or header parameters",
                    bool(dependant.query_params or dependant.header_params),
                ),
                (
                    "cookie or body parameters",
                    bool(dependant.cookie_params or dependant.body_params),
                ),
                (
                    "a path parameter that is not `str`",
                    any(param.field_info.annotation is not str for param in dependant.path_params),
                ),
                (
                    "a probe of a parameter the path lacks",
                    declared.probe is not None
                    and declared.probe.parameter not in self.param_convertors,
                ),
            )
            if found
        ]
        if problems:
            name = getattr(self.endpoint, "__qualname__", repr(self.endpoint))
            raise NotDirect(
                f"{name} ({', '.join(sorted(self.methods or ()))} {self.path}) is declared direct "
                f"but has {', '.join(problems)}: drop @direct() or restore its signature."
            )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = self._direct_handler() if self.is_direct else super().get_route_handler()
        has_body = self.body_field is not None
        probe = self.direct.probe if self.direct is not None else None
        # Errors are always JSON; a route may also produce what its 200 declares.
        produced = frozenset({JSON_MEDIA_TYPE, *self.responses.get(200, {}).get("content", {})})

        async def contract_handler(request: Request) -> Response:
            await admit(request, probe)
            if not acceptable(header(request.scope, b"accept"), produced):
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
