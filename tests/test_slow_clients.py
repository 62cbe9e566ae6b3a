"""Slow clients cannot starve a real server: 300 slow sockets, 256 file descriptors.

Before the header and body deadlines and the connection cap, 200 sockets
sending half a header line and 50 POSTs with half their body were all still
open after 20 s, and with 256 file descriptors 300 of them made `/healthz` fail.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import create_body
from tests.conftest import sqlite_copy
from tests.live_server import provision, server_env

HEADER_TIMEOUT_S = 2
BODY_TIMEOUT_S = 3
OPEN_FILES = 256
HALF_HEADERS = 250
HALF_BODIES = 50


@pytest.fixture
def server(tmp_path: Path, migrated_template: Path) -> Iterator[tuple[str, str]]:
    database_url = sqlite_copy(migrated_template, tmp_path)
    live, _ = provision(database_url)
    env = {
        **server_env(tmp_path, database_url),
        "CONTACTLISTS_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "CONTACTLISTS_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "CONTACTLISTS_UNAUTHENTICATED_RATE_LIMIT": "100000/minute",
    }

    def limit_open_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))

    with (tmp_path / "serve.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "contactlists", "serve"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=log,
            preexec_fn=limit_open_files,
        )
    base = f"http://127.0.0.1:{env['CONTACTLISTS_PORT']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base, live
    finally:
        process.terminate()
        process.wait(timeout=30)


def _slow_socket(port: int, payload: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(payload)
    return sock


def _closed_with(sock: socket.socket) -> bytes:
    """What the server sent before closing (waits for the close)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_300_slow_sockets_do_not_stop_healthz_or_a_create(server: tuple[str, str]) -> None:
    base, key = server
    port = int(base.rsplit(":", 1)[1])
    body = json.dumps(create_body("sandbox-exact-3")).encode()
    half_body = (
        f"POST /v1/contacts/lists HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body[: len(body) // 2]
    bodies = [_slow_socket(port, half_body) for _ in range(HALF_BODIES)]
    half_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
    headers = [_slow_socket(port, half_header) for _ in range(HALF_HEADERS)]
    try:
        started = time.monotonic()
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        created = httpx.post(
            f"{base}/v1/contacts/lists",
            json=create_body("sandbox-exact-3"),
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 3
        # The half-sent bodies get the envelope's 408 when their deadline passes.
        for sock in bodies:
            answer = _closed_with(sock)
            head, _, payload = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408 "), answer[:200]
            error = json.loads(payload)["error"]
            assert (error["type"], error["code"], error["errorCode"], error["errorAction"]) == (
                "REQUEST", "REQUEST_TIMEOUT", "REQUEST_TIMEOUT", "RETRY_LATER"
            )  # fmt: skip
        # Half a header line: closed (displaced, or at the header deadline).
        for sock in headers:
            answer = _closed_with(sock)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert time.monotonic() - started < BODY_TIMEOUT_S + 10
    finally:
        for sock in bodies + headers:
            sock.close()


def test_headers_too_late_are_a_408_and_silence_is_closed(server: tuple[str, str]) -> None:
    base, _ = server
    port = int(base.rsplit(":", 1)[1])
    started = time.monotonic()
    with (
        _slow_socket(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n") as half,
        _slow_socket(port, b"") as silent,
    ):
        assert _closed_with(half).startswith(b"HTTP/1.1 408 ")
        assert _closed_with(silent) == b""
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 2
    # A kept-alive connection: each request's headers get their own deadline.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(3):
            time.sleep(HEADER_TIMEOUT_S * 0.75)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b'{"status":"ok"}'):
                chunk = sock.recv(65536)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")
