"""Operator actions on accounts and keys (the CLI's rules)."""

from __future__ import annotations

from collections.abc import Sequence

from contactlists.accounts import repository
from contactlists.core.auth import KEY_PREFIX_LENGTH, Mode, generate_key, hash_key
from contactlists.core.clock import utcnow
from contactlists.core.db import AnyRow, Database
from contactlists.core.ids import new_id
from contactlists.credits import service as credits


class OperatorError(Exception):
    """An operator command cannot be carried out; the message says why."""


async def resolve_account(database: Database, id_or_name: str) -> AnyRow:
    async with database.transaction() as conn:
        account = await repository.find_account(conn, id_or_name)
    if account is None:
        raise OperatorError(f"No account with id or name {id_or_name!r}.")
    return account


async def create_account(database: Database, name: str, credits_granted: int | None) -> str:
    """Create an account; `credits_granted=None` makes it unlimited."""
    name = name.strip()
    if not name or len(name) > 200:
        raise OperatorError("An account name must be 1 to 200 characters.")
    if credits_granted is not None and credits_granted < 0:
        raise OperatorError("--credits must be zero or more.")
    async with database.transaction(write=True) as conn:
        if await repository.find_account(conn, name) is not None:
            raise OperatorError(f"An account named {name!r} already exists.")
        account_id = new_id("acct")
        await repository.insert_account(
            conn,
            {
                "id": account_id,
                "name": name,
                "unlimited": credits_granted is None,
                "created_at": utcnow(),
            },
        )
        if credits_granted:
            await credits.grant(conn, account_id, credits_granted, "initial grant")
    return account_id


async def list_accounts(database: Database) -> Sequence[AnyRow]:
    async with database.transaction() as conn:
        return await repository.list_accounts(conn)


async def create_key(
    database: Database, account_id: str, mode: Mode, *, revoke_previous: bool = False
) -> tuple[str, str]:
    """Mint a key; returns (key id, the key itself — shown only this once)."""
    key = generate_key(mode)
    key_id = new_id("key")
    async with database.transaction(write=True) as conn:
        if revoke_previous:
            await repository.revoke_keys(conn, utcnow(), account_id=account_id)
        await repository.insert_key(
            conn,
            {
                "id": key_id,
                "account_id": account_id,
                "key_hash": hash_key(key),
                "prefix": key[:KEY_PREFIX_LENGTH],
                "mode": mode,
                "created_at": utcnow(),
            },
        )
    return key_id, key


async def list_keys(database: Database, account_id: str) -> Sequence[AnyRow]:
    async with database.transaction() as conn:
        return await repository.list_keys(conn, account_id)


async def key_is_active(database: Database, account_id: str, key: str) -> bool:
    async with database.transaction() as conn:
        return await repository.has_active_key(conn, account_id, hash_key(key))


async def revoke_key(database: Database, key_id: str) -> None:
    async with database.transaction(write=True) as conn:
        if await repository.revoke_keys(conn, utcnow(), key_id=key_id) == 0:
            raise OperatorError(f"No active key with id {key_id!r}.")


async def grant_credits(database: Database, id_or_name: str, amount: int) -> int:
    """Add credits to a limited account; returns its new balance."""
    if amount < 1:
        raise OperatorError("The number of credits to grant must be at least 1.")
    account = await resolve_account(database, id_or_name)
    if account.unlimited:
        raise OperatorError(
            f"Account {account.name!r} is unlimited: it is never charged, so credits do not apply."
        )
    async with database.transaction(write=True) as conn:
        await credits.grant(conn, account.id, amount, "granted by an operator")
        return await credits.balance(conn, account.id)
