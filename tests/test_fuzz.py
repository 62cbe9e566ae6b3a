"""Schemathesis against a real server: every operation, every check, stateful links.

The fuzzed account is unlimited, has a sandbox connection and rate limits far
above what the run sends, so a valid request must succeed and an invalid one
must be a 4xx. LinkedIn is the local fake, which refuses the fuzzed cookies.
CI runs `CONTACTLISTS_FUZZ_REQUESTS` (default 1,000) generated requests on
SQLite; `make fuzz` runs 10,000 on each backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS, MakeAccount
from tests.fakes.linkedin_server import FakeLinkedIn
from tests.live_server import server_env, serving

REQUESTS = int(os.environ.get("CONTACTLISTS_FUZZ_REQUESTS", "1000"))
LONG_RUN = REQUESTS > 1000
OPERATIONS = 18
# A run generates about 15 requests per example asked of each operation, all
# phases together (measured); one that falls short is topped up with another seed.
EXAMPLES_PER_OPERATION = max(50, REQUESTS // 14)
CONFIG = Path(__file__).parent / "fuzzing" / "schemathesis.toml"
UNLIMITED = "1000000/minute"

pytestmark = pytest.mark.fuzz


@pytest.mark.parametrize("backend", BACKENDS if LONG_RUN else ["sqlite"], indirect=True)
async def test_fuzz_finds_nothing(
    database_url: str,
    make_account: MakeAccount,
    linkedin_server: FakeLinkedIn,
    tmp_path: Path,
) -> None:
    account = await make_account()
    env = {
        **server_env(tmp_path, database_url),
        "CONTACTLISTS_RATE_LIMIT": UNLIMITED,
        "CONTACTLISTS_CREATE_RATE_LIMIT": UNLIMITED,
        "CONTACTLISTS_SEARCH_RATE_LIMIT": UNLIMITED,
        "CONTACTLISTS_CONNECT_RATE_LIMIT": UNLIMITED,
        "CONTACTLISTS_UNAUTHENTICATED_RATE_LIMIT": UNLIMITED,
        "CONTACTLISTS_LINKEDIN_BASE_URL": linkedin_server.base_url,
        "CONTACTLISTS_LINKEDIN_RETRY_BACKOFF_MS": "0",
    }
    generated = 0
    with serving(env, tmp_path, tmp_path / "server.log") as base:
        # Each run starts with the same coverage phase; later runs (a new seed) add more
        # generated cases until the target is reached.
        for run_number in range(5):
            summary = _schemathesis(base, account.live_key, tmp_path, run_number)
            generated += summary["test_cases"]["generated"]
            if generated >= REQUESTS:
                break
    print(f"schemathesis: {generated} requests generated, 0 failures")
    assert generated >= REQUESTS


def _schemathesis(base: str, key: str, tmp_path: Path, run_number: int) -> dict[str, Any]:
    """One `st run` with every check; its JSON report, after asserting it found nothing."""
    report = tmp_path / f"report-{run_number}.json"
    seed = int(os.environ.get("CONTACTLISTS_FUZZ_SEED", "20261126")) + run_number
    run = subprocess.run(
        [
            Path(sys.executable).with_name("st"),
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "all",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(seed),
            "--generation-database",
            "none",
            "--no-color",
            "--output-sanitize",
            "false",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.fuzzing.hooks",
            "FUZZ_BASE_URL": base,
            "FUZZ_API_KEY": key,
        },
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    summary: dict[str, Any] = json.loads(report.read_text())
    assert summary["operations"]["tested"] == OPERATIONS
    return summary
