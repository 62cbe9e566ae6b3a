"""A few end-to-end checks against a real `contactlists serve` process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import create_body


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "contactlists", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    workdir = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {
        **os.environ,
        "CONTACTLISTS_ENV": "production",
        "CONTACTLISTS_SECRET_KEY": "a-production-grade-secret-key-0123456789abcdef",
        "CONTACTLISTS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'e2e.db'}",
        "CONTACTLISTS_PORT": str(port),
    }
    _cli(env, workdir, "migrate")
    _cli(env, workdir, "accounts", "create", "e2e")
    _cli(env, workdir, "connect", "sandbox", "--account", "e2e")
    live = _cli(env, workdir, "keys", "create", "--account", "e2e")
    test = _cli(env, workdir, "keys", "create", "--account", "e2e", "--test")
    process = subprocess.Popen(
        [sys.executable, "-m", "contactlists", "serve"],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("server did not start: " + process.stderr.read().decode()[-2000:])
        time.sleep(0.1)
    yield base, live, test
    process.terminate()
    process.wait(timeout=15)
    assert process.stderr is not None
    process.stderr.close()


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
