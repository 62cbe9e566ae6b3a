"""Credit rules: who pays, how much, and what a caller may see of it.

Test mode and unlimited accounts are never charged. A live create on a limited
account must be able to cover the maximum cost of a search before it runs, and
is charged in the list's own transaction for the pages that returned leads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.auth import Principal
from contactlists.credits import repository
from contactlists.db import Database
from contactlists.errors import InsufficientCredits
from contactlists.models import utcnow


def is_charged(principal: Principal) -> bool:
    return principal.mode == "live" and not principal.unlimited


async def remaining(database: Database, principal: Principal) -> dict[str, Any]:
    if principal.unlimited:
        return {"remainingCredits": None, "unlimited": True}
    async with database.transaction() as conn:
        balance = await repository.balance(conn, principal.account_id)
    return {"remainingCredits": balance, "unlimited": False}


async def ensure_can_cover(database: Database, principal: Principal, max_cost: int) -> None:
    if not is_charged(principal):
        return
    async with database.transaction() as conn:
        balance = await repository.balance(conn, principal.account_id)
    if balance < max_cost:
        raise InsufficientCredits(
            f"A search may cost up to {max_cost} credits and this account has {balance}.",
            details={"remainingCredits": balance, "requiredCredits": max_cost},
        )


async def charge(
    conn: AsyncConnection, principal: Principal, cost: int, list_id: str, request_id: str
) -> None:
    if is_charged(principal) and cost > 0:
        await repository.record(
            conn,
            account_id=principal.account_id,
            kind="charge",
            delta=-cost,
            reason="contact list search",
            now=utcnow(),
            list_id=list_id,
            request_id=request_id,
        )


async def grant(conn: AsyncConnection, account_id: str, amount: int, reason: str) -> None:
    await repository.record(
        conn, account_id=account_id, kind="grant", delta=amount, reason=reason, now=utcnow()
    )
