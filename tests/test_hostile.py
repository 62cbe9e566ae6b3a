"""Hostile input over real TCP: what reaches the application is a 4xx envelope, never
a 5xx, and the server stays healthy.

Requests are written byte for byte on a socket, so nothing a client library
would clean up (invalid UTF-8, NUL, lone surrogates, trickled bodies) is lost on
the way. What the HTTP server itself refuses before the application (a header
with a NUL byte) may be answered by it, as the contract allows, but still with a
4xx. Both backends: a NUL byte or a lone surrogate that reached PostgreSQL
would be a driver error, not a 4xx.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from tests.api.helpers import ERROR_KEYS, create_body
from tests.live_server import LiveServer, fresh_database_url, provisioned_server

LISTS = "/v1/contacts/lists"
MIB = 1024 * 1024
HUGE_INTEGER = b"9" * 1_000_000


@pytest.fixture(scope="module")
def server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("hostile")
    with provisioned_server(
        fresh_database_url(backend, request, workdir),
        workdir,
        CONTACTLISTS_RATE_LIMIT="100000/minute",
        CONTACTLISTS_CREATE_RATE_LIMIT="100000/minute",
    ) as live:
        yield live


class Answer:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }

    def error(self) -> dict[str, Any]:
        """The envelope's `error`, checked as the contract has it."""
        assert self.headers["content-type"] == "application/json", self.body[:200]
        envelope = orjson.loads(self.body)
        assert set(envelope["error"]) == ERROR_KEYS
        assert envelope["error"]["requestId"] == self.headers["x-request-id"]
        error: dict[str, Any] = envelope["error"]
        return error


def send(
    server: LiveServer,
    method: str,
    target: bytes,
    body: bytes = b"",
    *,
    headers: dict[str, bytes | None] | None = None,
    key: str | None = "live",
    chunks: int = 1,
    pause: float = 0.0,
) -> Answer:
    """One request on a fresh connection (`Connection: close`), the body in `chunks`
    parts `pause` seconds apart; the whole answer."""
    netloc = urlsplit(server.base).netloc
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: " + netloc.encode()]
    if key:
        lines.append(f"Authorization: Bearer {getattr(server, key)}".encode())
    all_headers: dict[str, bytes | None] = {
        "Connection": b"close",
        "Content-Length": str(len(body)).encode(),
        **(headers or {}),
    }
    lines += [name.encode() + b": " + value for name, value in all_headers.items() if value]
    host, port = netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = b"\r\n".join(lines) + b"\r\n\r\n"
        size = -(-len(body) // chunks) if body else 1
        parts = [head, *(body[start : start + size] for start in range(0, len(body), size))]
        for index, part in enumerate(parts):
            if not _write(sock, part):
                break  # answered early (413, 400): stop sending and read what came
            if index and pause:
                time.sleep(pause)
        return Answer(_read(sock))


def _write(sock: socket.socket, data: bytes) -> bool:
    """Send `data` in pieces; False as soon as the server has answered or hung up."""
    view = memoryview(data)
    while view:
        if select.select([sock], [], [], 0)[0]:
            return False
        try:
            view = view[sock.send(view[:65536]) :]
        except (BrokenPipeError, ConnectionResetError):
            return False
    return True


def _read(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    assert received, "no answer"
    return received


def assert_refused(answer: Answer, status: int, error_code: str) -> None:
    assert answer.status == status, answer.body[:300]
    assert answer.error()["errorCode"] == error_code


def assert_healthy(server: LiveServer) -> None:
    assert httpx.get(f"{server.base}/healthz").json() == {"status": "ok"}
    lists = httpx.get(f"{server.base}{LISTS}", headers={"Authorization": f"Bearer {server.live}"})
    assert lists.status_code == 200


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _create_with_name(name: bytes) -> bytes:
    """A valid create whose name is the raw bytes given (already JSON-quoted)."""
    body = _json(create_body("sandbox-exact-3", name="NAME"))
    return body.replace(b'"NAME"', name)


class TestNul:
    def test_in_a_json_string_is_an_invalid_field(self, server: LiveServer) -> None:
        assert_refused(
            send(server, "POST", LISTS.encode(), _create_with_name(b'"a\\u0000b"')),
            400,
            "INVALID_FIELD",
        )

    def test_raw_in_the_body_is_invalid_json(self, server: LiveServer) -> None:
        answer = send(server, "POST", LISTS.encode(), _create_with_name(b'"a\x00b"'))
        assert_refused(answer, 400, "INVALID_JSON")

    def test_in_an_unknown_field_name(self, server: LiveServer) -> None:
        body = _json({"name": "x", "a\x00b": 1})
        assert_refused(send(server, "PUT", f"{LISTS}/cl_x".encode(), body), 400, "UNKNOWN_FIELD")

    def test_in_the_path_and_query(self, server: LiveServer) -> None:
        assert_refused(send(server, "GET", f"{LISTS}/cl_%00".encode()), 404, "LIST_NOT_FOUND")
        assert_refused(send(server, "DELETE", f"{LISTS}/%00".encode()), 404, "LIST_NOT_FOUND")
        assert_refused(
            send(server, "GET", f"{LISTS}?limit=1%00".encode()), 400, "INVALID_QUERY_PARAMETER"
        )

    def test_in_a_header_is_refused_by_the_server(self, server: LiveServer) -> None:
        answer = send(server, "GET", LISTS.encode(), headers={"X-Request-Id": b"a\x00b"})
        assert 400 <= answer.status < 500
        assert_healthy(server)


class TestLoneSurrogates:
    def test_raw_bytes_in_the_body_are_invalid_json(self, server: LiveServer) -> None:
        answer = send(server, "POST", LISTS.encode(), _create_with_name(b'"a\xed\xa0\x80b"'))
        assert_refused(answer, 400, "INVALID_JSON")

    @pytest.mark.parametrize("escape", [b'"\\ud800"', b'"a\\udfffb"', b'"\\ud800\\u0041"'])
    def test_escapes_in_the_body_are_invalid_json(self, server: LiveServer, escape: bytes) -> None:
        answer = send(server, "POST", LISTS.encode(), _create_with_name(escape))
        assert_refused(answer, 400, "INVALID_JSON")

    def test_in_the_path_and_query(self, server: LiveServer) -> None:
        for target in (b"/cl_%ED%A0%80", b"/%ED%A0%80/contacts", b"/%F0%80%80%80"):
            assert_refused(send(server, "GET", LISTS.encode() + target), 404, "LIST_NOT_FOUND")
        for query in (b"?offset=%ED%A0%80", b"?limit=%C0%80"):
            assert_refused(
                send(server, "GET", LISTS.encode() + query), 400, "INVALID_QUERY_PARAMETER"
            )
        export = send(server, "GET", f"{LISTS}/cl_x/export?format=%ED%A0%80".encode())
        assert_refused(export, 400, "INVALID_QUERY_PARAMETER")

    def test_raw_in_the_request_line_is_refused_by_the_server(self, server: LiveServer) -> None:
        for target in (b"/cl_\xed\xa0\x80", b"?limit=\xed\xa0\x80"):
            answer = send(server, "GET", LISTS.encode() + target)
            assert 400 <= answer.status < 500
        assert_healthy(server)


class TestHugeNumbers:
    def test_a_million_digits_in_the_body(self, server: LiveServer) -> None:
        for name in (HUGE_INTEGER, b"-" + HUGE_INTEGER, b"1e" + HUGE_INTEGER):
            answer = send(server, "POST", LISTS.encode(), _create_with_name(name))
            assert answer.status == 400, answer.body[:300]
            assert answer.error()["errorCode"] in ("INVALID_JSON", "INVALID_FIELD")

    def test_a_million_digits_in_the_query(self, server: LiveServer) -> None:
        """Ten thousand digits reach the application; a million make a request line
        the HTTP server refuses itself (as the contract allows), still a 4xx."""
        for name in (b"limit", b"offset"):
            query = LISTS.encode() + b"?" + name + b"="
            assert_refused(
                send(server, "GET", query + HUGE_INTEGER[:10_000]), 400, "INVALID_QUERY_PARAMETER"
            )
            assert 400 <= send(server, "GET", query + HUGE_INTEGER).status < 500
        assert_healthy(server)


class TestDeepNesting:
    @pytest.mark.parametrize("depth", [100, 1_000, 100_000])
    def test_nested_arrays_and_objects(self, server: LiveServer, depth: int) -> None:
        for nested in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
            answer = send(server, "POST", LISTS.encode(), _create_with_name(nested))
            assert answer.status == 400, answer.body[:300]
            assert answer.error()["errorCode"] in ("INVALID_JSON", "INVALID_FIELD")
            whole = send(server, "PUT", f"{LISTS}/cl_x".encode(), nested)
            assert whole.status == 400, whole.body[:300]
        assert_healthy(server)


class TestSize:
    def test_one_mebibyte_and_one_byte_is_413(self, server: LiveServer) -> None:
        padding = b" " * (MIB + 1 - len(_create_with_name(b'"x"')))
        body = _create_with_name(b'"x"') + padding
        assert len(body) == MIB + 1
        assert_refused(send(server, "POST", LISTS.encode(), body), 413, "PAYLOAD_TOO_LARGE")

    def test_exactly_one_mebibyte_is_read(self, server: LiveServer) -> None:
        body = _create_with_name(b'"x"')
        body += b" " * (MIB - len(body))
        assert send(server, "POST", LISTS.encode(), body).status == 201

    def test_a_chunked_body_over_the_limit_is_413(self, server: LiveServer) -> None:
        chunk = b" " * 65536
        chunked = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * 17 + b"0\r\n\r\n"
        answer = send(
            server,
            "PUT",
            f"{LISTS}/cl_x".encode(),
            chunked,
            headers={"Transfer-Encoding": b"chunked", "Content-Length": None},
        )
        assert_refused(answer, 413, "PAYLOAD_TOO_LARGE")

    def test_a_long_query_string(self, server: LiveServer) -> None:
        long_value = b"x" * 60_000
        for query in (b"?limit=" + long_value, b"?offset=1&limit=" + b"9" * 60_000):
            assert_refused(
                send(server, "GET", LISTS.encode() + query), 400, "INVALID_QUERY_PARAMETER"
            )
        answer = send(server, "GET", f"{LISTS}/cl_x/export?format=".encode() + long_value)
        assert_refused(answer, 400, "INVALID_QUERY_PARAMETER")
        assert_healthy(server)


class TestSlowBody:
    def test_a_trickled_body_is_answered_and_others_are_served_meanwhile(
        self, server: LiveServer
    ) -> None:
        """A body sent in 20 pieces over about 2 s: read to the end and answered; the
        server is not blocked meanwhile (a health check runs between pieces)."""
        body = _create_with_name(b'"slow"')
        started = time.monotonic()
        answer = send(server, "POST", LISTS.encode(), body, chunks=20, pause=0.1)
        assert answer.status == 201, answer.body[:300]
        assert orjson.loads(answer.body)["name"] == "slow"
        assert time.monotonic() - started >= 1.5
        assert_healthy(server)

    def test_a_body_shorter_than_announced_is_not_a_5xx(self, server: LiveServer) -> None:
        netloc = urlsplit(server.base).netloc
        host, port = netloc.split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                f"PUT {LISTS}/cl_x HTTP/1.1\r\nHost: {netloc}\r\n"
                f"Authorization: Bearer {server.live}\r\nContent-Length: 100\r\n\r\n"
                '{"name": '.encode()
            )
            sock.shutdown(socket.SHUT_WR)
            try:
                received = _read(sock)
            except AssertionError:
                received = b""  # the server may hang up without a word; never a 5xx
        assert not received or 400 <= Answer(received).status < 500
        assert_healthy(server)


class TestRequestId:
    @pytest.mark.parametrize(
        "value",
        [b"has space", b"<script>alert(1)</script>", b"x" * 129, b"caf\xc3\xa9", b"a;b", b"\xff"],
    )
    def test_an_invalid_id_is_replaced_never_echoed(self, server: LiveServer, value: bytes) -> None:
        answer = send(
            server, "GET", f"{LISTS}/cl_missing".encode(), headers={"X-Request-Id": value}
        )
        assert answer.status == 404
        assert answer.headers["x-request-id"].encode() != value
        assert value not in answer.body
        assert answer.error()["requestId"] == answer.headers["x-request-id"]

    def test_a_valid_id_is_kept(self, server: LiveServer) -> None:
        answer = send(server, "GET", LISTS.encode(), headers={"X-Request-Id": b"abc.DEF_1-2"})
        assert answer.headers["x-request-id"] == "abc.DEF_1-2"


def test_still_healthy_after_everything(server: LiveServer) -> None:
    assert_healthy(server)
