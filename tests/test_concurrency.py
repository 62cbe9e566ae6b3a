"""Two real server processes on one PostgreSQL database, driven at once.

Creates across both servers and several accounts, renames and deletes racing on
the same lists, lists sharing people created and deleted together, pages read
while their list is deleted, one Idempotency-Key sent to both servers at once,
and one LinkedIn seat searched from both. Afterwards the database must hold
only whole lists (every count matches its items, no item without its list, no
person without an item), every answer must have been one the contract allows
(never a 5xx), and what one process changed (a revoked key, an expired
connection) must be what the other one sees at once.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from contactlists.accounts import service as accounts
from contactlists.core.db import Database
from tests.api.helpers import create_body
from tests.api.sales_navigator import INTEGRATION, LINKEDIN_PUT, MANAGERS_AT_STRIPE
from tests.conftest import AccountKeys, account_maker, postgresql_only
from tests.fakes.linkedin_server import FakeLinkedIn
from tests.live_server import free_port, server_env, start_server

pytestmark = postgresql_only
LISTS = "/v1/contacts/lists"
# Lists of the same company and filters hold the same people (the sandbox is
# deterministic), so creates and deletes of these share base contacts.
COMPANIES = ("sandbox-exact-40", "sandbox-exact-60", "sandbox-exact-26", "stripe")
# What each operation may answer while others race it.
ALLOWED = {
    "create": {201},
    "refused create": {422},
    "idempotent create": {201, 409},
    "rename": {200, 404},
    "delete": {204, 404},
    "page": {200, 404},
}
# Every stored list is whole, every person is held by an item: each query counts violations.
INVARIANTS = {
    "a list's contactCount differs from its items": """
        SELECT count(*) FROM contact_lists l WHERE l.contact_count <>
            (SELECT count(*) FROM contact_list_items i WHERE i.list_id = l.id)""",
    "an item lacks its list": """
        SELECT count(*) FROM contact_list_items i
        WHERE NOT EXISTS (SELECT 1 FROM contact_lists l WHERE l.id = i.list_id)""",
    "a base contact lacks an item": """
        SELECT count(*) FROM base_contacts b
        WHERE NOT EXISTS (SELECT 1 FROM contact_list_items i WHERE i.base_contact_id = b.id)""",
    "positions are not 0..n-1": """
        SELECT count(*) FROM (
            SELECT count(*) AS n, min(position) AS lo, max(position) AS hi,
                   count(DISTINCT position) AS d
            FROM contact_list_items GROUP BY list_id) s
        WHERE lo <> 0 OR hi <> n - 1 OR d <> n""",
    "an item holds another account's person": """
        SELECT count(*) FROM contact_list_items i
        JOIN contact_lists l ON l.id = i.list_id
        JOIN base_contacts b ON b.id = i.base_contact_id
        WHERE b.account_id <> l.account_id OR b.mode <> l.mode""",
    "a reservation is still open": """
        SELECT count(*) FROM credit_ledger WHERE kind = 'reserve' AND closed_at IS NULL""",
    "an idempotency claim is still in progress": """
        SELECT count(*) FROM idempotency_records WHERE state <> 'completed'""",
    "a seat lock is still held": "SELECT count(*) FROM sales_navigator_seat_locks",
}


@dataclass
class Drive:
    """Both servers' clients, and every (operation, status) they answered."""

    clients: tuple[httpx.AsyncClient, httpx.AsyncClient]
    answers: list[tuple[str, int, str]] = field(default_factory=list)

    async def call(
        self, op: str, server: int, method: str, path: str, headers: dict[str, str], **kw: Any
    ) -> httpx.Response:
        response = await self.clients[server % 2].request(method, path, headers=headers, **kw)
        self.answers.append((op, response.status_code, response.text[:300]))
        return response


@asynccontextmanager
async def two_servers(database_url: str, workdir: Path, fake: FakeLinkedIn) -> AsyncIterator[Drive]:
    env = {
        **server_env(workdir, database_url),
        "CONTACTLISTS_RATE_LIMIT": "100000/minute",
        "CONTACTLISTS_CREATE_RATE_LIMIT": "100000/minute",
        "CONTACTLISTS_CONNECT_RATE_LIMIT": "100000/minute",
        "CONTACTLISTS_SANDBOX_LATENCY_MS": "20",
        # Small pools: the PostgreSQL server may be shared; waits are fine, failures are not.
        "CONTACTLISTS_DB_POOL_SIZE": "4",
        "CONTACTLISTS_DB_POOL_TIMEOUT_S": "30",
        "CONTACTLISTS_LINKEDIN_BASE_URL": fake.base_url,
        "CONTACTLISTS_LINKEDIN_PAGE_DELAY_MS": "100",
        "CONTACTLISTS_LINKEDIN_RETRY_BACKOFF_MS": "0",
    }
    started = await asyncio.gather(
        *(
            asyncio.to_thread(start_server, {**env, "CONTACTLISTS_PORT": str(free_port())}, workdir)
            for _ in range(2)
        )
    )
    try:
        async with (
            httpx.AsyncClient(base_url=started[0][1], timeout=60) as first,
            httpx.AsyncClient(base_url=started[1][1], timeout=60) as second,
        ):
            yield Drive((first, second))
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            await asyncio.to_thread(process.wait, 60)


async def _creates(drive: Drive, creators: list[AccountKeys]) -> list[httpx.Response]:
    """50 plain creates across both servers, each by its creator."""
    return await asyncio.gather(
        *(
            drive.call(
                "create",
                i,
                "POST",
                LISTS,
                creator.live,
                json=create_body(COMPANIES[i % len(COMPANIES)], name=f"list {i}"),
            )
            for i, creator in enumerate(creators)
        )
    )


async def _idempotent_creates(drive: Drive, account: AccountKeys) -> dict[str, set[str]]:
    """Each key sent to both servers at once: one list per key, whoever answers."""
    keys = [f"race-{n}" for n in range(5)]
    sends = [
        drive.call(
            "idempotent create",
            server,
            "POST",
            LISTS,
            {**account.live, "Idempotency-Key": key},
            json=create_body(COMPANIES[n % len(COMPANIES)], name=key),
        )
        for n, key in enumerate(keys)
        for server in (0, 1)
    ]
    answers = await asyncio.gather(*sends)
    ids: dict[str, set[str]] = {key: set() for key in keys}
    for n, response in enumerate(answers):
        if response.status_code == 201:
            ids[keys[n // 2]].add(response.json()["id"])
    return ids


async def _race(
    drive: Drive, created: list[dict[str, Any]], owners: list[AccountKeys]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Renames, deletes, pages and new creates of the same people, all at once."""
    doomed = created[:30]
    work: list[Awaitable[httpx.Response]] = []
    deletes: dict[str, list[int]] = {}
    for index, contact_list in enumerate(doomed):
        path, headers = f"{LISTS}/{contact_list['id']}", owners[index].live
        for server in (0, 1):
            work.append(drive.call("rename", server, "PUT", path, headers, json={"name": "r"}))
            deletes.setdefault(contact_list["id"], []).append(len(work))
            work.append(drive.call("delete", server, "DELETE", path, headers))
            for offset in (0, 25):
                work.append(
                    drive.call("page", server, "GET", f"{path}/contacts?offset={offset}", headers)
                )
    fresh = [
        drive.call(
            "create",
            n,
            "POST",
            LISTS,
            owners[n].live,
            json=create_body(COMPANIES[n % len(COMPANIES)], name=f"again {n}"),
        )
        for n in range(12)
    ]
    answers = await asyncio.gather(*work, *fresh)
    for contact_list in doomed:
        statuses = [answers[i].status_code for i in deletes[contact_list["id"]]]
        assert sorted(statuses) == [204, 404], statuses  # exactly one delete wins
    counts = {c["id"]: c["contactCount"] for c in doomed}
    for response in answers[: len(work)]:
        if response.request.method == "GET" and response.status_code == 200:
            # A page read while its list is deleted is a page of the whole list.
            page, url = response.json(), response.request.url
            assert page["total"] == counts[url.path.split("/")[4]]
            assert len(page["items"]) == max(0, min(25, page["total"] - int(url.params["offset"])))
    return [c["id"] for c in doomed], [r.json() for r in answers[len(work) :]]


async def _all_contacts(client: httpx.AsyncClient, list_id: str, headers: dict[str, str]) -> int:
    page = await client.get(f"{LISTS}/{list_id}/contacts?limit=100", headers=headers)
    rest = await client.get(f"{LISTS}/{list_id}/contacts?limit=100&offset=100", headers=headers)
    assert page.status_code == rest.status_code == 200
    return len(page.json()["items"]) + len(rest.json()["items"])


async def _seat_searched_from_both(drive: Drive, account: AccountKeys, fake: FakeLinkedIn) -> None:
    """Two creates on one LinkedIn seat, one per server: the seat lock runs them one by one."""
    fake.add_company("stripe", "2135371", 60, title="Engineering Manager")
    connected = await drive.call("connect", 0, "PUT", INTEGRATION, account.live, json=LINKEDIN_PUT)
    assert connected.status_code == 200, connected.text
    both = await asyncio.gather(
        *(
            drive.call("create", server, "POST", LISTS, account.live, json=MANAGERS_AT_STRIPE)
            for server in (0, 1)
        )
    )
    assert [r.json()["contactCount"] for r in both] == [60, 60]
    # Three pages each (25, 25, 10), never interleaved.
    assert [call.page for call in fake.searches] == [1, 2, 3, 1, 2, 3]


async def _changes_seen_by_the_other(drive: Drive, db: Database, account: AccountKeys) -> None:
    """A key revoked and a connection expired through one process hold in the other at once."""
    key_id, key = await accounts.create_key(db, account.id, "live")
    headers = {"Authorization": f"Bearer {key}"}
    for server in (0, 1):
        assert (await drive.call("get", server, "GET", LISTS, headers)).status_code == 200
    await accounts.revoke_key(db, key_id)
    for server in (0, 1):
        revoked = await drive.call("get", server, "GET", LISTS, headers)
        assert revoked.json()["error"]["errorCode"] == "REVOKED_API_KEY"

    expiring = create_body("sandbox-session-expired")
    expired = await drive.call("refused create", 0, "POST", LISTS, account.live, json=expiring)
    refused = await drive.call("refused create", 1, "POST", LISTS, account.live, json=create_body())
    for response in (expired, refused):
        assert response.json()["error"]["errorCode"] == "SALES_NAVIGATOR_SESSION_EXPIRED"
    renewed = await drive.call(
        "connect", 1, "PUT", INTEGRATION, account.live, json={"provider": "sandbox"}
    )
    assert renewed.status_code == 200
    assert (
        await drive.call("create", 0, "POST", LISTS, account.live, json=create_body())
    ).status_code == 201


async def _seen_alike_by_both(
    drive: Drive,
    created: list[dict[str, Any]],
    creators: list[AccountKeys],
    deleted: list[str],
    owners: list[AccountKeys],
) -> None:
    """Deleted lists are gone and survivors whole, whichever server is asked."""
    for index, contact_list in enumerate(created):
        headers = creators[index].live
        for server, client in enumerate(drive.clients):
            if contact_list["id"] in deleted:
                gone = await client.get(f"{LISTS}/{contact_list['id']}", headers=headers)
                assert gone.status_code == 404
            elif server == index % 2:
                count = await _all_contacts(client, contact_list["id"], headers)
                assert count == contact_list["contactCount"]
    for owner in owners:
        listed = [
            {
                item["id"]
                for item in (await client.get(f"{LISTS}?limit=100", headers=owner.live)).json()[
                    "items"
                ]
            }
            for client in drive.clients
        ]
        assert listed[0] == listed[1]
        assert not listed[0] & set(deleted)


async def test_two_servers_on_one_database(
    database_url: str, tmp_path: Path, fake_linkedin: FakeLinkedIn
) -> None:
    db = Database(database_url)
    make = account_maker(db)
    owners = [await make(), await make(), await make(credits=1000)]
    seat, changing = await make(connect=False), await make()
    creators = [owners[i % len(owners)] for i in range(50)]
    try:
        async with two_servers(database_url, tmp_path, fake_linkedin) as drive:
            plain, keyed = await asyncio.gather(
                _creates(drive, creators), _idempotent_creates(drive, owners[0])
            )
            for key, ids in keyed.items():
                assert len(ids) == 1, (key, ids)  # both answers name one list
            created = [response.json() for response in plain]
            deleted, fresh = await _race(drive, created, creators)
            await _seen_alike_by_both(drive, created, creators, deleted, owners)
            await _seat_searched_from_both(drive, seat, fake_linkedin)
            await _changes_seen_by_the_other(drive, db, changing)
            # The limited account paid once for each list it stored (deleted ones too),
            # a credit per page of 25 with leads: no charge lost, none taken twice.
            limited = [c for i, c in enumerate(created + fresh) if creators[i % 50] is owners[2]]
            charged = sum(math.ceil(c["contactCount"] / 25) for c in limited)
            credits = await drive.call("credits", 1, "GET", "/v1/credits", owners[2].live)
            assert credits.json()["remainingCredits"] == 1000 - charged
        async with db.transaction() as conn:
            broken = {
                name: int((await conn.execute(sa.text(sql))).scalar_one())
                for name, sql in INVARIANTS.items()
            }
            stored = (await conn.execute(sa.text("SELECT count(*) FROM contact_lists"))).scalar()
    finally:
        await db.dispose()
    assert broken == dict.fromkeys(INVARIANTS, 0)
    # 50 created, 30 deleted, 12 created during the race, 5 keyed, 2 on the seat, 1 renewed.
    assert stored == 50 - 30 + 12 + 5 + 2 + 1
    unexpected = [
        answer
        for answer in drive.answers
        if answer[1] >= 500 or answer[1] not in ALLOWED.get(answer[0], {answer[1]})
    ]
    assert unexpected == []
