"""A real `contactlists serve` process on a free port, set up through the operator CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx


class LiveServer(NamedTuple):
    base: str
    live: str
    test: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def operator_cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    """Run an operator command; return the last line of its stdout."""
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


def server_env(workdir: Path, database_url: str | None = None) -> dict[str, str]:
    """A production configuration on a free port, on a SQLite file in `workdir` by default."""
    return {
        **os.environ,
        "CONTACTLISTS_ENV": "production",
        "CONTACTLISTS_SECRET_KEY": "a-production-grade-secret-key-0123456789abcdef",
        "CONTACTLISTS_DATABASE_URL": database_url or f"sqlite+aiosqlite:///{workdir / 'e2e.db'}",
        "CONTACTLISTS_PORT": str(free_port()),
    }


@contextmanager
def run_server(workdir: Path, database_url: str | None = None) -> Iterator[LiveServer]:
    """A migrated database (a SQLite file in `workdir` unless `database_url` names
    one), an account with a sandbox connection and keys, then serve."""
    env = server_env(workdir, database_url)
    operator_cli(env, workdir, "migrate")
    operator_cli(env, workdir, "accounts", "create", "e2e")
    operator_cli(env, workdir, "connect", "sandbox", "--account", "e2e")
    live = operator_cli(env, workdir, "keys", "create", "--account", "e2e")
    test = operator_cli(env, workdir, "keys", "create", "--account", "e2e", "--test")
    with serving(env, workdir) as base:
        yield LiveServer(base, live, test)


@contextmanager
def serving(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """`contactlists serve` on the port `env` names, until the block ends; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "contactlists", "serve"],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{env['CONTACTLISTS_PORT']}"
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
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        assert process.stderr is not None
        process.stderr.close()
