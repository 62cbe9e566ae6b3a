"""SQL for the account's Sales Navigator connection."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.db import AnyRow, upsert_insert
from contactlists.core.models import SalesNavigatorConnection as Connection

_COLUMNS = (
    Connection.provider,
    Connection.state,
    Connection.connected_at,
    Connection.last_verified_at,
    Connection.last_error,
)


async def get(conn: AsyncConnection, account_id: str) -> AnyRow | None:
    query = sa.select(*_COLUMNS).where(Connection.account_id == account_id)
    return (await conn.execute(query)).one_or_none()


async def upsert(
    conn: AsyncConnection,
    account_id: str,
    provider: str,
    credentials: str | None,
    now: datetime,
) -> None:
    """Replace the account's connection with a fresh, active one.

    One `INSERT … ON CONFLICT DO UPDATE`, so two first connects racing on
    PostgreSQL converge instead of one failing on the primary key.
    """
    values = {
        "provider": provider,
        "state": "active",
        "credentials": credentials,
        "connected_at": now,
        "last_verified_at": now,
        "last_error": None,
    }
    insert = upsert_insert(conn, Connection).values(account_id=account_id, **values)
    await conn.execute(insert.on_conflict_do_update(index_elements=["account_id"], set_=values))


async def mark_expired(conn: AsyncConnection, account_id: str, error: str) -> None:
    await conn.execute(
        sa.update(Connection)
        .where(Connection.account_id == account_id)
        .values(state="expired", last_error=error)
    )


async def delete(conn: AsyncConnection, account_id: str) -> None:
    await conn.execute(sa.delete(Connection).where(Connection.account_id == account_id))


async def get_credentials(conn: AsyncConnection, account_id: str) -> str | None:
    query = sa.select(Connection.credentials).where(Connection.account_id == account_id)
    return (await conn.execute(query)).scalar_one_or_none()


async def mark_verified(conn: AsyncConnection, account_id: str, now: datetime) -> None:
    await conn.execute(
        sa.update(Connection)
        .where(Connection.account_id == account_id, Connection.state == "active")
        .values(last_verified_at=now)
    )


async def all_credentials(conn: AsyncConnection) -> list[tuple[str, str]]:
    """(account id, encrypted credentials) of every connection that has them."""
    query = (
        sa.select(Connection.account_id, Connection.credentials)
        .where(Connection.credentials.is_not(None))
        .order_by(Connection.account_id)
    )
    return [(row[0], str(row[1])) for row in (await conn.execute(query)).all()]


async def set_credentials(conn: AsyncConnection, account_id: str, credentials: str) -> None:
    await conn.execute(
        sa.update(Connection)
        .where(Connection.account_id == account_id)
        .values(credentials=credentials)
    )


async def swap_credentials(
    conn: AsyncConnection, account_id: str, expected: str, credentials: str
) -> bool:
    """Replace the stored credentials only if they are still `expected`."""
    result = await conn.execute(
        sa.update(Connection)
        .where(Connection.account_id == account_id, Connection.credentials == expected)
        .values(credentials=credentials)
    )
    return bool(result.rowcount)
