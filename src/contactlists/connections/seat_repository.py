"""SQL for a LinkedIn seat's lock and daily page usage, and the company-id cache."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.db import upsert_insert
from contactlists.core.models import LinkedInCompany, SeatLock, SeatPageUsage


async def try_lock(
    conn: AsyncConnection, account_id: str, holder: str, now: datetime, expires_at: datetime
) -> datetime | None:
    """Take the seat's lock if it is free or expired: `None` if taken, else when the
    current holder's lock expires. One atomic upsert, so two workers cannot both win."""
    insert = upsert_insert(conn, SeatLock)
    await conn.execute(
        insert.values(
            account_id=account_id, holder=holder, expires_at=expires_at
        ).on_conflict_do_update(
            index_elements=["account_id"],
            set_={"holder": insert.excluded.holder, "expires_at": insert.excluded.expires_at},
            where=SeatLock.expires_at <= now,
        )
    )
    row = (
        await conn.execute(
            sa.select(SeatLock.holder, SeatLock.expires_at).where(SeatLock.account_id == account_id)
        )
    ).one()
    return None if row.holder == holder else row.expires_at


async def unlock(conn: AsyncConnection, account_id: str, holder: str) -> None:
    await conn.execute(
        sa.delete(SeatLock).where(SeatLock.account_id == account_id, SeatLock.holder == holder)
    )


async def pages_used(conn: AsyncConnection, account_id: str, day: str) -> int:
    query = sa.select(SeatPageUsage.pages).where(
        SeatPageUsage.account_id == account_id, SeatPageUsage.day == day
    )
    return int((await conn.execute(query)).scalar_one_or_none() or 0)


async def add_page(conn: AsyncConnection, account_id: str, day: str) -> None:
    """Count one page against `day`, forgetting earlier days."""
    await conn.execute(
        sa.delete(SeatPageUsage).where(
            SeatPageUsage.account_id == account_id, SeatPageUsage.day < day
        )
    )
    insert = upsert_insert(conn, SeatPageUsage)
    await conn.execute(
        insert.values(account_id=account_id, day=day, pages=1).on_conflict_do_update(
            index_elements=["account_id", "day"], set_={"pages": SeatPageUsage.pages + 1}
        )
    )


async def company_ids(conn: AsyncConnection, names: Collection[str]) -> dict[str, str]:
    query = sa.select(LinkedInCompany.universal_name, LinkedInCompany.company_id).where(
        LinkedInCompany.universal_name.in_(names)
    )
    return {row[0]: row[1] for row in (await conn.execute(query)).all()}


async def remember_company(
    conn: AsyncConnection, name: str, company_id: str, now: datetime
) -> None:
    insert = upsert_insert(conn, LinkedInCompany)
    await conn.execute(
        insert.values(
            universal_name=name, company_id=company_id, resolved_at=now
        ).on_conflict_do_nothing(index_elements=["universal_name"])
    )
