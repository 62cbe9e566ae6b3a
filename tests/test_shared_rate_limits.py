"""Two real server processes sharing the machine's Redis enforce one budget."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.live_server import free_port, operator_cli, server_env, serving, shared_redis_env


def test_two_servers_count_down_one_budget(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    operator_cli(env, tmp_path, "migrate")
    operator_cli(env, tmp_path, "accounts", "create", "shared")
    operator_cli(env, tmp_path, "connect", "sandbox", "--account", "shared")
    key = operator_cli(env, tmp_path, "keys", "create", "--account", "shared")
    shared = {
        **env,
        **shared_redis_env(),
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
