"""SQL for contact lists, their items and base contacts. No rules, no commits.

Reads run on the raw driver (`core.readstore`): each is a Core statement
compiled once per backend, selecting the columns `columns` declares. Writes
run on a unit of work's SQLAlchemy connection.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from contactlists.core.auth import OwnedRowProbe, Principal
from contactlists.core.db import AnyRow, upsert_insert
from contactlists.core.models import Account, BaseContact, ContactList, ContactListItem
from contactlists.core.readstore import Query, ReadStore, Row
from contactlists.lists.columns import ITEM_READ_COLUMNS, LIST_COLUMNS

POSITION_MAX = 2**31 - 1
_LISTS = ContactList.__table__
_ITEMS = ContactListItem.__table__
LIST_SELECT = tuple(_LISTS.c[column.stored] for column in LIST_COLUMNS)
ITEM_SELECT = tuple(_ITEMS.c[column.stored] for column in ITEM_READ_COLUMNS)
# A direct route naming a list in its path has it read with the caller's key.
LIST_PROBE = OwnedRowProbe("listId", _LISTS, [column.stored for column in LIST_COLUMNS])

_OWNER = sa.and_(
    _LISTS.c.account_id == sa.bindparam("account_id"), _LISTS.c.mode == sa.bindparam("mode")
)
_LIST = Query(sa.select(*LIST_SELECT).where(_LISTS.c.id == sa.bindparam("list_id"), _OWNER))
_LISTS_COUNT = Query(sa.select(sa.func.count()).select_from(_LISTS).where(_OWNER))
_LISTS_PAGE = Query(
    sa.select(*LIST_SELECT)
    .where(_OWNER)
    .order_by(_LISTS.c.created_at.desc(), _LISTS.c.id.desc())
    .limit(sa.bindparam("limit"))
    .offset(sa.bindparam("offset"))
)
# Positions are dense from 0, so a page is a range that seeks the index.
_ITEMS_RANGE = (
    sa.select(*ITEM_SELECT)
    .where(
        _ITEMS.c.list_id == sa.bindparam("list_id"),
        _ITEMS.c.position >= sa.bindparam("start"),
        _ITEMS.c.position < sa.bindparam("end"),
    )
    .order_by(_ITEMS.c.position)
)
_CONTACTS = Query(_ITEMS_RANGE)


def _range(list_id: str, limit: int, offset: int) -> dict[str, Any]:
    """The page's positions; the end kept within the 32-bit column's range."""
    return {"list_id": list_id, "start": offset, "end": min(offset + limit, POSITION_MAX)}


def _owner(principal: Principal) -> dict[str, Any]:
    return {"account_id": principal.account_id, "mode": principal.mode}


async def read_list(reads: ReadStore, principal: Principal, list_id: str) -> Row | None:
    return await reads.one(_LIST, {"list_id": list_id, **_owner(principal)})


async def read_lists_page(
    reads: ReadStore, principal: Principal, limit: int, offset: int
) -> tuple[int, list[Row]]:
    """The caller's lists, newest first, and how many there are, from one snapshot."""
    page = {"limit": limit, "offset": offset, **_owner(principal)}
    count, rows = await reads.snapshot((_LISTS_COUNT, _owner(principal)), (_LISTS_PAGE, page))
    return int(count[0][0]), rows


async def read_items(reads: ReadStore, list_id: str, limit: int, offset: int) -> list[Row]:
    """A list's items by position, without the list's id (`columns.items_out`
    takes it); the caller has checked the list is theirs."""
    return await reads.all(_CONTACTS, _range(list_id, limit, offset))


async def page_items(
    conn: AsyncConnection, list_id: str, limit: int, offset: int
) -> Sequence[AnyRow]:
    """`read_items` inside a unit of work."""
    return (await conn.execute(_ITEMS_RANGE, _range(list_id, limit, offset))).all()


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


async def rename_list(
    conn: AsyncConnection, principal: Principal, list_id: str, name: str, now: datetime
) -> AnyRow | None:
    query = (
        sa.update(ContactList)
        .where(ContactList.id == list_id, _owned(principal.account_id, principal.mode))
        .values(name=name, updated_at=now)
        .returning(*LIST_SELECT)
    )
    return (await conn.execute(query)).one_or_none()


async def owned_list(conn: AsyncConnection, principal: Principal, list_id: str) -> AnyRow | None:
    """`read_list` inside a unit of work."""
    query = sa.select(*LIST_SELECT).where(
        ContactList.id == list_id, _owned(principal.account_id, principal.mode)
    )
    return (await conn.execute(query)).one_or_none()


async def read_search(
    conn: AsyncConnection, principal: Principal, list_id: str
) -> tuple[str, dict[str, Any]] | None:
    """A list's name and stored filters (what a refresh runs again), if it is the caller's."""
    query = sa.select(ContactList.name, ContactList.filters).where(
        ContactList.id == list_id, _owned(principal.account_id, principal.mode)
    )
    row = (await conn.execute(query)).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def bump_lists_version(conn: AsyncConnection, account_id: str) -> None:
    """One more change to the account's lists: their cached pages are stale.

    The first statement of every transaction that writes the account's lists:
    on PostgreSQL it takes the account row's lock until the commit, so one
    account's list writes queue there holding nothing yet, as a credit
    reservation does (`credits.repository.lock_account`). Taken last, after a
    create or delete had locked people, it deadlocked: a reservation waiting for
    the row (blocked by another create's foreign-key lock) queues the bump
    behind it, and that create waits for the people the bumper holds.
    """
    await conn.execute(
        sa.update(Account)
        .where(Account.id == account_id)
        .values(lists_version=Account.lists_version + 1)
    )


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

    SQLAlchemy's per-row parameter processing measurably lengthens the
    create's write transaction, which SQLite holds one create at a time. The
    two columns that need it go through SQLAlchemy's own bind processors.
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


async def delete_list(conn: AsyncConnection, principal: Principal, list_id: str) -> bool:
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
        sa.delete(ContactList).where(
            ContactList.id == list_id, _owned(principal.account_id, principal.mode)
        )
    )
    if deleted.rowcount == 0:
        return False
    if people:
        still_held = sa.exists().where(ContactListItem.base_contact_id == BaseContact.id)
        await conn.execute(sa.delete(BaseContact).where(BaseContact.id.in_(people), ~still_held))
    return True
