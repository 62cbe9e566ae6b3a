"""SQL for the credit ledger: the balance is the sum of `delta`, the credits held
by open reservations the sum of `held`. No rules, no commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.db import AnyRow
from contactlists.core.models import Account
from contactlists.core.models import CreditLedgerEntry as Entry

_OPEN_RESERVATION = sa.and_(Entry.kind == "reserve", Entry.closed_at.is_(None))


async def lock_account(conn: AsyncConnection, account_id: str) -> None:
    """Serialise credit decisions of one account until the transaction ends.

    PostgreSQL takes the account row's lock; SQLite ignores `FOR UPDATE`, but its
    write transactions begin IMMEDIATE and so are serialised already.
    """
    await conn.execute(sa.select(Account.id).where(Account.id == account_id).with_for_update())


async def balance(conn: AsyncConnection, account_id: str) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(Entry.delta), 0)).where(
        Entry.account_id == account_id
    )
    return int((await conn.execute(query)).scalar_one())


async def totals(conn: AsyncConnection, account_id: str) -> tuple[int, int]:
    """(balance, credits held by reservations not yet settled, released or expired)."""
    query = sa.select(
        sa.func.coalesce(sa.func.sum(Entry.delta), 0), sa.func.coalesce(sa.func.sum(Entry.held), 0)
    ).where(Entry.account_id == account_id)
    row = (await conn.execute(query)).one()
    return int(row[0]), int(row[1])


async def expired_reservations(
    conn: AsyncConnection, now: datetime, account_id: str | None = None
) -> Sequence[AnyRow]:
    query = sa.select(Entry.account_id, Entry.reservation_id, Entry.request_id).where(
        _OPEN_RESERVATION, Entry.expires_at <= now
    )
    if account_id is not None:
        query = query.where(Entry.account_id == account_id)
    return (await conn.execute(query.order_by(Entry.id))).all()


async def close_reservation(
    conn: AsyncConnection, reservation_id: str, now: datetime
) -> int | None:
    """Mark a reservation closed; what it held, or None when it was closed already."""
    query = (
        sa.update(Entry)
        .where(_OPEN_RESERVATION, Entry.reservation_id == reservation_id)
        .values(closed_at=now)
        .returning(Entry.held)
    )
    held = (await conn.execute(query)).scalar_one_or_none()
    return None if held is None else int(held)


async def record(
    conn: AsyncConnection,
    *,
    account_id: str,
    kind: str,
    reason: str,
    now: datetime,
    delta: int = 0,
    held: int = 0,
    list_id: str | None = None,
    request_id: str | None = None,
    reservation_id: str | None = None,
    expires_at: datetime | None = None,
) -> None:
    await conn.execute(
        sa.insert(Entry).values(
            account_id=account_id,
            kind=kind,
            delta=delta,
            held=held,
            reason=reason,
            list_id=list_id,
            request_id=request_id,
            reservation_id=reservation_id,
            expires_at=expires_at,
            created_at=now,
        )
    )


async def entries(conn: AsyncConnection, account_id: str) -> Sequence[AnyRow]:
    query = (
        sa.select(
            Entry.id,
            Entry.created_at,
            Entry.kind,
            Entry.delta,
            Entry.held,
            Entry.reason,
            Entry.reservation_id,
            Entry.list_id,
            Entry.request_id,
        )
        .where(Entry.account_id == account_id)
        .order_by(Entry.id)
    )
    return (await conn.execute(query)).all()
