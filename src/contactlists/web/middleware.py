"""The outermost middleware: request ids, common headers, the last-resort 500,
and each request's metrics and access line."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactlists.core.errors import InternalError, render_error
from contactlists.core.logging_setup import log_request
from contactlists.core.metrics import UNMATCHED_ROUTE, RequestMetrics
from contactlists.web.ratelimit import RequestLimits

if TYPE_CHECKING:
    from contactlists.core.auth import Principal

logger = logging.getLogger("contactlists")
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
# The variant nibble of a random UUID (RFC 9562 §4.1: 10xx), by the random nibble.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_SECURITY_HEADERS = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
)


def new_request_id() -> str:
    """A random (version 4) UUID in its usual form, formatted from 16 random bytes:
    half the time `str(uuid.uuid4())` takes, on a path where every microsecond shows."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


class RequestContextMiddleware:
    """Request ids, the headers every response carries, the last-resort 500, and
    each request's metrics and access line.

    A pure ASGI middleware (not `BaseHTTPMiddleware`) so it costs one function
    call per message and never buffers a streamed body. A request is recorded
    once its response is over, under the path template of the API route that
    served it (which routing leaves in the scope), the path itself when it is
    one of `plain_paths`, else as unmatched: never a raw path, which would give
    clients a say in the number of series.
    """

    def __init__(
        self, app: ASGIApp, *, debug: bool = False, plain_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.debug = debug
        self.plain_paths = plain_paths
        self.metrics = RequestMetrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.perf_counter()
        incoming = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = (
            incoming if incoming and REQUEST_ID_PATTERN.fullmatch(incoming) else new_request_id()
        )
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 0  # until the response starts

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Appended as raw pairs: no response sets these names itself.
                headers = [*message.get("headers", ()), *_SECURITY_HEADERS]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                limits: RequestLimits | None = state.get("rate_limits")
                if limits is not None:
                    headers.extend(limits.raw_headers())
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            logger.exception("unhandled error", extra={"request_id": request_id})
            if status:
                raise
            error = InternalError("An unexpected error occurred.", debug_cause=repr(exc))
            await render_error(error, request_id, debug=self.debug)(
                scope, receive, send_with_headers
            )
        finally:
            if status:
                self._record(scope, request_id, status, time.perf_counter() - arrived)

    def _record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        route = scope.get("route")
        template: str
        if route is not None:
            template = route.path
        elif scope["path"] in self.plain_paths:
            template = scope["path"]
        else:
            template = UNMATCHED_ROUTE
        method: str = scope["method"]
        self.metrics.observe(template, method, status, seconds)
        principal: Principal | None = scope["state"].get("principal")
        account_id = principal.account_id if principal is not None else None
        log_request(request_id, account_id, template, method, status, seconds)
