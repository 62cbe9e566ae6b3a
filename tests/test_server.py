"""A few end-to-end checks against a real `contactlists serve` process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.helpers import create_body
from tests.live_server import LiveServer, backend_database_url, run_server


@pytest.fixture(scope="module")
def server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The server on a SQLite file, or on this run's PostgreSQL database, emptied first."""
    database_url = backend_database_url(backend, request)
    with run_server(tmp_path_factory.mktemp("server"), database_url) as live:
        yield live


def test_create_read_rename_delete_over_tcp(server: tuple[str, str, str]) -> None:
    base, live, _ = server
    headers = {"Authorization": f"Bearer {live}"}
    with httpx.Client(base_url=base, headers=headers) as client:
        created = client.post("/v1/contacts/lists", json=create_body("sandbox-exact-40"))
        assert created.status_code == 201
        list_id = created.json()["id"]
        page = client.get(f"/v1/contacts/lists/{list_id}/contacts", params={"limit": 100})
        assert page.json()["total"] == 40
        assert len(page.json()["items"]) == 40
        assert client.put(f"/v1/contacts/lists/{list_id}", json={"name": "r"}).json()["name"] == "r"
        assert client.delete(f"/v1/contacts/lists/{list_id}").status_code == 204
        assert client.get(f"/v1/contacts/lists/{list_id}").status_code == 404


def test_health_readiness_and_openapi_need_no_key(server: tuple[str, str, str]) -> None:
    base, _, _ = server
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
    schema = httpx.get(f"{base}/openapi.json").json()
    assert "/v1/contacts/lists/{listId}/contacts" in schema["paths"]
    assert httpx.get(f"{base}/docs").status_code == 200


def test_errors_over_tcp_carry_the_envelope(server: tuple[str, str, str]) -> None:
    base, _, test = server
    response = httpx.get(f"{base}/v1/contacts/lists")
    assert response.status_code == 401
    assert response.json()["error"]["errorCode"] == "MISSING_API_KEY"
    big = httpx.post(
        f"{base}/v1/contacts/lists",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Authorization": f"Bearer {test}", "Content-Type": "application/json"},
    )
    assert big.status_code == 413
