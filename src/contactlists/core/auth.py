"""API keys: their format, their hash, and turning a bearer token into a principal.

Free of FastAPI on purpose: the operator CLI imports it, and starts faster
without the web framework (the dependency alias lives in `web.deps`). Free of
the domains too: a route that reads one of the caller's own rows by a path
parameter may register an `OwnedRowProbe`, and that row is read in the key's
own query, so a read of one resource costs one round trip before its own.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from starlette.requests import Request

from contactlists.core.clock import utcnow
from contactlists.core.db import Database
from contactlists.core.errors import Unauthenticated
from contactlists.core.ids import may_name_a_row
from contactlists.core.models import Account, ApiKey
from contactlists.core.readstore import Query, ReadStore, Row

Mode = Literal["live", "test"]
KEY_PATTERN = re.compile(r"sk_(live|test)_[A-Za-z0-9_-]{43}")
KEY_PREFIX_LENGTH = 12
# last_used_at is a hint for operators, not an audit log: refreshing it at most
# once a minute keeps writes off the hot read path.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the account, the key and the mode that key grants."""

    account_id: str
    key_id: str
    mode: Mode
    unlimited: bool
    # The account's `lists_version` as the key's query read it: lists pages are cached under it.
    lists_version: int


def generate_key(mode: Mode) -> str:
    return f"sk_{mode}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    """Keys carry 256 random bits, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str:
    """The key an `Authorization` header's value carries."""
    header = (authorization or "").strip()
    if not header or header.lower() == "bearer":
        raise Unauthenticated(
            "Missing API key: send `Authorization: Bearer sk_live_...`.",
            error_code="MISSING_API_KEY",
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(
            "Malformed Authorization header: expected `Bearer <API key>`.",
            error_code="INVALID_API_KEY",
        )
    return token


_KEYS = ApiKey.__table__
_ACCOUNTS = Account.__table__
_KEY_COLUMNS = (
    _KEYS.c.id,
    _KEYS.c.account_id,
    _KEYS.c.mode,
    _KEYS.c.revoked_at,
    _KEYS.c.last_used_at,
    _ACCOUNTS.c.unlimited,
    _ACCOUNTS.c.lists_version,
)
_KEY_JOIN = _KEYS.join(_ACCOUNTS, _ACCOUNTS.c.id == _KEYS.c.account_id)
_BY_HASH = _KEYS.c.key_hash == sa.bindparam("key_hash")
KEY_QUERY = Query(sa.select(*_KEY_COLUMNS).select_from(_KEY_JOIN).where(_BY_HASH))


class OwnedRowProbe:
    """The caller's own row (same account and mode) named by a path parameter,
    read in the key's query; a route registers it when it declares itself direct.

    `table` has `id`, `account_id` and `mode` columns; the probed row comes
    back as `columns`, or None when the caller has no such row.
    """

    def __init__(self, parameter: str, table: sa.FromClause, columns: Sequence[str]) -> None:
        self.parameter = parameter
        self.columns = tuple(columns)
        owned = sa.and_(
            table.c.id == sa.bindparam("probe_id"),
            table.c.account_id == _KEYS.c.account_id,
            table.c.mode == _KEYS.c.mode,
        )
        self.query = Query(
            sa.select(*_KEY_COLUMNS, *(table.c[name] for name in self.columns))
            .select_from(_KEY_JOIN.outerjoin(table, owned))
            .where(_BY_HASH)
        )


class ProbedRow(NamedTuple):
    """What a probe found for the value its parameter had: the row, or None.

    A named tuple, not a frozen dataclass: one is made per request, and a
    frozen dataclass takes three times as long to build."""

    value: str
    row: Row | None


@lru_cache(maxsize=1024)
def _last_used(value: datetime | str | None) -> datetime | None:
    """asyncpg gives a datetime; SQLite's driver the stored UTC text (parsed once:
    a key's value stays the same for a minute of requests)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    return value


async def authenticate(
    database: Database,
    reads: ReadStore,
    token: str,
    probe: tuple[OwnedRowProbe, str] | None = None,
) -> tuple[Principal, ProbedRow | None]:
    """The caller, and the probed row for them, read in the key's own query."""
    if not KEY_PATTERN.fullmatch(token):
        raise Unauthenticated(
            "Malformed API key: expected `sk_live_` or `sk_test_` and 43 characters.",
            error_code="INVALID_API_KEY",
        )
    params: dict[str, Any] = {"key_hash": hash_key(token)}
    query = KEY_QUERY
    if probe is not None and may_name_a_row(probe[1]):
        query, params["probe_id"] = probe[0].query, probe[1]
    row = await reads.one_current(query, params)
    if row is None:
        raise Unauthenticated("Unknown API key.", error_code="INVALID_API_KEY")
    key_id, account_id, mode, revoked_at, last_used_value, unlimited, lists_version = row[
        : len(_KEY_COLUMNS)
    ]
    if revoked_at is not None:
        raise Unauthenticated("This API key has been revoked.", error_code="REVOKED_API_KEY")
    now = utcnow()
    last_used_at = _last_used(last_used_value)
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        async with database.transaction(write=True) as conn:
            await conn.execute(
                sa.update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
            )
    key_mode: Mode = mode
    principal = _principal(account_id, key_id, key_mode, bool(unlimited), lists_version)
    probed = None
    if probe is not None:
        own = row[len(_KEY_COLUMNS) :]
        probed = ProbedRow(probe[1], own if own and own[0] is not None else None)
    return principal, probed


# Principals are immutable, so one per distinct key row is built and shared.
_principal = lru_cache(maxsize=4096)(Principal)


def principal_of(request: Request) -> Principal:
    """The principal the contract route authenticated before the body was read."""
    principal: Principal = request.scope["state"]["principal"]
    return principal


def probed_row_of(request: Request) -> ProbedRow | None:
    """The row the route's probe read along with the key, on routes that register one."""
    probed: ProbedRow | None = request.scope["state"].get("probed_row")
    return probed
