"""Two real server processes sharing the machine's Redis enforce one budget."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port, operator_cli, server_env, serving

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module", autouse=True)
def _shared_redis() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 in CI: {exc}", pytrace=False)
        pytest.skip(f"Redis is not reachable at 127.0.0.1:6379: {exc}")


def test_two_servers_count_down_one_budget(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    operator_cli(env, tmp_path, "migrate")
    operator_cli(env, tmp_path, "accounts", "create", "shared")
    operator_cli(env, tmp_path, "connect", "sandbox", "--account", "shared")
    key = operator_cli(env, tmp_path, "keys", "create", "--account", "shared")
    shared = {
        **env,
        "CONTACTLISTS_REDIS_URL": REDIS_URL,
        # A prefix of this run's own, so runs (and the machine's other users) never collide.
        "CONTACTLISTS_REDIS_KEY_PREFIX": f"contactlists-test-{secrets.token_hex(8)}",
        "CONTACTLISTS_RATE_LIMIT": "6/minute",
    }
    headers = {"Authorization": f"Bearer {key}"}
    with (
        serving({**shared, "CONTACTLISTS_PORT": str(free_port())}, tmp_path) as first,
        serving({**shared, "CONTACTLISTS_PORT": str(free_port())}, tmp_path) as second,
    ):
        seen = []
        for turn in range(6):
            response = httpx.get(f"{(first, second)[turn % 2]}/v1/credits", headers=headers)
            assert response.status_code == 200, response.text
            assert response.headers["x-ratelimit-limit"] == "6"
            seen.append(int(response.headers["x-ratelimit-remaining"]))
        assert seen == [5, 4, 3, 2, 1, 0]
        for base in (first, second):
            refused = httpx.get(f"{base}/v1/credits", headers=headers)
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == str(refused.json()["retryAfter"])
