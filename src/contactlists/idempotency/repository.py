"""SQL for idempotency records. No rules, no commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.db import AnyRow, upsert_insert
from contactlists.core.models import IdempotencyRecord as Record


def _key(account_id: str, mode: str, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(Record.account_id == account_id, Record.mode == mode, Record.key == key)


async def delete_expired(
    conn: AsyncConnection, now: datetime, account_id: str | None = None, mode: str | None = None
) -> int:
    query = sa.delete(Record).where(Record.expires_at <= now)
    if account_id is not None and mode is not None:
        query = query.where(Record.account_id == account_id, Record.mode == mode)
    return (await conn.execute(query)).rowcount


async def insert_claim(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Insert unless the key is taken (even by a transaction still running); True if inserted."""
    query = (
        upsert_insert(conn, Record)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["account_id", "mode", "key"])
        .returning(Record.key)
    )
    return (await conn.execute(query)).first() is not None


async def get(conn: AsyncConnection, account_id: str, mode: str, key: str) -> AnyRow | None:
    query = sa.select(
        Record.fingerprint, Record.state, Record.response_status, Record.response_body
    ).where(_key(account_id, mode, key))
    return (await conn.execute(query)).one_or_none()


async def complete(
    conn: AsyncConnection, account_id: str, mode: str, key: str, values: dict[str, Any]
) -> bool:
    query = (
        sa.update(Record)
        .where(_key(account_id, mode, key), Record.state == "in_progress")
        .values(state="completed", **values)
    )
    return (await conn.execute(query)).rowcount == 1


async def delete_claim(conn: AsyncConnection, account_id: str, mode: str, key: str) -> None:
    await conn.execute(
        sa.delete(Record).where(_key(account_id, mode, key), Record.state == "in_progress")
    )
