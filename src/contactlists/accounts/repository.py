"""SQL for accounts and their API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.db import AnyRow
from contactlists.core.models import Account, ApiKey


async def insert_account(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(sa.insert(Account), [values])


async def find_account(conn: AsyncConnection, id_or_name: str) -> AnyRow | None:
    query = sa.select(Account.id, Account.name, Account.unlimited).where(
        sa.or_(Account.id == id_or_name, Account.name == id_or_name)
    )
    return (await conn.execute(query)).first()


async def list_accounts(conn: AsyncConnection) -> Sequence[AnyRow]:
    keys = (
        sa.select(sa.func.count())
        .where(ApiKey.account_id == Account.id, ApiKey.revoked_at.is_(None))
        .scalar_subquery()
    )
    query = sa.select(
        Account.id, Account.name, Account.unlimited, Account.created_at, keys.label("active_keys")
    ).order_by(Account.created_at, Account.id)
    return (await conn.execute(query)).all()


async def insert_key(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(sa.insert(ApiKey), [values])


async def list_keys(conn: AsyncConnection, account_id: str) -> Sequence[AnyRow]:
    query = (
        sa.select(
            ApiKey.id,
            ApiKey.prefix,
            ApiKey.mode,
            ApiKey.created_at,
            ApiKey.last_used_at,
            ApiKey.revoked_at,
        )
        .where(ApiKey.account_id == account_id)
        .order_by(ApiKey.created_at, ApiKey.id)
    )
    return (await conn.execute(query)).all()


async def has_active_key(conn: AsyncConnection, account_id: str, key_hash: str) -> bool:
    query = sa.select(ApiKey.id).where(
        ApiKey.account_id == account_id,
        ApiKey.key_hash == key_hash,
        ApiKey.revoked_at.is_(None),
    )
    return (await conn.execute(query)).first() is not None


async def revoke_keys(
    conn: AsyncConnection,
    now: datetime,
    *,
    key_id: str | None = None,
    account_id: str | None = None,
) -> int:
    """Revoke one key by id, or every live key of an account; returns how many."""
    query = sa.update(ApiKey).where(ApiKey.revoked_at.is_(None)).values(revoked_at=now)
    if key_id is not None:
        query = query.where(ApiKey.id == key_id)
    if account_id is not None:
        query = query.where(ApiKey.account_id == account_id, ApiKey.mode == "live")
    return (await conn.execute(query)).rowcount
