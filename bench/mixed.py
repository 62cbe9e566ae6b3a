"""`make load`: mixed traffic against a real server, then a check that no write was lost.

`python -m bench.mixed [--backend sqlite|postgresql] [--workers N] [--seconds S]
[--concurrency C] [--seed X]`. Each of C clients loops for S seconds (only on
127.0.0.1), choosing by weight: 80% reads (a page of lists, one list, a page of
its contacts), 15% creates (sandbox latency on, so a create takes its search's
time), 5% renames or deletes of the lists it made. Afterwards every list a
create was told about must be there with the last name a rename was told
about (or gone, if a delete answered 204), with all its contacts. It prints
p50/p99 per kind and exits 1 on any 5xx, transport error or lost write.
PostgreSQL runs on a throw-away database of the server that
`CONTACTLISTS_TEST_POSTGRES_URL` names, with Redis (`CONTACTLISTS_REDIS_URL`,
default `redis://127.0.0.1:6379/0`) shared by the workers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.__main__ import POSTGRES_ADMIN, _admin, app_env, serving
from contactlists.accounts import service as accounts
from contactlists.connections import service as connections
from contactlists.core.db import Database
from contactlists.core.migrate import upgrade

LISTS = "/v1/contacts/lists"
WEIGHTS = {"read": 80, "create": 15, "change": 5}


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_errors: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # list id -> last name told
    counts: dict[str, int] = field(default_factory=dict)  # list id -> contactCount told
    deleted: set[str] = field(default_factory=set)

    def record(self, kind: str, started: float, response: httpx.Response) -> None:
        self.latencies[kind].append(time.perf_counter() - started)
        if response.status_code >= 500:
            self.server_errors.append(f"{kind}: {response.status_code} {response.text[:200]}")


async def _client(
    client: httpx.AsyncClient, tally: Tally, rng: random.Random, deadline: float
) -> None:
    mine: list[str] = []
    while time.perf_counter() < deadline:
        kind = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        known = [list_id for list_id in tally.names if list_id not in tally.deleted]
        started = time.perf_counter()
        if kind == "read" and known:
            list_id = rng.choice(known)
            path = rng.choice([LISTS, f"{LISTS}/{list_id}", f"{LISTS}/{list_id}/contacts"])
            response = await client.get(path)
            tally.record(kind, started, response)
        elif kind == "change" and mine:
            list_id = rng.choice(mine)
            if rng.random() < 0.5:
                name = f"renamed {secrets.token_hex(4)}"
                response = await client.put(f"{LISTS}/{list_id}", json={"name": name})
                if response.status_code == 200:
                    tally.names[list_id] = name
            else:
                response = await client.delete(f"{LISTS}/{list_id}")
                if response.status_code == 204:
                    tally.deleted.add(list_id)
                    mine.remove(list_id)
            tally.record(kind, started, response)
        else:
            size = rng.choice([0, 5, 30, 80, 130])
            body = {
                "name": f"load {secrets.token_hex(4)}",
                "filters": {
                    "companyLinkedInUrls": [
                        f"https://www.linkedin.com/company/sandbox-exact-{size}"
                    ],
                    "jobTitles": ["Engineer"],
                },
            }
            response = await client.post(LISTS, json=body)
            tally.record("create", started, response)
            if response.status_code == 201:
                created = response.json()
                tally.names[created["id"]] = created["name"]
                tally.counts[created["id"]] = created["contactCount"]
                mine.append(created["id"])


async def _lost_writes(client: httpx.AsyncClient, tally: Tally) -> list[str]:
    lost = []
    for list_id, name in tally.names.items():
        response = await client.get(f"{LISTS}/{list_id}")
        if list_id in tally.deleted:
            if response.status_code != 404:
                lost.append(f"{list_id}: deleted, but answers {response.status_code}")
        elif response.status_code != 200 or response.json()["name"] != name:
            lost.append(f"{list_id}: expected {name!r}, got {response.status_code} {response.text}")
        else:
            contacts = await client.get(f"{LISTS}/{list_id}/contacts")
            if contacts.json()["total"] != tally.counts[list_id]:
                lost.append(f"{list_id}: {contacts.json()['total']} contacts")
    return lost


async def _drive(base: str, key: str, args: argparse.Namespace) -> tuple[Tally, list[str], float]:
    tally = Tally()
    rng = random.Random(args.seed)
    limits = httpx.Limits(max_connections=args.concurrency)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=120, limits=limits
    ) as client:
        started = time.perf_counter()
        deadline = started + args.seconds
        await asyncio.gather(
            *(
                _client(client, tally, random.Random(rng.random()), deadline)
                for _ in range(args.concurrency)
            )
        )
        elapsed = time.perf_counter() - started
        return tally, await _lost_writes(client, tally), elapsed


async def _provision(database_url: str) -> str:
    """An unlimited account with a sandbox connection; its live key."""
    database = Database(database_url)
    try:
        account_id = await accounts.create_account(database, "load", None)
        await connections.connect(database, account_id, "sandbox")
        _, key = await accounts.create_key(database, account_id, "live")
    finally:
        await database.dispose()
    return key


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def run(args: argparse.Namespace, database_url: str) -> int:
    extra: dict[str, str] = {"CONTACTLISTS_SANDBOX_LATENCY_MS": str(args.latency_ms)}
    if args.workers > 1:
        extra["CONTACTLISTS_REDIS_URL"] = args.redis_url
        extra["CONTACTLISTS_REDIS_KEY_PREFIX"] = f"load-{secrets.token_hex(4)}"
    env = {**os.environ, **app_env(database_url, **extra)}
    upgrade(database_url)
    key = asyncio.run(_provision(database_url))
    command = [sys.executable, "-m", "contactlists", "serve", "--workers", str(args.workers)]
    with serving(command, env) as (base, _):
        tally, lost, elapsed = asyncio.run(_drive(base, key, args))
    total = sum(len(values) for values in tally.latencies.values())
    print(
        f"{args.backend}, {args.workers} worker(s), {args.concurrency} clients, "
        f"{elapsed:.0f} s: {total} requests ({total / elapsed:.0f}/s), "
        f"{len(tally.server_errors)} 5xx, {len(lost)} lost writes"
    )
    print("| kind | requests | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for kind, values in sorted(tally.latencies.items()):
        print(
            f"| {kind} | {len(values)} | {statistics.median(values) * 1000:.1f} "
            f"| {_percentile(values, 0.99):.1f} |"
        )
    for problem in [*tally.server_errors[:10], *lost[:10]]:
        print("  ", problem)
    return 1 if tally.server_errors or lost else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--seed", default="20261126")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="contactlists-load-") as workdir:
            status = run(args, f"sqlite+aiosqlite:///{Path(workdir) / 'load.db'}")
        sys.exit(status)
    name = f"contactlists_load_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        status = run(args, POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    sys.exit(status)


if __name__ == "__main__":
    main()
