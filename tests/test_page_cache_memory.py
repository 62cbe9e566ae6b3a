"""A worker's memory under a flood of distinct-offset reads stays within the page cache's cap.

A real server process (its RSS is what matters, allocator included), on SQLite,
with a small cache so that the run stays short: 50,000 reads of distinct pages
(every limit and offset of a 125-contact list, then pages past its end),
pipelined over a few connections.
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import create_body
from tests.conftest import sqlite_copy
from tests.live_server import provision, server_env, start_server

CACHE_MB = 8
# What else a worker may grow by under 50,000 requests: the allocator's pools
# and arenas, the bounded caches of query strings and rate windows. Measured
# without the page cache (CONTACTLISTS_PAGE_CACHE_MB=0): 4-6 MB.
MARGIN_MB = 16
READS = 50_000
BATCH = 250


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _pipelined(port: int, key: str, targets: list[str]) -> None:
    """Send the GETs in batches on one connection; wait for every answer to be a 200."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for start in range(0, len(targets), BATCH):
            batch = targets[start : start + BATCH]
            sock.sendall(
                b"".join(
                    f"GET {t} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
                    for t in batch
                )
            )
            received = b""
            while received.count(b"HTTP/1.1 ") < len(batch) or not received.endswith(b"}"):
                chunk = sock.recv(1 << 20)
                assert chunk, "connection closed"
                received += chunk
            assert received.count(b"HTTP/1.1 200 ") == len(batch), received[:300]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_rss_after_50000_distinct_reads_stays_within_the_cap(
    tmp_path: Path, migrated_template: Path
) -> None:
    database_url = sqlite_copy(migrated_template, tmp_path)
    live, _ = provision(database_url)
    env = {
        **server_env(tmp_path, database_url),
        "CONTACTLISTS_PAGE_CACHE_MB": str(CACHE_MB),
        "CONTACTLISTS_RATE_LIMIT": "1000000/minute",
        "CONTACTLISTS_LOG_LEVEL": "warning",
    }
    process, base = start_server(env, tmp_path)
    try:
        headers = {"Authorization": f"Bearer {live}"}
        created = httpx.post(
            f"{base}/v1/contacts/lists",
            json=create_body("sandbox-exact-125"),
            headers=headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        pages = f"/v1/contacts/lists/{created.json()['id']}/contacts"
        port = int(env["CONTACTLISTS_PORT"])
        # Warm up: the same few pages, until the worker's own allocations settle.
        _pipelined(port, live, [f"{pages}?limit=25&offset={i % 5 * 25}" for i in range(3000)])
        before = _rss_mb(process.pid)
        in_range = [f"{pages}?limit={n}&offset={o}" for n in range(1, 101) for o in range(125)]
        past_end = [f"{pages}?limit=1&offset={125 + i}" for i in range(READS - len(in_range))]
        _pipelined(port, live, in_range + past_end)
        grown = _rss_mb(process.pid) - before
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert grown <= CACHE_MB + MARGIN_MB, f"RSS grew {grown:.0f} MB ({before:.0f} MB before)"
