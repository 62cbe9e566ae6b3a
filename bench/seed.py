"""Bulk-seed a migrated database directly (not through the API) for the benchmarks.

Rows are written with the raw driver in large batches so that a million
contacts take seconds, and they have the shape the API itself stores: dense
positions from 0, one base contact per person, the list's `contact_count`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from contactlists.core.auth import generate_key, hash_key
from contactlists.core.ids import new_id

CONTACTS_PER_LIST = 125
BATCH_ROWS = 20_000
SENIORITIES = (["MANAGER"], ["DIRECTOR"], [], ["SENIOR"], ["VP"], ["OWNER", "CXO"])


@dataclass(frozen=True)
class Seeded:
    account_id: str
    key: str
    list_ids: list[str]


def _moment(offset_s: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=offset_s)


def _list_rows(account_id: str, lists: int) -> list[dict[str, Any]]:
    filters = {
        "companyLinkedInUrls": ["https://www.linkedin.com/company/bench"],
        "jobTitles": ["Engineer"],
    }
    return [
        {
            "id": new_id("cl"),
            "account_id": account_id,
            "mode": "live",
            "name": f"Bench list {n}",
            "filters": filters,
            "provider": "sandbox",
            "contact_count": CONTACTS_PER_LIST,
            "created_at": _moment(n),
            "updated_at": _moment(n),
        }
        for n in range(lists)
    ]


def _people(lists: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(base contact, item) pairs: every list holds its own 125 people."""
    for lst in lists:
        for position in range(CONTACTS_PER_LIST):
            profile_id = f"ACwAA{lst['id'][3:15]}{position:04d}"
            person = {
                "first_name": f"First{position}",
                "last_name": f"Last{position}",
                "full_name": f"First{position} Last{position}",
                "company_name": "Bench Corp",
                "location": "London, England, United Kingdom",
                "headline": "Senior Software Engineer at Bench Corp",
            }
            base = {
                "id": new_id("bc"),
                "account_id": lst["account_id"],
                "mode": "live",
                "profile_id": profile_id,
                "profile_urn": f"urn:li:fs_salesProfile:({profile_id},NAME_SEARCH,abcd)",
                "title": "Senior Software Engineer",
                "public_profile_url": f"https://www.linkedin.com/in/bench-{position}",
                "created_at": lst["created_at"],
                "updated_at": lst["created_at"],
                **person,
            }
            item = {
                "id": new_id("ci"),
                "list_id": lst["id"],
                "position": position,
                "base_contact_id": base["id"],
                "sales_navigator_lead": f"{profile_id},NAME_SEARCH,abcd",
                "role": "Senior Software Engineer",
                "seniority": SENIORITIES[position % len(SENIORITIES)],
                "linkedin_profile_url": base["public_profile_url"],
                "created_at": lst["created_at"],
                **person,
            }
            yield base, item


def _batches(
    rows: Iterator[tuple[dict[str, Any], dict[str, Any]]],
) -> Iterator[list[tuple[dict[str, Any], dict[str, Any]]]]:
    batch: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _insert_sqlite(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608 - fixed names
    conn.executemany(sql, [tuple(_sqlite_value(r[c]) for c in columns) for r in rows])


def _account(name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    account = {"id": new_id("acct"), "name": name, "unlimited": True, "created_at": _moment(0)}
    key = generate_key("live")
    key_row = {
        "id": new_id("key"),
        "account_id": account["id"],
        "key_hash": hash_key(key),
        "prefix": key[:12],
        "mode": "live",
        "created_at": _moment(0),
        "last_used_at": datetime.now(UTC),
    }
    return account, key_row, key


def _sandbox_connection(account: dict[str, Any]) -> dict[str, Any]:
    """The account's connection: the sandbox, so creates need no LinkedIn."""
    return {
        "account_id": account["id"],
        "provider": "sandbox",
        "state": "active",
        "credentials": None,
        "connected_at": _moment(0),
        "last_verified_at": _moment(0),
        "last_error": None,
    }


def seed_sqlite(path: str, name: str, lists: int) -> Seeded:
    account, key_row, key = _account(name)
    list_rows = _list_rows(account["id"], lists)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        _insert_sqlite(conn, "accounts", [account])
        _insert_sqlite(conn, "api_keys", [key_row])
        _insert_sqlite(conn, "sales_navigator_connections", [_sandbox_connection(account)])
        for start in range(0, len(list_rows), BATCH_ROWS):
            _insert_sqlite(conn, "contact_lists", list_rows[start : start + BATCH_ROWS])
        for batch in _batches(_people(list_rows)):
            _insert_sqlite(conn, "base_contacts", [b for b, _ in batch])
            _insert_sqlite(conn, "contact_list_items", [i for _, i in batch])
        conn.commit()
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return Seeded(account["id"], key, [row["id"] for row in list_rows])


async def _copy(conn: asyncpg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    records = [
        tuple(json.dumps(r[c]) if isinstance(r[c], dict | list) else r[c] for c in columns)
        for r in rows
    ]
    await conn.copy_records_to_table(table, records=records, columns=columns)


async def seed_postgres(dsn: str, name: str, lists: int) -> Seeded:
    account, key_row, key = _account(name)
    list_rows = _list_rows(account["id"], lists)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await _copy(conn, "accounts", [account])
            await _copy(conn, "api_keys", [key_row])
            await _copy(conn, "sales_navigator_connections", [_sandbox_connection(account)])
            await _copy(conn, "contact_lists", list_rows)
            for batch in _batches(_people(list_rows)):
                await _copy(conn, "base_contacts", [b for b, _ in batch])
                await _copy(conn, "contact_list_items", [i for _, i in batch])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return Seeded(account["id"], key, [row["id"] for row in list_rows])
