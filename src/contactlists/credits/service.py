"""Credit rules: who pays, how much, and how a search's cost is held and settled.

Test mode and unlimited accounts are never charged. A live create on a limited
account first reserves the maximum cost of a search, atomically: the account's
available credits (balance minus what open reservations hold) must cover it, or
the create is a 402 before any upstream call. The reservation is settled to the
real cost in the list's own transaction, released when the create fails, and
expires on its own when the process dies before either; an expired reservation
stops counting at once and is closed by the next reservation of the account (or
by `contactlists purge`). Every step is a ledger row, so the ledger alone says
what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.auth import Principal
from contactlists.core.clock import utcnow
from contactlists.core.db import AnyRow, Database
from contactlists.core.errors import InsufficientCredits
from contactlists.core.ids import new_id
from contactlists.credits import repository

logger = logging.getLogger("contactlists.credits")
EXPIRED_REASON = "reservation expired: its request never finished"


@dataclass(frozen=True, slots=True)
class Reservation:
    id: str
    account_id: str
    amount: int
    request_id: str


def is_charged(principal: Principal) -> bool:
    return principal.mode == "live" and not principal.unlimited


async def remaining(database: Database, principal: Principal) -> dict[str, Any]:
    """The settled balance; credits held by searches in flight are not subtracted."""
    if principal.unlimited:
        return {"remainingCredits": None, "unlimited": True}
    async with database.transaction() as conn:
        balance = await repository.balance(conn, principal.account_id)
    return {"remainingCredits": balance, "unlimited": False}


async def _close_expired(conn: AsyncConnection, now: datetime, account_id: str | None) -> int:
    closed = 0
    for row in await repository.expired_reservations(conn, now, account_id):
        # What it held is read back when it is closed; the amount is not needed.
        expired = Reservation(row.reservation_id, row.account_id, 0, row.request_id)
        closed += await release(conn, expired, EXPIRED_REASON)
    return closed


async def reserve(
    database: Database, principal: Principal, amount: int, request_id: str, ttl: timedelta
) -> Reservation | None:
    """Hold `amount` credits for a search, or raise 402; None when nothing is charged."""
    if not is_charged(principal):
        return None
    now = utcnow()
    async with database.transaction(write=True) as conn:
        await repository.lock_account(conn, principal.account_id)
        await _close_expired(conn, now, principal.account_id)
        balance, held = await repository.totals(conn, principal.account_id)
        if balance - held >= amount:
            reservation = Reservation(new_id("res"), principal.account_id, amount, request_id)
            await repository.record(
                conn,
                account_id=principal.account_id,
                kind="reserve",
                held=amount,
                reason="hold for a contact list search",
                now=now,
                request_id=request_id,
                reservation_id=reservation.id,
                expires_at=now + ttl,
            )
            return reservation
    # Raised after the commit, so expired reservations closed above stay closed.
    raise InsufficientCredits(
        f"A search may cost up to {amount} credits and this account has {balance - held} "
        f"available ({balance} remaining, {held} held by searches in progress).",
        details={
            "remainingCredits": balance,
            "availableCredits": balance - held,
            "requiredCredits": amount,
        },
    )


async def settle(
    conn: AsyncConnection,
    reservation: Reservation,
    cost: int,
    pages: int,
    list_id: str | None,
    *,
    what: str = "contact list search",
) -> None:
    """Charge the real cost, in the list's transaction (a preview has none), and
    give back the rest."""
    now = utcnow()
    held = await repository.close_reservation(conn, reservation.id, now)
    if held is None:
        # Only a create that outlived its reservation's expiry gets here; the
        # list exists, so it is charged all the same.
        logger.warning("settling reservation %s after it expired", reservation.id)
    await repository.record(
        conn,
        account_id=reservation.account_id,
        kind="settle",
        delta=-cost,
        held=-(held or 0),
        reason=f"{what}: {pages} page(s) with leads",
        now=now,
        list_id=list_id,
        request_id=reservation.request_id,
        reservation_id=reservation.id,
    )


async def release(conn: AsyncConnection, reservation: Reservation, reason: str) -> bool:
    """Give back what a reservation holds; False when it was settled or released already."""
    now = utcnow()
    held = await repository.close_reservation(conn, reservation.id, now)
    if held is None:
        return False
    await repository.record(
        conn,
        account_id=reservation.account_id,
        kind="release",
        held=-held,
        reason=reason,
        now=now,
        request_id=reservation.request_id,
        reservation_id=reservation.id,
    )
    return True


async def close_expired(database: Database) -> int:
    """Close every expired reservation of every account; how many were closed."""
    async with database.transaction(write=True) as conn:
        return await _close_expired(conn, utcnow(), None)


async def grant(conn: AsyncConnection, account_id: str, amount: int, reason: str) -> None:
    await repository.record(
        conn, account_id=account_id, kind="grant", delta=amount, reason=reason, now=utcnow()
    )


async def ledger(database: Database, account_id: str) -> Sequence[AnyRow]:
    async with database.transaction() as conn:
        return await repository.entries(conn, account_id)


async def balance(conn: AsyncConnection, account_id: str) -> int:
    return await repository.balance(conn, account_id)
