"""The account's Sales Navigator connection: which provider it searches, its
state, and its credentials, which are verified before they are stored and kept
only encrypted (see `crypto`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from contactlists.connections import repository, seats
from contactlists.connections.crypto import CredentialCipher, UndecryptableCredentials
from contactlists.core.auth import Principal
from contactlists.core.clock import rfc3339, utcnow
from contactlists.core.db import AnyRow, Database
from contactlists.core.errors import (
    ApiError,
    Forbidden,
    GatewayTimeout,
    PreconditionFailed,
    SalesNavigatorSeatRequired,
    SalesNavigatorSessionExpired,
    UpstreamFailed,
    UpstreamUnavailable,
)
from contactlists.core.settings import Settings
from contactlists.providers.base import (
    ProviderError,
    SeatRequired,
    SessionExpired,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from contactlists.providers.linkedin import LinkedInHttp, LinkedInSession, SessionOptions
from contactlists.providers.linkedin_cookies import SeatState, SessionCookies
from contactlists.web.ratelimit import Budget, RequestLimits

logger = logging.getLogger("contactlists.connections")
SESSION_EXPIRED_MESSAGE = (
    "The Sales Navigator session has expired; reconnect it (PUT "
    "/v1/integrations/sales-navigator or `contactlists connect`)."
)
UNDECRYPTABLE = "the stored credentials cannot be decrypted with the configured secret keys"


async def provider_for(database: Database, principal: Principal) -> str:
    """The provider a create searches; test keys always use the sandbox."""
    provider = await connected_provider(database, principal)
    if provider is None:
        raise PreconditionFailed(
            "LinkedIn Sales Navigator is not connected on this account: connect it with PUT "
            "/v1/integrations/sales-navigator (the browser's cookies), or have the operator run "
            "`contactlists connect linkedin --account <account> --cookies -`."
        )
    return provider


async def connected_provider(database: Database, principal: Principal) -> str | None:
    """`provider_for`, but None when the account is not connected (a preview's 200)."""
    if principal.mode == "test":
        return "sandbox"
    async with database.transaction() as conn:
        connection = await repository.get(conn, principal.account_id)
    if connection is None:
        return None
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


def seat_required(exc: SeatRequired) -> SalesNavigatorSeatRequired:
    details = {"contracts": exc.contracts} if exc.contracts is not None else None
    return SalesNavigatorSeatRequired(
        f"Sales Navigator is not available to this LinkedIn member: {exc.detail}.",
        details=details,
    )


def upstream_failure(exc: ProviderError, settings: Settings) -> ApiError:
    """The contract's answer to an upstream that throttled, stalled or failed.

    The message says which call failed (verification, the seat check, a
    company lookup, search page N); the log names the failure's class.
    """
    if isinstance(exc, UpstreamRateLimited):
        return UpstreamUnavailable(
            "LinkedIn is throttling this Sales Navigator seat; retry later.",
            retry_after_s=exc.retry_after_s,
        )
    if isinstance(exc, UpstreamTimeout):
        return GatewayTimeout(
            f"The lead search did not finish within {settings.search_timeout_s:g} s."
        )
    cause = exc.__cause__
    logger.warning(
        "upstream call failed: %s (%s%s)",
        exc,
        type(exc).__name__,
        f" from {type(cause).__name__}" if cause is not None else "",
    )
    return UpstreamFailed(f"The call to the upstream failed in {exc}.", debug_cause=repr(exc))


def session_options(settings: Settings, contract: str | None, *, retries: bool) -> SessionOptions:
    return SessionOptions(
        attempts=3 if retries else 1,
        retry_backoff_s=settings.linkedin_retry_backoff_ms / 1000,
        lead_decoration=settings.linkedin_lead_decoration,
        contract=contract,
    )


def today() -> str:
    return utcnow().date().isoformat()


async def connect_linkedin(
    database: Database,
    settings: Settings,
    http: LinkedInHttp,
    account_id: str,
    cookies: SessionCookies,
    contract: str | None = None,
) -> None:
    """Verify the cookies with LinkedIn (member, seat, contract), then store the
    jar encrypted; nothing on failure.

    Under the seat lock, so a search running on another worker cannot write
    back an older jar over this one, and with no retries: a connect is one
    attempt at each step, metered by the caller's connect budget.
    """
    async with seats.seat_lock(database, account_id, settings):
        async with http.conversation() as conversation:
            session = LinkedInSession(
                conversation,
                settings.linkedin_base_url,
                cookies,
                options=session_options(settings, contract, retries=False),
            )
            try:
                identity = await session.check_seat(select=contract is not None)
            except SessionExpired as exc:
                raise SalesNavigatorSessionExpired(
                    f"LinkedIn did not accept these cookies ({exc}); copy the whole cookie "
                    "header again from a browser signed in to Sales Navigator."
                ) from None
            except SeatRequired as exc:
                raise seat_required(exc) from None
            except ProviderError as exc:
                raise upstream_failure(exc, settings) from None
        state = SeatState(
            cookies=session.cookies,
            member_name=identity.member.name,
            member_public_identifier=identity.member.public_identifier,
            contract=identity.contract,
            seat_checked_on=today(),
        )
        token = CredentialCipher.from_settings(settings).encrypt(state)
        await connect(database, account_id, "linkedin", token)


class SeatStore:
    """The seat's stored state during a search: read once under the seat lock,
    written back whenever LinkedIn changed the jar.

    Each write is a compare-and-swap on the stored ciphertext, so a write-back
    from a search that outlived its lock can never resurrect an older jar over
    a newer one (a reconnect, or another search's).
    """

    def __init__(
        self, database: Database, cipher: CredentialCipher, account_id: str, token: str
    ) -> None:
        self._database = database
        self._cipher = cipher
        self._account_id = account_id
        self._token = token
        self.state = cipher.decrypt(token)

    @classmethod
    async def load(cls, database: Database, settings: Settings, account_id: str) -> SeatStore:
        async with database.transaction() as conn:
            token = await repository.get_credentials(conn, account_id)
        if token is None:
            raise UndecryptableCredentials
        return cls(database, CredentialCipher.from_settings(settings), account_id, token)

    async def save(self, _: SessionCookies | None = None) -> None:
        token = self._cipher.encrypt(self.state)
        async with self._database.transaction(write=True) as conn:
            swapped = await repository.swap_credentials(conn, self._account_id, self._token, token)
        if swapped:
            self._token = token
        else:
            logger.warning("seat state changed elsewhere during a search; not written back")


@dataclass(frozen=True, slots=True)
class ConnectRequest:
    """A PUT of the connection: the provider, and for LinkedIn the cookie jar
    and the contract to select by name (None: the member's only one)."""

    provider: str
    cookies: SessionCookies | None = None
    contract: str | None = None


def _require_live(principal: Principal) -> None:
    if principal.mode == "test":
        raise Forbidden("Test keys cannot change the connection; use a live key.")


def _connection_out(row: AnyRow | None, state: SeatState | None) -> dict[str, Any]:
    if row is None:
        return {
            "provider": None,
            "state": "not_connected",
            "connectedAt": None,
            "lastVerifiedAt": None,
            "lastError": None,
            "cookieNames": [],
            "member": None,
        }
    member = None
    if state is not None and (state.member_name or state.member_public_identifier):
        member = {"name": state.member_name, "publicIdentifier": state.member_public_identifier}
    return {
        "provider": row.provider,
        "state": row.state,
        "connectedAt": rfc3339(row.connected_at),
        "lastVerifiedAt": rfc3339(row.last_verified_at) if row.last_verified_at else None,
        "lastError": row.last_error,
        "cookieNames": state.cookies.names if state is not None else [],
        "member": member,
    }


async def describe(database: Database, settings: Settings, account_id: str) -> dict[str, Any]:
    """The connection as the API shows it: the names of the cookies held and
    the member, never a value."""
    async with database.transaction() as conn:
        row = await repository.get(conn, account_id)
        token = await repository.get_credentials(conn, account_id) if row is not None else None
    state = None
    if token is not None:
        try:
            state = CredentialCipher.from_settings(settings).decrypt(token)
        except UndecryptableCredentials:
            state = None
    return _connection_out(row, state)


_CONNECTOR_STATUS = {
    "active": "connected",
    "expired": "needs-authentication",
    "not_connected": "disconnected",
}


async def connectors(database: Database, principal: Principal) -> dict[str, Any]:
    """The original's connector list: the one Sales Navigator connection's status.
    A test key searches the sandbox with no connection, so it is always connected."""
    state = "active"
    if principal.mode == "live":
        async with database.transaction() as conn:
            row = await repository.get(conn, principal.account_id)
        state = str(row.state) if row is not None else "not_connected"
    return {"connectors": [{"source": "salesNavigator", "status": _CONNECTOR_STATUS[state]}]}


async def replace(
    database: Database,
    principal: Principal,
    settings: Settings,
    http: LinkedInHttp,
    request: ConnectRequest,
    *,
    limits: RequestLimits,
) -> dict[str, Any]:
    _require_live(principal)
    if request.cookies is None:
        await connect(database, principal.account_id, request.provider)
    else:
        await limits.spend(Budget.CONNECTS, principal.account_id)
        await connect_linkedin(
            database, settings, http, principal.account_id, request.cookies, request.contract
        )
    return await describe(database, settings, principal.account_id)


async def disconnect(database: Database, principal: Principal) -> None:
    _require_live(principal)
    async with database.transaction(write=True) as conn:
        await repository.delete(conn, principal.account_id)


async def load_seat(database: Database, principal: Principal, settings: Settings) -> SeatStore:
    """The live connection's stored state; undecryptable state expires the connection."""
    try:
        return await SeatStore.load(database, settings, principal.account_id)
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
