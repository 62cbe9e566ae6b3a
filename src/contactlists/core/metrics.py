"""Prometheus metrics: what is counted, how a request is recorded cheaply, and `/metrics`.

Requests are labelled by their route's path template (`/v1/contacts/lists/{listId}`),
never the raw path, so the number of series stays bounded whatever clients send.
The hot read path is benchmarked against hand-written code, so recording a
request resolves its label children once per (route, method, status) and then
costs one counter increment and one histogram observation.

With several workers (`contactlists serve --workers N`), `serve` gives every
worker one fresh `PROMETHEUS_MULTIPROC_DIR`; prometheus-client then keeps each
worker's values in files there and `/metrics`, whichever worker answers it, sums
them all. The directory is removed when `serve` exits.
"""

from __future__ import annotations

import hmac
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from pydantic import SecretStr
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# The route label of a request no route matched (a 404 ROUTE_NOT_FOUND).
UNMATCHED_ROUTE = "unmatched"
# From a cached page (milliseconds) to a create that waited for its seat (minutes).
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)

REQUESTS = Counter(
    "contactlists_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ("route", "method", "status"),
)
REQUEST_LATENCY = Histogram(
    "contactlists_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template and method.",
    ("route", "method"),
    buckets=LATENCY_BUCKETS,
)
SEARCHES = Counter(
    "contactlists_upstream_searches",
    "Upstream lead searches run by creates, by provider and outcome.",
    ("provider", "outcome"),
)
SEARCH_LATENCY = Histogram(
    "contactlists_upstream_search_duration_seconds",
    "Duration of a create's upstream search (seat wait and company lookups included).",
    ("provider",),
    buckets=LATENCY_BUCKETS,
)
PAGES = Counter(
    "contactlists_upstream_pages",
    "Upstream result pages fetched, by provider.",
    ("provider",),
)
CREDITS_CHARGED = Counter(
    "contactlists_credits_charged",
    "Credits charged to limited accounts by stored lists.",
)


class RequestMetrics:
    """Records finished requests; label children are resolved once per label set."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                REQUESTS.labels(route, method, str(status)),
                REQUEST_LATENCY.labels(route, method),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


@contextmanager
def observe_search(provider: str) -> Iterator[None]:
    """Count one search by its outcome and time it.

    The outcome is `ok`, or the failure's type in snake case: the provider's
    (`upstream_error`, `upstream_rate_limited`, `upstream_timeout`,
    `session_expired`, `unknown_company`) or the seat's (`connection_busy`,
    `upstream_unavailable` for a spent page budget). Types are few and fixed
    in code, so the label stays bounded.
    """
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except BaseException as failure:
        outcome = _CAMEL_HUMP.sub("_", type(failure).__name__).lower()
        raise
    finally:
        SEARCHES.labels(provider, outcome).inc()
        SEARCH_LATENCY.labels(provider).observe(time.perf_counter() - started)


def page_fetched(provider: str) -> None:
    PAGES.labels(provider).inc()


def credits_charged(credits: int) -> None:
    if credits > 0:
        CREDITS_CHARGED.inc(credits)


@contextmanager
def multiprocess_directory(workers: int) -> Iterator[None]:
    """For N > 1 workers: a fresh directory the workers share their values in.

    Set before uvicorn spawns the workers, which inherit it and so record into
    files; removed once they have all exited.
    """
    if workers <= 1:
        yield
        return
    directory = tempfile.mkdtemp(prefix="contactlists-metrics-")
    previous = os.environ.get(MULTIPROCESS_VARIABLE)
    os.environ[MULTIPROCESS_VARIABLE] = directory
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_VARIABLE, None)
        else:
            os.environ[MULTIPROCESS_VARIABLE] = previous
        shutil.rmtree(directory, ignore_errors=True)


def _exposition() -> bytes:
    if os.environ.get(MULTIPROCESS_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


class MetricsEndpoint:
    """Serves `GET /metrics` to the bearer of `CONTACTLISTS_METRICS_TOKEN`.

    A middleware rather than a route: every other request, a wrong token or any
    other method included, goes on to the router, where no route has the path,
    so it gets the unknown-route 404 and cannot tell `/metrics` exists (a route
    would answer other methods with a 405). Added only when the token is set.
    """

    def __init__(self, app: ASGIApp, *, token: SecretStr) -> None:
        self.app = app
        self._expected = b"bearer " + token.get_secret_value().encode()

    def _authorized(self, scope: Scope) -> bool:
        presented = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        scheme, _, value = presented.partition(b" ")
        return hmac.compare_digest(scheme.lower() + b" " + value.strip(), self._expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == METRICS_PATH
            and scope["method"] == "GET"
            and self._authorized(scope)
        ):
            await Response(_exposition(), media_type=CONTENT_TYPE_LATEST)(scope, receive, send)
            return
        await self.app(scope, receive, send)
