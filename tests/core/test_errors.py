"""The error hierarchy: a class's name and place say what failed."""

from __future__ import annotations

from contactlists.core.errors import (
    ApiError,
    ListNotFound,
    NotFound,
    RouteNotFound,
    ServiceUnavailable,
    UpstreamUnavailable,
)


def test_a_database_outage_is_not_an_upstream_failure() -> None:
    assert not issubclass(ServiceUnavailable, UpstreamUnavailable)
    assert issubclass(ServiceUnavailable, ApiError)
    assert ServiceUnavailable.status == UpstreamUnavailable.status == 503


def test_not_found_names_no_resource_until_a_subclass_does() -> None:
    assert NotFound.error_code == "NOT_FOUND"
    assert ListNotFound.error_code == "LIST_NOT_FOUND"
    assert RouteNotFound.error_code == "ROUTE_NOT_FOUND"
