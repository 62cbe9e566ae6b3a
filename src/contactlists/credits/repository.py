"""SQL for the credit ledger; the balance is always the sum of its rows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.models import CreditLedgerEntry as Entry


async def balance(conn: AsyncConnection, account_id: str) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(Entry.delta), 0)).where(
        Entry.account_id == account_id
    )
    return int((await conn.execute(query)).scalar_one())


async def record(
    conn: AsyncConnection,
    *,
    account_id: str,
    kind: str,
    delta: int,
    reason: str,
    now: datetime,
    list_id: str | None = None,
    request_id: str | None = None,
) -> None:
    await conn.execute(
        sa.insert(Entry).values(
            account_id=account_id,
            kind=kind,
            delta=delta,
            reason=reason,
            list_id=list_id,
            request_id=request_id,
            created_at=now,
        )
    )
