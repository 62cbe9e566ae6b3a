"""The Python client's retries and typed errors, against an httpx.MockTransport."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from contactlists.client import (
    ApiError,
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    ConnectionFailed,
    ContactList,
    FieldError,
    InsufficientCreditsError,
    PreconditionError,
    RateLimitError,
    RetryPolicy,
    UnavailableError,
    UpstreamError,
    ValidationError,
    _async,
    _sync,
)

BASE = "http://api.test"
KEY = "sk_test_" + "k" * 43
CREATED = {
    "id": "cl_1",
    "name": "Leads",
    "filters": {"companyLinkedInUrls": ["https://www.linkedin.com/company/stripe"]},
    "contactCount": 3,
    "provider": "sandbox",
    "createdAt": "2026-03-03T12:00:00Z",
    "updatedAt": "2026-03-03T12:00:00Z",
}
CREATE: dict[str, Any] = {
    "name": "Leads",
    "company_linkedin_urls": ["https://www.linkedin.com/company/stripe"],
    "job_titles": ["Engineer"],
}
Reply = httpx.Response | Exception


def envelope(
    status: int,
    error_type: str,
    code: str,
    error_code: str,
    action: str | None,
    *,
    retry_after: int | None = None,
    fields: list[dict[str, str]] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {
        "error": {
            "type": error_type,
            "code": code,
            "message": f"{error_code} happened",
            "errorCode": error_code,
            "errorAction": action,
            "details": {},
            "requestId": f"req-{error_code.lower()}",
            "fields": fields or [],
        },
        "message": f"{error_code} happened",
    }
    headers = {"X-Request-Id": f"req-{error_code.lower()}"}
    if retry_after is not None:
        body["retryAfter"] = retry_after
        headers["Retry-After"] = str(retry_after)
    return httpx.Response(status, json=body, headers=headers)


def throttled(seconds: int) -> httpx.Response:
    return envelope(
        429, "RATE_LIMIT", "RATE_LIMITED", "RATE_LIMITED", "RETRY_LATER", retry_after=seconds
    )


def seat_busy(seconds: int) -> httpx.Response:
    return envelope(
        503, "UPSTREAM", "CONNECTION_BUSY", "CONNECTION_BUSY", "RETRY_LATER", retry_after=seconds
    )


IN_PROGRESS = envelope(
    409, "CONFLICT", "IDEMPOTENCY_IN_PROGRESS", "IDEMPOTENCY_IN_PROGRESS", "RETRY_LATER"
)


class Server:
    """Answers each request with the next scripted reply and records what it got."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)

    @property
    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The client's waits, recorded instead of slept (sync and async)."""
    waited: list[float] = []

    async def async_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(_sync, "sleep", waited.append)
    monkeypatch.setattr(_async, "sleep", async_sleep)
    return waited


def sync_client(server: Server, **options: Any) -> Client:
    return Client(BASE, KEY, transport=httpx.MockTransport(server), **options)


def test_create_retries_under_one_idempotency_key(sleeps: list[float]) -> None:
    server = Server(
        seat_busy(7),
        throttled(3),
        httpx.ConnectError("connection refused"),
        IN_PROGRESS,
        httpx.Response(201, json=CREATED),
    )
    with sync_client(server) as client:
        created = client.lists.create(**CREATE)
    assert created == ContactList.model_validate(CREATED)
    assert len(server.requests) == 5
    assert len(set(server.keys)) == 1
    key = server.keys[0]
    assert key is not None
    assert uuid.UUID(key).version == 4
    assert {r.content for r in server.requests} == {server.requests[0].content}
    assert json.loads(server.requests[0].content) == {
        "name": "Leads",
        "filters": {
            "companyLinkedInUrls": ["https://www.linkedin.com/company/stripe"],
            "jobTitles": ["Engineer"],
        },
    }
    assert sleeps[:2] == [7, 3]
    assert len(sleeps) == 4
    assert all(0 <= wait <= RetryPolicy().max_backoff_s for wait in sleeps[2:])


def test_each_create_gets_its_own_key_unless_the_caller_gives_one(sleeps: list[float]) -> None:
    server = Server(httpx.Response(201, json=CREATED))
    with sync_client(server) as client:
        client.lists.create(**CREATE)
        client.lists.create(**CREATE)
        client.lists.create(**CREATE, idempotency_key="order-42")
    assert len(set(server.keys)) == 3
    assert server.keys[2] == "order-42"
    assert sleeps == []


def test_attempts_are_capped_then_the_error_is_raised(sleeps: list[float]) -> None:
    server = Server(seat_busy(1))
    with sync_client(server, retry=RetryPolicy(max_attempts=3)) as client:
        with pytest.raises(UpstreamError) as raised:
            client.lists.create(**CREATE)
    assert len(server.requests) == 3
    assert sleeps == [1, 1]
    assert raised.value.error_code == "CONNECTION_BUSY"
    assert raised.value.retry_after == 1


def test_database_down_is_unavailable_after_retries(sleeps: list[float]) -> None:
    down = envelope(
        503,
        "UNAVAILABLE",
        "SERVICE_UNAVAILABLE",
        "SERVICE_UNAVAILABLE",
        "RETRY_LATER",
        retry_after=1,
    )
    with sync_client(Server(down), retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(UnavailableError):
            client.lists.page()
    assert sleeps == [1]


def test_network_errors_exhausted_raise_connection_failed(sleeps: list[float]) -> None:
    server = Server(httpx.ConnectError("connection refused"))
    with sync_client(server) as client:
        with pytest.raises(ConnectionFailed, match="connection refused"):
            client.lists.get("cl_1")
    assert len(server.requests) == RetryPolicy().max_attempts
    assert len(sleeps) == RetryPolicy().max_attempts - 1


def test_a_retry_after_longer_than_the_cap_is_raised_at_once(sleeps: list[float]) -> None:
    server = Server(throttled(3600), httpx.Response(201, json=CREATED))
    with sync_client(server) as client:
        with pytest.raises(RateLimitError) as raised:
            client.lists.create(**CREATE)
    assert raised.value.retry_after == 3600
    assert len(server.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("reply", "error_class", "error_code"),
    [
        (
            envelope(401, "AUTHENTICATION", "UNAUTHENTICATED", "INVALID_API_KEY", "CHECK_API_KEY"),
            AuthenticationError,
            "INVALID_API_KEY",
        ),
        (
            envelope(402, "CREDITS", "INSUFFICIENT_CREDITS", "INSUFFICIENT_CREDITS", "BUY_CREDITS"),
            InsufficientCreditsError,
            "INSUFFICIENT_CREDITS",
        ),
        (
            envelope(
                409, "CONFLICT", "IDEMPOTENCY_CONFLICT", "IDEMPOTENCY_CONFLICT", "FIX_REQUEST"
            ),
            ConflictError,
            "IDEMPOTENCY_CONFLICT",
        ),
        (
            envelope(
                422,
                "PRECONDITION",
                "SALES_NAVIGATOR_SESSION_EXPIRED",
                "SALES_NAVIGATOR_SESSION_EXPIRED",
                "RECONNECT_SALES_NAVIGATOR",
            ),
            PreconditionError,
            "SALES_NAVIGATOR_SESSION_EXPIRED",
        ),
    ],
)
def test_other_4xx_are_raised_at_once_typed(
    sleeps: list[float], reply: httpx.Response, error_class: type[ApiError], error_code: str
) -> None:
    server = Server(reply)
    with sync_client(server) as client:
        with pytest.raises(error_class) as raised:
            client.lists.create(**CREATE)
    assert len(server.requests) == 1
    assert sleeps == []
    assert raised.value.error_code == error_code
    assert raised.value.status == reply.status_code


def test_validation_error_carries_the_whole_envelope(sleeps: list[float]) -> None:
    field = {"field": "filters.companyLinkedInUrls[0]", "message": "must be a company page"}
    reply = envelope(
        400, "VALIDATION", "VALIDATION_ERROR", "INVALID_COMPANY_URL", "FIX_REQUEST", fields=[field]
    )
    with sync_client(Server(reply)) as client:
        with pytest.raises(ValidationError) as raised:
            client.lists.create(**CREATE)
    error = raised.value
    assert (error.status, error.type, error.code) == (400, "VALIDATION", "VALIDATION_ERROR")
    assert (error.error_code, error.error_action) == ("INVALID_COMPANY_URL", "FIX_REQUEST")
    assert error.request_id == "req-invalid_company_url"
    assert error.message == "INVALID_COMPANY_URL happened"
    assert error.fields == (FieldError("filters.companyLinkedInUrls[0]", "must be a company page"),)
    assert str(error) == (
        "INVALID_COMPANY_URL happened (INVALID_COMPANY_URL, request req-invalid_company_url)"
    )


def test_an_answer_without_the_envelope_is_still_typed(sleeps: list[float]) -> None:
    proxy = httpx.Response(502, text="<html>Bad Gateway</html>", headers={"X-Request-Id": "p1"})
    with sync_client(Server(proxy), retry=RetryPolicy(max_attempts=2)) as client:
        with pytest.raises(UpstreamError) as raised:
            client.credits.get()
    assert (raised.value.status, raised.value.error_code) == (502, "HTTP_502")
    assert raised.value.request_id == "p1"
    assert len(sleeps) == 1


def test_delete_is_not_repeated(sleeps: list[float]) -> None:
    server = Server(seat_busy(1))
    with sync_client(server) as client:
        with pytest.raises(UpstreamError):
            client.lists.delete("cl_1")
    assert len(server.requests) == 1


def test_timeout_outlasts_the_server_search_deadline(sleeps: list[float]) -> None:
    server = Server(httpx.Response(201, json=CREATED))
    with sync_client(server) as client:
        client.lists.create(**CREATE)
    timeout = server.requests[0].extensions["timeout"]
    assert timeout["read"] == 120.0
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_async_client_retries_the_same_way(sleeps: list[float]) -> None:
    server = Server(
        throttled(2), httpx.ReadTimeout("slow"), IN_PROGRESS, httpx.Response(201, json=CREATED)
    )
    transport = httpx.MockTransport(server)
    async with AsyncClient(BASE, KEY, transport=transport) as client:
        created = await client.lists.create(**CREATE, idempotency_key="abc")
    assert created.id == "cl_1"
    assert server.keys == ["abc"] * 4
    assert sleeps[0] == 2
    assert len(sleeps) == 3


async def test_async_client_raises_typed_errors_at_once(sleeps: list[float]) -> None:
    server = Server(
        envelope(404, "NOT_FOUND", "NOT_FOUND", "LIST_NOT_FOUND", None),
    )
    async with AsyncClient(BASE, KEY, transport=httpx.MockTransport(server)) as client:
        with pytest.raises(ApiError) as raised:
            await client.lists.get("cl/../x")
    assert raised.value.error_action is None
    assert len(server.requests) == 1
    assert server.requests[0].url.raw_path == b"/v1/contacts/lists/cl%2F..%2Fx"
