"""SQL for the account's Sales Navigator connection."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.db import AnyRow
from contactlists.models import SalesNavigatorConnection as Connection

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
    """Replace the account's connection with a fresh, active one."""
    await conn.execute(sa.delete(Connection).where(Connection.account_id == account_id))
    await conn.execute(
        sa.insert(Connection).values(
            account_id=account_id,
            provider=provider,
            state="active",
            credentials=credentials,
            connected_at=now,
            last_verified_at=now,
            last_error=None,
        )
    )


async def mark_expired(conn: AsyncConnection, account_id: str, error: str) -> None:
    await conn.execute(
        sa.update(Connection)
        .where(Connection.account_id == account_id)
        .values(state="expired", last_error=error)
    )


async def delete(conn: AsyncConnection, account_id: str) -> None:
    await conn.execute(sa.delete(Connection).where(Connection.account_id == account_id))
