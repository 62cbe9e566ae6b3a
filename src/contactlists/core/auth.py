"""API keys: their format, their hash, and turning a bearer token into a principal.

Free of FastAPI on purpose: the operator CLI imports it, and starts faster
without the web framework (the dependency alias lives in `deps`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, cast

import sqlalchemy as sa
from starlette.requests import Request

from contactlists.core.clock import utcnow
from contactlists.core.db import Database
from contactlists.core.errors import Unauthenticated
from contactlists.core.models import ApiKey
from contactlists.core.readstore import ListProbe, ReadStore

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


def generate_key(mode: Mode) -> str:
    return f"sk_{mode}_{secrets.token_urlsafe(32)}"


def hash_key(key: str) -> str:
    """Keys carry 256 random bits, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(key.encode()).hexdigest()


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "").strip()
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


async def authenticate(
    database: Database, reads: ReadStore, token: str, *, probe_list: str | None = None
) -> tuple[Principal, ListProbe | None]:
    """The caller, and `probe_list`'s row for them, read in the key's own query."""
    if not KEY_PATTERN.fullmatch(token):
        raise Unauthenticated(
            "Malformed API key: expected `sk_live_` or `sk_test_` and 43 characters.",
            error_code="INVALID_API_KEY",
        )
    key = await reads.key(hash_key(token), probe_list)
    if key is None:
        raise Unauthenticated("Unknown API key.", error_code="INVALID_API_KEY")
    if key.revoked:
        raise Unauthenticated("This API key has been revoked.", error_code="REVOKED_API_KEY")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        async with database.transaction(write=True) as conn:
            await conn.execute(
                sa.update(ApiKey).where(ApiKey.id == key.key_id).values(last_used_at=now)
            )
    principal = Principal(key.account_id, key.key_id, cast(Mode, key.mode), key.unlimited)
    return principal, key.probe


def principal_of(request: Request) -> Principal:
    """The principal the contract route authenticated before the body was read."""
    principal: Principal = request.scope["state"]["principal"]
    return principal


def list_probe_of(request: Request) -> ListProbe | None:
    """The path's list as authentication read it, on routes that probe one."""
    probe: ListProbe | None = request.scope["state"].get("list_probe")
    return probe
