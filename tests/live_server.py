"""A real `contactlists serve` process on a free port, set up through the operator CLI."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from contactlists.core.db import Database


class LiveServer(NamedTuple):
    base: str
    live: str
    test: str


def shared_redis_env() -> dict[str, str]:
    """Settings for the machine's Redis, under a key prefix of the caller's own so
    runs (and the machine's other users) never collide. Without Redis: a skip,
    or a failure in CI, where `.ci/run` starts it."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is not reachable at 127.0.0.1:6379 in CI: {exc}", pytrace=False)
        pytest.skip(f"Redis is not reachable at 127.0.0.1:6379: {exc}")
    return {
        "CONTACTLISTS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "CONTACTLISTS_REDIS_KEY_PREFIX": f"contactlists-test-{secrets.token_hex(8)}",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def backend_database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """For a module's server: None on SQLite (the server makes a file of its own),
    else this run's PostgreSQL database, emptied first."""
    if backend != "postgresql":
        return None
    database = request.getfixturevalue("postgres")
    database.reset_blocking()
    url: str = database.url
    return url


def fresh_database_url(backend: str, request: pytest.FixtureRequest, workdir: Path) -> str:
    """An empty, migrated database of `backend`: a copy of the template on SQLite."""
    from tests.conftest import sqlite_copy

    if backend == "sqlite":
        return sqlite_copy(request.getfixturevalue("migrated_template"), workdir)
    return str(backend_database_url(backend, request))


@contextmanager
def provisioned_server(
    database_url: str, workdir: Path, log: Path | None = None, **settings: str
) -> Iterator[LiveServer]:
    """`run_server` on a migrated database, provisioned in-process (an account
    made through the service), so that it costs one process start, not six."""
    live, test = provision(database_url)
    with serving({**server_env(workdir, database_url), **settings}, workdir, log) as base:
        yield LiveServer(base, live, test)


def provision(database_url: str) -> tuple[str, str]:
    """An account with a sandbox connection on a migrated database: its live and
    test keys, made through the service in-process (no operator CLI to start)."""
    from tests.conftest import _in_thread, account_maker

    async def make() -> tuple[str, str]:
        database = Database(database_url)
        try:
            keys = await account_maker(database)()
        finally:
            await database.dispose()
        return keys.live_key, keys.test_key

    return _in_thread(lambda: asyncio.run(make()))


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
        "CONTACTLISTS_SECRET_KEY": "b8emEx6CEEaRVG9-Dh0puRKDTpNnfIhRyTlAKUHMSiW2eRgx",
        "CONTACTLISTS_DATABASE_URL": database_url or f"sqlite+aiosqlite:///{workdir / 'e2e.db'}",
        "CONTACTLISTS_PORT": str(free_port()),
    }


@contextmanager
def run_server(
    workdir: Path,
    database_url: str | None = None,
    log: Path | None = None,
    **settings: str,
) -> Iterator[LiveServer]:
    """A migrated database (a SQLite file in `workdir` unless `database_url` names
    one), an account with a sandbox connection and keys, then serve; `settings`
    are more `CONTACTLISTS_*` variables."""
    env = {**server_env(workdir, database_url), **settings}
    operator_cli(env, workdir, "migrate")
    operator_cli(env, workdir, "accounts", "create", "e2e")
    operator_cli(env, workdir, "connect", "sandbox", "--account", "e2e")
    live = operator_cli(env, workdir, "keys", "create", "--account", "e2e")
    test = operator_cli(env, workdir, "keys", "create", "--account", "e2e", "--test")
    with serving(env, workdir, log) as base:
        yield LiveServer(base, live, test)


def start_server(
    env: dict[str, str], workdir: Path, log: Path | None = None, *, args: Sequence[str] = ()
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `contactlists serve [args]` on the port `env` names and wait until it answers.

    Its output goes to `log` (appended), by default `serve-<port>.log` in
    `workdir`: a file, not a pipe, which a server logging every request would
    fill and then block on.
    """
    log = log or workdir / f"serve-{env['CONTACTLISTS_PORT']}.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "contactlists", "serve", *args],
            env=env,
            cwd=workdir,
            stdout=sink,
            stderr=sink,
        )
    base = f"http://127.0.0.1:{env['CONTACTLISTS_PORT']}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("server did not start: " + log.read_text()[-2000:])
        time.sleep(0.1)


@contextmanager
def serving(
    env: dict[str, str], workdir: Path, log: Path | None = None, *, args: Sequence[str] = ()
) -> Iterator[str]:
    """`contactlists serve [args]` on the port `env` names, until the block ends; yields its URL."""
    process, base = start_server(env, workdir, log, args=args)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
