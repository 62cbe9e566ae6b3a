"""SQL for contact lists, their items and base contacts. No rules, no commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.db import AnyRow, upsert_insert
from contactlists.core.models import BaseContact, ContactList, ContactListItem

LIST_COLUMNS = (
    ContactList.id,
    ContactList.name,
    ContactList.filters,
    ContactList.contact_count,
    ContactList.provider,
    ContactList.created_at,
    ContactList.updated_at,
)
ITEM_COLUMNS = (
    ContactListItem.id,
    ContactListItem.list_id,
    ContactListItem.base_contact_id,
    ContactListItem.first_name,
    ContactListItem.last_name,
    ContactListItem.full_name,
    ContactListItem.role,
    ContactListItem.company_name,
    ContactListItem.location,
    ContactListItem.seniority,
    ContactListItem.profile_id,
    ContactListItem.headline,
    ContactListItem.linkedin_profile_url,
    ContactListItem.created_at,
)
_BASE_CONTACT_PROFILE = (
    "profile_urn",
    "first_name",
    "last_name",
    "full_name",
    "title",
    "company_name",
    "location",
    "headline",
    "public_profile_url",
    "updated_at",
)


_BASE_CONTACT_UPSERTS: dict[str, sa.Executable] = {}


def _base_contact_upsert(conn: AsyncConnection) -> sa.Executable:
    """One statement per dialect, built once: building `excluded` makes a proxy
    of every column, milliseconds per create."""
    statement = _BASE_CONTACT_UPSERTS.get(conn.dialect.name)
    if statement is None:
        insert = upsert_insert(conn, BaseContact)
        # RETURNING gives each person's id, inserted or updated, and makes
        # SQLAlchemy send the rows as multi-row VALUES ("insertmanyvalues").
        statement = insert.on_conflict_do_update(
            index_elements=["account_id", "mode", "profile_id"],
            set_={name: insert.excluded[name] for name in _BASE_CONTACT_PROFILE},
        ).returning(BaseContact.profile_id, BaseContact.id)
        _BASE_CONTACT_UPSERTS[conn.dialect.name] = statement
    return statement


def _owned(account_id: str, mode: str) -> sa.ColumnElement[bool]:
    return sa.and_(ContactList.account_id == account_id, ContactList.mode == mode)


async def count_lists(conn: AsyncConnection, account_id: str, mode: str) -> int:
    query = sa.select(sa.func.count()).select_from(ContactList).where(_owned(account_id, mode))
    return int((await conn.execute(query)).scalar_one())


async def page_lists(
    conn: AsyncConnection, account_id: str, mode: str, limit: int, offset: int
) -> Sequence[AnyRow]:
    query = (
        sa.select(*LIST_COLUMNS)
        .where(_owned(account_id, mode))
        .order_by(ContactList.created_at.desc(), ContactList.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await conn.execute(query)).all()


async def get_list(
    conn: AsyncConnection, list_id: str, account_id: str, mode: str
) -> AnyRow | None:
    query = sa.select(*LIST_COLUMNS).where(ContactList.id == list_id, _owned(account_id, mode))
    return (await conn.execute(query)).one_or_none()


async def page_items(
    conn: AsyncConnection, list_id: str, limit: int, offset: int
) -> Sequence[AnyRow]:
    """Items by position; positions are dense from 0, so a range seeks the index."""
    query = (
        sa.select(*ITEM_COLUMNS)
        .where(
            ContactListItem.list_id == list_id,
            ContactListItem.position >= offset,
            # BIGINT: offset + limit may pass 2**31 - 1, which PostgreSQL's
            # INTEGER parameter refuses (the comparison still seeks the index).
            ContactListItem.position < sa.literal(offset + limit, sa.BigInteger),
        )
        .order_by(ContactListItem.position)
    )
    return (await conn.execute(query)).all()


async def rename_list(
    conn: AsyncConnection, list_id: str, account_id: str, mode: str, name: str, now: datetime
) -> AnyRow | None:
    query = (
        sa.update(ContactList)
        .where(ContactList.id == list_id, _owned(account_id, mode))
        .values(name=name, updated_at=now)
        .returning(*LIST_COLUMNS)
    )
    return (await conn.execute(query)).one_or_none()


async def insert_list(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(sa.insert(ContactList), [values])


async def upsert_base_contacts(conn: AsyncConnection, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Insert new people, refresh known ones; return profile id -> base contact id.

    Keyed by (account, mode, profile id), so concurrent creates that capture the
    same person converge on one row instead of failing on the unique key. Rows
    are written, and so locked, in profile id order: two creates (or a create
    and a delete) sharing people lock them in the same order and cannot deadlock.
    """
    if not rows:
        return {}
    ordered = sorted(rows, key=lambda row: str(row["profile_id"]))
    written = await conn.execute(_base_contact_upsert(conn), ordered)
    return {row[0]: row[1] for row in written.all()}


_ITEM_FIELDS = tuple(ContactListItem.__table__.c.keys())


def _binder(column: sa.ColumnElement[Any], conn: AsyncConnection) -> Callable[[Any], Any]:
    """SQLAlchemy's own bind processor for the column on this dialect, if any."""
    processor = column.type.bind_processor(conn.dialect)
    return processor if processor is not None else _as_is


def _as_is(value: Any) -> Any:
    return value


async def insert_items(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """A list's items, on the driver's own executemany.

    Measured: SQLAlchemy's per-row parameter processing made the create's
    write transaction, which SQLite holds one create at a time, about a tenth
    longer. The two columns that need it go through SQLAlchemy's own bind
    processors.
    """
    if not rows:
        return
    sqlite = conn.dialect.name == "sqlite"
    columns = ContactListItem.__table__.c
    processed = {name: _binder(columns[name], conn) for name in ("seniority", "created_at")}
    marks = ", ".join("?" if sqlite else f"${n}" for n in range(1, len(_ITEM_FIELDS) + 1))
    statement = f"INSERT INTO contact_list_items ({', '.join(_ITEM_FIELDS)}) VALUES ({marks})"  # noqa: S608 - fixed names
    await conn.exec_driver_sql(
        statement,
        [
            tuple(
                processed[field](row[field]) if field in processed else row[field]
                for field in _ITEM_FIELDS
            )
            for row in rows
        ],
    )


async def delete_list(conn: AsyncConnection, list_id: str, account_id: str, mode: str) -> bool:
    """Delete a list, its items and the base contacts no other list holds.

    The list's people are locked first (in profile id order, the order creates
    write them in, so deletes and creates sharing people cannot deadlock) so
    that two lists deleted at once cannot each see the other's items and both
    leave a shared person behind.
    """
    held = (
        sa.select(ContactListItem.base_contact_id)
        .where(ContactListItem.list_id == list_id)
        .distinct()
        .scalar_subquery()
    )
    people = (
        (
            await conn.execute(
                sa.select(BaseContact.id)
                .where(BaseContact.id.in_(held))
                .order_by(BaseContact.profile_id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    deleted = await conn.execute(
        sa.delete(ContactList).where(ContactList.id == list_id, _owned(account_id, mode))
    )
    if deleted.rowcount == 0:
        return False
    if people:
        still_held = sa.exists().where(ContactListItem.base_contact_id == BaseContact.id)
        await conn.execute(sa.delete(BaseContact).where(BaseContact.id.in_(people), ~still_held))
    return True
