"""A create in flight when the server is stopped is stored whole or not at all.

A real `contactlists serve` with sandbox latency (a create then searches for
about 1.5 s) gets a create; once its search is running (its credits are
reserved) the server is sent SIGTERM, a graceful stop that lets the create
finish, or SIGKILL, which lets nothing finish.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from contactlists.core.db import Database
from contactlists.core.models import ContactList, ContactListItem, CreditLedgerEntry
from tests.api.helpers import create_body
from tests.conftest import AccountKeys, account_maker, postgresql_only
from tests.live_server import server_env, shared_redis_env, start_server

LISTS = "/v1/contacts/lists"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The server's database, for the test to set up and inspect."""
    database = Database(database_url)
    yield database
    await database.dispose()


async def _count(database: Database, query: sa.Select[tuple[int]]) -> int:
    async with database.transaction() as conn:
        return int((await conn.execute(query)).scalar_one())


async def _search_running(database: Database) -> None:
    reserved = sa.select(sa.func.count()).where(CreditLedgerEntry.kind == "reserve")
    async with asyncio.timeout(30):
        while not await _count(database, reserved):
            await asyncio.sleep(0.02)


async def _create_then_signal(
    database: Database,
    account: AccountKeys,
    env: dict[str, str],
    workdir: Path,
    signum: int,
    args: Sequence[str] = (),
) -> tuple[httpx.Response | None, int]:
    """Start a create, signal the server mid-search; the answer (if any) and the exit code."""
    process, base = await asyncio.to_thread(start_server, env, workdir, args=args)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            create = asyncio.create_task(
                client.post(LISTS, json=create_body("sandbox-exact-125"), headers=account.live)
            )
            await _search_running(database)
            process.send_signal(signum)
            try:
                response: httpx.Response | None = await create
            except httpx.TransportError:
                response = None
        return response, await asyncio.to_thread(process.wait, 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _assert_whole_or_absent(database: Database, response: httpx.Response | None) -> None:
    lists = await _count(database, sa.select(sa.func.count()).select_from(ContactList))
    items = await _count(database, sa.select(sa.func.count()).select_from(ContactListItem))
    if response is not None and response.status_code == 201:
        assert response.json()["contactCount"] == 125
        assert (lists, items) == (1, 125)
    else:
        assert (lists, items) == (0, 0)


async def _sigterm_mid_create(
    db: Database, env: dict[str, str], workdir: Path, args: Sequence[str] = ()
) -> None:
    account = await account_maker(db)(credits=10)
    response, exit_code = await _create_then_signal(db, account, env, workdir, signal.SIGTERM, args)
    assert response is not None
    assert response.status_code == 201, response.text
    await _assert_whole_or_absent(db, response)
    assert exit_code == 0


async def test_sigterm_lets_the_create_finish_then_exits_cleanly(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    env = {**server_env(tmp_path, database_url), "CONTACTLISTS_SANDBOX_LATENCY_MS": "300"}
    await _sigterm_mid_create(db, env, tmp_path)


@postgresql_only
async def test_sigterm_to_two_workers_lets_the_create_finish(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    env = {
        **server_env(tmp_path, database_url),
        "CONTACTLISTS_SANDBOX_LATENCY_MS": "300",
        **shared_redis_env(),
    }
    await _sigterm_mid_create(db, env, tmp_path, args=("--workers", "2"))


async def test_sigkill_mid_search_stores_nothing(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    account = await account_maker(db)(credits=10)
    env = {**server_env(tmp_path, database_url), "CONTACTLISTS_SANDBOX_LATENCY_MS": "300"}
    response, exit_code = await _create_then_signal(db, account, env, tmp_path, signal.SIGKILL)
    assert exit_code == -signal.SIGKILL
    await _assert_whole_or_absent(db, response)
    assert response is None
