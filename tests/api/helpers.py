"""Small helpers for API tests: request bodies and envelope assertions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contactlists.providers.base import LeadPage, LeadQuery
from contactlists.providers.sandbox import SandboxProvider

ERROR_KEYS = {
    "type",
    "code",
    "message",
    "errorCode",
    "errorAction",
    "details",
    "requestId",
    "fields",
}


def company(vanity: str) -> str:
    return f"https://www.linkedin.com/company/{vanity}"


def create_body(
    vanity: str = "sandbox-exact-30",
    *,
    name: str = "Engineering leads",
    job_titles: list[str] | None = None,
    keywords: str | None = None,
    countries: list[str] | None = None,
) -> dict[str, Any]:
    filters: dict[str, Any] = {"companyLinkedInUrls": [company(vanity)]}
    if job_titles is not None:
        filters["jobTitles"] = job_titles
    if keywords is not None:
        filters["keywords"] = keywords
    if countries is not None:
        filters["countries"] = countries
    if job_titles is None and keywords is None and countries is None:
        filters["jobTitles"] = ["Engineer"]
    return {"name": name, "filters": filters}


def assert_error(
    response: httpx.Response,
    status: int,
    error_code: str,
    *,
    field: str | None = None,
) -> dict[str, Any]:
    """Assert the contract's envelope, with every key present, and return `error`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    error = body["error"]
    assert set(error) == ERROR_KEYS, error
    assert error["errorCode"] == error_code, error
    assert body["message"] == error["message"]
    assert error["requestId"] == response.headers["x-request-id"]
    assert isinstance(error["details"], dict)
    assert "debug" not in error
    if field is not None:
        assert field in [f["field"] for f in error["fields"]], error["fields"]
    if status != 400:
        assert error["fields"] == []
    return dict(error)


def count_searches(monkeypatch: pytest.MonkeyPatch) -> list[LeadQuery]:
    """Record every upstream search the sandbox runs (its first page's fetch)."""
    searches: list[LeadQuery] = []
    original = SandboxProvider.fetch_page

    async def counting(self: SandboxProvider, query: LeadQuery, start: int, count: int) -> LeadPage:
        if start == 0:
            searches.append(query)
        return await original(self, query, start, count)

    monkeypatch.setattr(SandboxProvider, "fetch_page", counting)
    return searches
