"""Rate limits over HTTP: per account, per create, per unauthenticated address,
and what happens when Redis goes away."""

from __future__ import annotations

import ipaddress
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from contactlists.core.settings import Settings
from contactlists.web import ratelimit
from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, MakeAccount, asgi_client, running_app
from tests.live_server import free_port

LISTS = "/v1/contacts/lists"
PERSIST_NOTHING = ("--save", "", "--appendonly", "no")


def budget(app: FastAPI, **limits: str) -> None:
    """Shrink budgets of the running app; the limiter reads them on every request."""
    for name, value in limits.items():
        setattr(app.state.settings, name, value)


def remaining(response: httpx.Response) -> int:
    return int(response.headers["x-ratelimit-remaining"])


def assert_rate_limited(response: httpx.Response, limit: int) -> None:
    error = assert_error(response, 429, "RATE_LIMITED")
    assert error["type"] == "RATE_LIMIT"
    assert error["errorAction"] == "RETRY_LATER"
    retry_after = response.json()["retryAfter"]
    assert response.headers["retry-after"] == str(retry_after)
    assert 1 <= retry_after <= 60
    assert response.headers["x-ratelimit-limit"] == str(limit)
    assert remaining(response) == 0


class TestAccountBudget:
    async def test_every_authenticated_response_carries_the_headers(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        budget(app, rate_limit="5/minute")
        responses = [
            await client.get(LISTS, headers=acct.live),
            await client.get(f"{LISTS}/cl_missing", headers=acct.live),
            await client.post(LISTS, json={"name": ""}, headers=acct.live),
            await client.get("/v1/credits", headers=acct.live),
            await client.get(LISTS, headers={**acct.live, "Accept": "text/html"}),
        ]
        assert [r.status_code for r in responses] == [200, 404, 400, 200, 406]
        assert [remaining(r) for r in responses] == [4, 3, 2, 1, 0]
        for response in responses:
            assert response.headers["x-ratelimit-limit"] == "5"
            assert 1 <= int(response.headers["x-ratelimit-reset"]) <= 60
        assert_rate_limited(await client.get(LISTS, headers=acct.live), 5)
        assert_rate_limited(await client.post(LISTS, json=create_body(), headers=acct.live), 5)

    async def test_all_keys_of_an_account_share_one_budget(
        self, app: FastAPI, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        budget(app, rate_limit="3/minute")
        account, other = await make_account(), await make_account()
        for headers in (account.live, account.test, account.live):
            assert (await client.get(LISTS, headers=headers)).status_code == 200
        assert_rate_limited(await client.get(LISTS, headers=account.test), 3)
        untouched = await client.get(LISTS, headers=other.live)
        assert untouched.status_code == 200
        assert remaining(untouched) == 2

    async def test_unknown_routes_are_not_counted(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        budget(app, rate_limit="2/minute")
        for _ in range(3):
            assert (await client.get("/v1/nope", headers=acct.live)).status_code == 404
            assert (await client.get("/healthz")).status_code == 200
        assert remaining(await client.get(LISTS, headers=acct.live)) == 1


class TestCreateBudget:
    async def test_creates_have_their_own_tighter_budget(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        budget(app, rate_limit="10/minute", create_rate_limit="2/minute")
        first = await client.post(LISTS, json=create_body(), headers=acct.live)
        assert first.status_code == 201
        assert (first.headers["x-ratelimit-limit"], remaining(first)) == ("2", 1)
        read = await client.get(LISTS, headers=acct.live)
        assert (read.headers["x-ratelimit-limit"], remaining(read)) == ("10", 8)
        failed = await client.post(
            LISTS, json=create_body("sandbox-upstream-error"), headers=acct.live
        )
        assert_error(failed, 502, "UPSTREAM_ERROR")
        assert (failed.headers["x-ratelimit-limit"], remaining(failed)) == ("2", 0)
        assert_rate_limited(await client.post(LISTS, json=create_body(), headers=acct.live), 2)
        assert (await client.get(LISTS, headers=acct.live)).status_code == 200
        assert (await client.get(LISTS, headers=acct.live)).json()["total"] == 1

    async def test_replays_do_not_count_against_the_create_budget(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        budget(app, create_rate_limit="2/minute")
        headers = {**acct.live, "Idempotency-Key": "replayed"}
        assert (await client.post(LISTS, json=create_body(), headers=headers)).status_code == 201
        for _ in range(4):
            replay = await client.post(LISTS, json=create_body(), headers=headers)
            assert replay.headers["idempotent-replayed"] == "true"
        second = await client.post(LISTS, json=create_body(), headers=acct.live)
        assert second.status_code == 201
        assert remaining(second) == 0
        assert_rate_limited(await client.post(LISTS, json=create_body(), headers=acct.live), 2)

    async def test_a_rate_limited_create_frees_its_key(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        budget(app, create_rate_limit="1/minute")
        assert (await client.post(LISTS, json=create_body(), headers=acct.live)).status_code == 201
        headers = {**acct.live, "Idempotency-Key": "later"}
        assert_rate_limited(await client.post(LISTS, json=create_body(), headers=headers), 1)
        budget(app, create_rate_limit="2/minute")
        retried = await client.post(LISTS, json=create_body(), headers=headers)
        assert retried.status_code == 201
        assert "idempotent-replayed" not in retried.headers


class TestUnauthenticated:
    async def test_requests_without_a_valid_key_are_limited_per_address(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        budget(app, unauthenticated_rate_limit="3/minute")
        bad_key = {"Authorization": "Bearer sk_live_" + "x" * 43}
        for headers in ({}, bad_key, {"Authorization": "Basic abc"}):
            response = await client.get(LISTS, headers=headers)
            assert_error(response, 401, "INVALID_API_KEY" if headers else "MISSING_API_KEY")
            assert response.headers["x-ratelimit-limit"] == "3"
        assert_rate_limited(await client.get(LISTS, headers=bad_key), 3)
        assert_rate_limited(await client.post(LISTS, json=create_body()), 3)
        assert (await client.get(LISTS, headers=acct.live)).status_code == 200

    async def test_x_forwarded_for_is_believed_only_from_trusted_proxies(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        budget(app, unauthenticated_rate_limit="1/minute")

        async def status(forwarded_for: str) -> int:
            response = await client.get(LISTS, headers={"X-Forwarded-For": forwarded_for})
            return response.status_code

        # The ASGI client's address, 127.0.0.1, is no proxy yet: the header is ignored.
        assert [await status("192.0.2.1"), await status("192.0.2.2")] == [401, 429]
        app.state.settings.trusted_proxies = (ipaddress.ip_network("127.0.0.0/8"),)
        assert [await status("192.0.2.3"), await status("192.0.2.3")] == [401, 429]
        assert await status("192.0.2.4") == 401
        # Read from the right: a client cannot prepend its way to a fresh budget,
        assert await status("198.51.100.7, 192.0.2.3") == 429
        # and hops through further trusted proxies are skipped.
        assert await status("192.0.2.3, 127.0.0.9") == 429


@dataclass
class OwnRedis:
    """A throw-away redis-server this test may stop (never the machine's shared one)."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [server, *("--port", str(self.port), "--bind", "127.0.0.1"), *PERSIST_NOTHING],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis(free_port())
    try:
        yield redis
    finally:
        redis.stop()


class TestRedisGoingAway:
    async def test_limits_fail_open_to_memory_and_come_back(
        self,
        settings: Settings,
        acct: AccountKeys,
        own_redis: OwnRedis,
        caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(ratelimit, "REDIS_RETRY_S", 0.0)
        own_redis.start()
        shared = settings.model_copy(update={"redis_url": own_redis.url, "rate_limit": "10/minute"})
        caplog.set_level(logging.WARNING, logger="contactlists.ratelimit")
        async with running_app(shared) as app, asgi_client(app) as client:
            counted = [remaining(await client.get(LISTS, headers=acct.live)) for _ in range(3)]
            assert counted == [9, 8, 7]
            assert not caplog.records

            own_redis.stop()
            during = [await client.get(LISTS, headers=acct.live) for _ in range(2)]
            assert [r.status_code for r in during] == [200, 200]
            # This process's own memory counts from its first fallback request.
            assert [remaining(r) for r in during] == [9, 8]
            assert caplog.records[0].getMessage().startswith("Redis is unavailable for rate limits")

            own_redis.start()
            back = await client.get(LISTS, headers=acct.live)
            assert remaining(back) == 9  # the restarted Redis kept nothing
            assert caplog.records[-1].getMessage().startswith("Redis answers again")
            assert len(caplog.records) == 2

    async def test_an_unreachable_redis_from_the_start_fails_open(
        self, settings: Settings, acct: AccountKeys, caplog: pytest.LogCaptureFixture
    ) -> None:
        nowhere = settings.model_copy(
            update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "rate_limit": "2/minute"}
        )
        caplog.set_level(logging.WARNING, logger="contactlists.ratelimit")
        async with running_app(nowhere) as app, asgi_client(app) as client:
            responses = [await client.get(LISTS, headers=acct.live) for _ in range(3)]
        assert [r.status_code for r in responses] == [200, 200, 429]
        assert len(caplog.records) == 1
