"""The account's Sales Navigator connection: which provider it searches, its
state, and its credentials, which are verified before they are stored and kept
only encrypted (see `crypto`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contactlists.connections import repository
from contactlists.connections.crypto import CredentialCipher, UndecryptableCredentials
from contactlists.core.auth import Principal
from contactlists.core.clock import rfc3339, utcnow
from contactlists.core.db import AnyRow, Database
from contactlists.core.errors import (
    ApiError,
    Forbidden,
    GatewayTimeout,
    PreconditionFailed,
    SalesNavigatorSessionExpired,
    UpstreamFailed,
    UpstreamUnavailable,
)
from contactlists.core.settings import Settings
from contactlists.providers.base import (
    ProviderError,
    SessionExpired,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from contactlists.providers.linkedin import LazyHttpClient, LinkedInCredentials, LinkedInSession

if TYPE_CHECKING:
    import httpx

SESSION_EXPIRED_MESSAGE = (
    "The Sales Navigator session has expired; reconnect it (PUT "
    "/v1/integrations/sales-navigator or `contactlists connect`)."
)
UNDECRYPTABLE = "the stored credentials cannot be decrypted with the configured secret keys"


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
        raise SalesNavigatorSessionExpired(SESSION_EXPIRED_MESSAGE)
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


def upstream_failure(exc: ProviderError, settings: Settings) -> ApiError:
    """The contract's answer to an upstream that throttled, stalled or failed."""
    if isinstance(exc, UpstreamRateLimited):
        return UpstreamUnavailable(
            "LinkedIn is throttling this Sales Navigator seat; retry later.",
            retry_after_s=exc.retry_after_s,
        )
    if isinstance(exc, UpstreamTimeout):
        return GatewayTimeout(
            f"The lead search did not finish within {settings.search_timeout_s:g} s."
        )
    return UpstreamFailed("The lead search failed upstream.", debug_cause=repr(exc))


def linkedin_session(
    http: httpx.AsyncClient, settings: Settings, credentials: LinkedInCredentials
) -> LinkedInSession:
    return LinkedInSession(
        http,
        settings.linkedin_base_url,
        credentials,
        retry_backoff_s=settings.linkedin_retry_backoff_ms / 1000,
    )


async def connect_linkedin(
    database: Database,
    settings: Settings,
    http: httpx.AsyncClient,
    account_id: str,
    credentials: LinkedInCredentials,
) -> None:
    """Verify the cookies with LinkedIn, then store them encrypted; nothing on failure."""
    try:
        await linkedin_session(http, settings, credentials).verify()
    except SessionExpired as exc:
        raise SalesNavigatorSessionExpired(
            f"LinkedIn did not accept these cookies ({exc}); copy fresh li_at and "
            "JSESSIONID values from a browser signed in to Sales Navigator."
        ) from None
    except ProviderError as exc:
        raise upstream_failure(exc, settings) from None
    token = CredentialCipher.from_settings(settings).encrypt(credentials)
    await connect(database, account_id, "linkedin", token)


def _require_live(principal: Principal) -> None:
    if principal.mode == "test":
        raise Forbidden("Test keys cannot change the connection; use a live key.")


def _connection_out(row: AnyRow | None) -> dict[str, Any]:
    if row is None:
        return {
            "provider": None,
            "state": "not_connected",
            "connectedAt": None,
            "lastVerifiedAt": None,
            "lastError": None,
        }
    return {
        "provider": row.provider,
        "state": row.state,
        "connectedAt": rfc3339(row.connected_at),
        "lastVerifiedAt": rfc3339(row.last_verified_at) if row.last_verified_at else None,
        "lastError": row.last_error,
    }


async def describe(database: Database, account_id: str) -> dict[str, Any]:
    async with database.transaction() as conn:
        return _connection_out(await repository.get(conn, account_id))


async def replace(
    database: Database,
    principal: Principal,
    settings: Settings,
    http: LazyHttpClient,
    provider: str,
    credentials: LinkedInCredentials | None,
) -> dict[str, Any]:
    _require_live(principal)
    if credentials is None:
        await connect(database, principal.account_id, provider)
    else:
        await connect_linkedin(database, settings, http.get(), principal.account_id, credentials)
    return await describe(database, principal.account_id)


async def disconnect(database: Database, principal: Principal) -> None:
    _require_live(principal)
    async with database.transaction(write=True) as conn:
        await repository.delete(conn, principal.account_id)


async def linkedin_credentials(
    database: Database, principal: Principal, settings: Settings
) -> LinkedInCredentials:
    """The live connection's cookies; undecryptable ones expire the connection."""
    async with database.transaction() as conn:
        token = await repository.get_credentials(conn, principal.account_id)
    try:
        if token is None:
            raise UndecryptableCredentials
        return CredentialCipher.from_settings(settings).decrypt(token)
    except UndecryptableCredentials:
        await expire(database, principal, UNDECRYPTABLE)
        raise SalesNavigatorSessionExpired(SESSION_EXPIRED_MESSAGE) from None


async def mark_verified(database: Database, account_id: str) -> None:
    async with database.transaction(write=True) as conn:
        await repository.mark_verified(conn, account_id, utcnow())


async def reencrypt_all(database: Database, settings: Settings) -> tuple[int, int]:
    """Re-encrypt every stored credential with the current secret key, so the old
    keys can be dropped; returns (re-encrypted, undecryptable)."""
    cipher = CredentialCipher.from_settings(settings)
    async with database.transaction() as conn:
        stored = await repository.all_credentials(conn)
    done = failed = 0
    for account_id, token in stored:
        try:
            rotated = cipher.rotate(token)
        except UndecryptableCredentials:
            failed += 1
            continue
        async with database.transaction(write=True) as conn:
            await repository.set_credentials(conn, account_id, rotated)
        done += 1
    return done, failed
