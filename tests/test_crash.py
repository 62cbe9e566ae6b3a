"""Crash consistency: a real server SIGKILLed in the middle of creates and deletes.

Each round starts `contactlists serve` (sandbox latency on, so a create takes
about half a second), sends concurrent creates (with and without an
`Idempotency-Key`, and retries of keyed creates a kill interrupted) and deletes
of earlier lists, and kills the process at a random moment. The next round's
server starts on what the kill left, and the database must be consistent:

- every list's `contactCount` equals its stored items;
- no item without its list, no base contact without an item;
- every list is charged exactly once, its real cost, and no charge lacks a list
  that existed; the balance the API reports is the ledger's;
- every create that answered 201 is there, unless a delete of it was sent;
  a keyed create that answered 201 replays the same list;
- reservations and idempotency claims left by killed requests expire no later
  than the search deadline plus the grace after the kill; after that time has
  passed, they no longer hold credits or keys.

CI runs `CONTACTLISTS_CRASH_ROUNDS` (default 3) rounds per backend, and then
moves the leftovers' expiry into the past rather than waiting it out; `make
crash-test` runs 200 rounds per backend and waits for the real expiry.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from contactlists.connections.search import ABANDONED_GRACE
from contactlists.core.db import Database
from contactlists.core.models import CreditLedgerEntry, IdempotencyRecord
from tests.api.helpers import create_body
from tests.conftest import AccountKeys, MakeAccount
from tests.live_server import free_port, server_env, start_server

ROUNDS = int(os.environ.get("CONTACTLISTS_CRASH_ROUNDS", "3"))
WAIT_FOR_REAL_EXPIRY = ROUNDS >= 20
GRANTED = 1_000_000
SEARCH_TIMEOUT_S = 5
PAGE_SIZE = 25
LISTS = "/v1/contacts/lists"
HOLD_TTL = timedelta(seconds=SEARCH_TIMEOUT_S) + ABANDONED_GRACE  # the lock wait is 0

pytestmark = pytest.mark.crash


@dataclass
class History:
    """What the clients were told, across rounds."""

    created: dict[str, str] = field(default_factory=dict)  # list id -> its key or ""
    keyed: dict[str, tuple[dict[str, Any], str | None]] = field(default_factory=dict)
    delete_sent: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)  # every list id ever in the database
    interrupted_keys: set[str] = field(default_factory=set)
    cut: int = 0  # requests a kill cut off


def _body(rng: random.Random) -> dict[str, Any]:
    size = rng.choice([0, 3, 24, 25, 26, 60, 130])
    return create_body(f"sandbox-exact-{size}", name=f"crash {uuid.uuid4().hex[:8]}")


async def _create(
    client: httpx.AsyncClient, history: History, body: dict[str, Any], key: str | None
) -> None:
    headers = {"Idempotency-Key": key} if key else {}
    if key:
        history.keyed.setdefault(key, (body, None))
    try:
        response = await client.post(LISTS, json=body, headers=headers)
    except httpx.TransportError:
        history.cut += 1
        if key:
            history.interrupted_keys.add(key)
        return
    if response.status_code == 409 and key:  # the killed holder's claim has not expired
        assert response.json()["error"]["errorCode"] == "IDEMPOTENCY_IN_PROGRESS"
        history.interrupted_keys.add(key)
        return
    assert response.status_code == 201, response.text
    list_id = response.json()["id"]
    history.created[list_id] = key or ""
    if key:
        remembered = history.keyed[key][1]
        assert remembered in (None, list_id), "a key answered two different lists"
        history.keyed[key] = (body, list_id)
        history.interrupted_keys.discard(key)


async def _delete(client: httpx.AsyncClient, history: History, list_id: str) -> None:
    history.delete_sent.add(list_id)
    try:
        response = await client.delete(f"{LISTS}/{list_id}")
    except httpx.TransportError:
        history.cut += 1
        return
    assert response.status_code in (204, 404), response.text


async def _round(
    base: str, account: AccountKeys, history: History, rng: random.Random
) -> list[asyncio.Task[None]]:
    """Start this round's requests; the caller kills the server under them."""
    client = httpx.AsyncClient(base_url=base, headers=account.live, timeout=30)
    work = []
    for _ in range(4):
        key = uuid.uuid4().hex if rng.random() < 0.5 else None
        work.append(_create(client, history, _body(rng), key))
    for key in rng.sample(sorted(history.interrupted_keys), min(2, len(history.interrupted_keys))):
        work.append(_create(client, history, history.keyed[key][0], key))
    alive = sorted(set(history.created) - history.delete_sent)
    for list_id in rng.sample(alive, min(2, len(alive))):
        work.append(_delete(client, history, list_id))
    tasks = [asyncio.create_task(item) for item in work]
    return [*tasks, asyncio.create_task(_close_after(client, tasks))]


async def _close_after(client: httpx.AsyncClient, tasks: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.aclose()


async def _scalar_rows(database: Database, query: str) -> list[Any]:
    async with database.transaction() as conn:
        return list((await conn.execute(sa.text(query))).all())


async def _check(
    database: Database, client: httpx.AsyncClient, account: AccountKeys, history: History
) -> None:
    miscounted = await _scalar_rows(
        database,
        "SELECT l.id FROM contact_lists l WHERE l.contact_count != "
        "(SELECT count(*) FROM contact_list_items i WHERE i.list_id = l.id)",
    )
    assert miscounted == []
    orphan_items = await _scalar_rows(
        database,
        "SELECT i.id FROM contact_list_items i "
        "WHERE NOT EXISTS (SELECT 1 FROM contact_lists l WHERE l.id = i.list_id)",
    )
    assert orphan_items == []
    orphan_people = await _scalar_rows(
        database,
        "SELECT b.id FROM base_contacts b "
        "WHERE NOT EXISTS (SELECT 1 FROM contact_list_items i WHERE i.base_contact_id = b.id)",
    )
    assert orphan_people == []

    lists = dict(await _scalar_rows(database, "SELECT id, contact_count FROM contact_lists"))
    history.seen |= set(lists)
    missing = set(history.created) - set(lists)
    assert missing <= history.delete_sent, "a create that answered 201 is gone"
    settled = await _scalar_rows(
        database, "SELECT list_id, delta FROM credit_ledger WHERE kind = 'settle'"
    )
    charged = [list_id for list_id, _ in settled]
    assert len(charged) == len(set(charged)), "a list was charged twice"
    assert set(charged) <= history.seen, "a charge without a list"
    assert set(lists) <= set(charged), "a list was never charged"
    for list_id, delta in settled:
        if list_id in lists:
            assert -delta == math.ceil(lists[list_id] / PAGE_SIZE)
    (ledger_balance,) = (
        await _scalar_rows(database, "SELECT coalesce(sum(delta), 0) FROM credit_ledger")
    )[0]
    credits = await client.get("/v1/credits", headers=account.live)
    assert credits.json()["remainingCredits"] == ledger_balance
    assert ledger_balance == GRANTED + sum(delta for _, delta in settled)

    latest = datetime.now(UTC) + HOLD_TTL
    async with database.transaction() as conn:
        holds = (
            await conn.execute(
                sa.select(CreditLedgerEntry.expires_at).where(
                    CreditLedgerEntry.kind == "reserve", CreditLedgerEntry.closed_at.is_(None)
                )
            )
        ).all()
        claims = (
            await conn.execute(
                sa.select(IdempotencyRecord.expires_at).where(
                    IdempotencyRecord.state == "in_progress"
                )
            )
        ).all()
    assert all(expires_at <= latest for (expires_at,) in [*holds, *claims])

    for key, (_, list_id) in history.keyed.items():
        if list_id is not None and list_id not in history.delete_sent:
            replay = await client.post(
                LISTS, json=history.keyed[key][0], headers={**account.live, "Idempotency-Key": key}
            )
            assert replay.status_code == 201
            assert replay.json()["id"] == list_id


async def _expire_leftovers(database: Database) -> None:
    """Let the leftovers' expiry pass: wait for it, or move it into the past."""
    if WAIT_FOR_REAL_EXPIRY:
        await asyncio.sleep(HOLD_TTL.total_seconds() + 1)
        return
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with database.transaction(write=True) as conn:
        await conn.execute(
            sa.update(CreditLedgerEntry)
            .where(CreditLedgerEntry.kind == "reserve", CreditLedgerEntry.closed_at.is_(None))
            .values(expires_at=past)
        )
        await conn.execute(
            sa.update(IdempotencyRecord)
            .where(IdempotencyRecord.state == "in_progress")
            .values(expires_at=past)
        )


async def test_kills_leave_the_database_consistent(
    database: Database, database_url: str, make_account: MakeAccount, tmp_path: Path
) -> None:
    account = await make_account(credits=GRANTED)
    rng = random.Random(os.environ.get("CONTACTLISTS_CRASH_SEED", "20261126"))
    env = {
        **server_env(tmp_path, database_url),
        "CONTACTLISTS_SANDBOX_LATENCY_MS": "100",
        "CONTACTLISTS_SEARCH_TIMEOUT_S": str(SEARCH_TIMEOUT_S),
        "CONTACTLISTS_SEARCH_LOCK_WAIT_S": "0",
        "CONTACTLISTS_RATE_LIMIT": "1000000/minute",
        "CONTACTLISTS_CREATE_RATE_LIMIT": "1000000/minute",
    }
    history = History()
    log = tmp_path / "server.log"
    for _ in range(ROUNDS):
        env["CONTACTLISTS_PORT"] = str(free_port())
        process, base = start_server(env, tmp_path, log)
        async with httpx.AsyncClient(base_url=base) as client:
            await _check(database, client, account, history)
        tasks = await _round(base, account, history, rng)
        await asyncio.sleep(rng.uniform(0.05, 1.0))
        process.kill()
        process.wait()
        await asyncio.gather(*tasks)

    await _expire_leftovers(database)
    env["CONTACTLISTS_PORT"] = str(free_port())
    process, base = start_server(env, tmp_path, log)
    try:
        async with httpx.AsyncClient(base_url=base, headers=account.live, timeout=30) as client:
            await _check(database, client, account, history)
            for key in sorted(history.interrupted_keys):
                await _create(client, history, history.keyed[key][0], key)
            assert not history.interrupted_keys, "a dead request's key never came free"
            # A create closes its account's expired reservations before reserving.
            await _create(client, history, create_body("sandbox-exact-3"), None)
            await _check(database, client, account, history)
        async with database.transaction() as conn:
            open_holds = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        CreditLedgerEntry.kind == "reserve", CreditLedgerEntry.closed_at.is_(None)
                    )
                )
            ).scalar_one()
        assert open_holds == 0
        print(
            f"crash: {ROUNDS} kills survived, {history.cut} requests cut off, "
            f"{len(history.created)} creates answered 201, {len(history.seen)} lists checked"
        )
    finally:
        process.terminate()
        process.wait(timeout=15)
