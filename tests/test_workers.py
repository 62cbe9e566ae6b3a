"""`contactlists serve --workers 2`: metrics summed over the workers, JSON logs, one
access line per request and never a key; a clean exit that removes the metrics files.

Runs on a SQLite file: several workers may share one (see the README), and this
is about the processes, not the database.
"""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import sqlite_copy
from tests.live_server import provision, server_env, shared_redis_env, start_server

TOKEN = "metrics-token-0123456789abcdef"
CREDITS = "/v1/credits"


def _scraped_credit_requests(base: str) -> float:
    scrape = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scrape.status_code == 200, scrape.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(scrape.text)
        for sample in family.samples
        if sample.name == "contactlists_http_requests_total"
        and sample.labels == {"route": CREDITS, "method": "GET", "status": "200"}
    )


def _lines(log: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in log.read_bytes().splitlines()]


def test_two_workers_share_metrics_log_json_and_exit_cleanly(
    tmp_path: Path, migrated_template: Path
) -> None:
    database_url = sqlite_copy(migrated_template, tmp_path)
    key, _ = provision(database_url)
    env = server_env(tmp_path, database_url)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env |= {
        **shared_redis_env(),
        "CONTACTLISTS_METRICS_TOKEN": TOKEN,
        # Where `serve` makes the workers' metrics directory.
        "TMPDIR": str(scratch),
    }
    log = tmp_path / "serve.log"
    process, base = start_server(env, tmp_path, log, args=("--workers", "2"))
    headers = {"Authorization": f"Bearer {key}", "Cookie": "li_at=cookie-that-must-not-leak"}

    def credits(_: int) -> int:
        # A connection each, so the kernel may hand each to either worker.
        return httpx.get(f"{base}{CREDITS}", headers=headers).status_code

    sent = 0
    try:
        with ThreadPoolExecutor(8) as pool:
            # Until both workers have answered some (their access lines carry their pid).
            while sent < 800:
                assert set(pool.map(credits, range(40))) == {200}
                sent += 40
                served_by = {line["pid"] for line in _lines(log) if line.get("route") == CREDITS}
                if len(served_by) == 2:
                    break
        assert len(served_by) == 2
        (metrics_dir,) = scratch.iterdir()
        assert {p.name.split("_")[0] for p in metrics_dir.iterdir()} >= {"counter", "histogram"}
        # Whichever worker answers the scrape, it counts every worker's requests.
        for _ in range(6):
            assert _scraped_credit_requests(base) == sent
    finally:
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=60)
    assert exit_code == 0
    assert list(scratch.iterdir()) == []  # the metrics directory is gone

    lines = _lines(log)  # every line is one JSON object
    access = [line for line in lines if line["logger"] == "contactlists.access"]
    credit_lines = [line for line in access if line["route"] == CREDITS]
    assert len(credit_lines) == sent
    for line in credit_lines:
        assert set(line) >= {"time", "level", "pid", "request_id", "account_id", "duration_ms"}
        assert (line["method"], line["status"]) == ("GET", 200)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    text = log.read_text()
    assert key not in text
    assert key[8:20] not in text
    assert "cookie-that-must-not-leak" not in text
