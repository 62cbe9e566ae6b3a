"""Idempotent creates: one `Idempotency-Key`, one list, one charge.

A key is scoped to the account and mode. The first request claims it atomically
(a row that expires on its own, so a request whose process died frees the key);
a repeat with the same body fingerprint then gets 409 `IDEMPOTENCY_IN_PROGRESS`
while the first runs, and the stored 201 once it succeeded, without searching or
charging again. A repeat with another body is 409 `IDEMPOTENCY_CONFLICT`. Only a
201 is stored, in the list's own transaction, for 24 hours; a failed create
deletes its claim, so a retry runs afresh. Expired records are deleted when the
same account and mode claim a key, and by `contactlists purge`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.auth import Principal
from contactlists.core.clock import utcnow
from contactlists.core.db import Database
from contactlists.core.errors import (
    FieldError,
    IdempotencyConflict,
    IdempotencyInProgress,
    ValidationFailed,
)
from contactlists.idempotency import repository

logger = logging.getLogger("contactlists.idempotency")
HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# What `parse_key` accepts, as one published pattern: a key in double quotes, or
# one that is not (a single `"` is a key; `"…"` always loses its quotes).
KEY_PATTERN = (
    r'^(?:"[\x21-\x7e]{1,255}"|[\x21-\x7e]|[\x21\x23-\x7e][\x21-\x7e]{0,254}'
    r'|"[\x21-\x7e]{0,253}[\x21\x23-\x7e])$'
)


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """What the request asked for: its key and its body's fingerprint."""

    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Claim:
    account_id: str
    mode: str
    key: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def fingerprint(body: Any) -> str:
    """SHA-256 of the body's canonical JSON (sorted keys, no whitespace)."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def parse_key(header_values: list[str], body: Any) -> IdempotencyKey | None:
    """The request's key, if it sent one: 1-255 visible ASCII characters, quotes stripped."""
    if not header_values:
        return None
    key = header_values[0].strip(" \t")
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if len(header_values) > 1 or not _VALID_KEY.fullmatch(key):
        message = (
            f"{HEADER} must be sent once, as 1 to 255 visible ASCII characters "
            "(optionally in double quotes)."
        )
        raise ValidationFailed(
            message, error_code="INVALID_IDEMPOTENCY_KEY", fields=[FieldError(HEADER, message)]
        )
    return IdempotencyKey(key, fingerprint(body))


async def claim(
    database: Database, principal: Principal, request: IdempotencyKey, ttl: timedelta
) -> Claim | StoredResponse:
    """Claim the key for this request, or answer from what the key already holds."""
    now = utcnow()
    async with database.transaction(write=True) as conn:
        await repository.delete_expired(conn, now, principal.account_id, principal.mode)
        claimed = await repository.insert_claim(
            conn,
            {
                "account_id": principal.account_id,
                "mode": principal.mode,
                "key": request.key,
                "fingerprint": request.fingerprint,
                "state": "in_progress",
                "created_at": now,
                "expires_at": now + ttl,
            },
        )
        if claimed:
            return Claim(principal.account_id, principal.mode, request.key)
        row = await repository.get(conn, principal.account_id, principal.mode, request.key)
    if row is not None and row.fingerprint != request.fingerprint:
        raise IdempotencyConflict(
            f"This {HEADER} was used with a different request body; "
            "use a new key for a different request."
        )
    if row is not None and row.state == "completed":
        return StoredResponse(row.response_status, row.response_body)
    # No row: the holder failed and let the key go between our insert and read.
    raise IdempotencyInProgress(
        f"A request with this {HEADER} is still being processed; retry later."
    )


async def complete(
    conn: AsyncConnection, claim: Claim, response: StoredResponse, list_id: str
) -> None:
    """Store the 201, in the list's transaction, for the retention period."""
    now = utcnow()
    stored = await repository.complete(
        conn,
        claim.account_id,
        claim.mode,
        claim.key,
        {
            "response_status": response.status,
            "response_body": response.body,
            "list_id": list_id,
            "expires_at": now + RETENTION,
        },
    )
    if not stored:
        logger.warning("idempotency claim %r expired before its create finished", claim.key)


async def release(conn: AsyncConnection, claim: Claim) -> None:
    await repository.delete_claim(conn, claim.account_id, claim.mode, claim.key)


async def purge(database: Database) -> int:
    """Delete every expired record; how many were deleted."""
    async with database.transaction(write=True) as conn:
        return await repository.delete_expired(conn, utcnow())
