"""Which provider a request searches, and the connection's state."""

from __future__ import annotations

from contactlists.auth import Principal
from contactlists.connections import repository
from contactlists.db import Database
from contactlists.errors import PreconditionFailed, SessionExpiredError
from contactlists.models import utcnow

SESSION_EXPIRED_MESSAGE = (
    "The Sales Navigator session has expired; reconnect it (PUT "
    "/v1/integrations/sales-navigator or `contactlists connect`)."
)


async def provider_for(database: Database, principal: Principal) -> str:
    """The provider a create searches; test keys always use the sandbox."""
    if principal.mode == "test":
        return "sandbox"
    async with database.transaction() as conn:
        connection = await repository.get(conn, principal.account_id)
    if connection is None:
        raise PreconditionFailed(
            "LinkedIn Sales Navigator is not connected on this account; connect it first."
        )
    if connection.state != "active":
        raise SessionExpiredError(SESSION_EXPIRED_MESSAGE)
    return str(connection.provider)


async def expire(database: Database, principal: Principal, error: str) -> None:
    """Mark the live connection expired; test mode has no connection to expire."""
    if principal.mode == "live":
        async with database.transaction(write=True) as conn:
            await repository.mark_expired(conn, principal.account_id, error)


async def connect(
    database: Database, account_id: str, provider: str, credentials: str | None = None
) -> None:
    async with database.transaction(write=True) as conn:
        await repository.upsert(conn, account_id, provider, credentials, utcnow())
