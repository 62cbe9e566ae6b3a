"""The rules of reading, renaming and deleting contact lists (creating: `create`).

Every function takes what it reads or writes through (the `ReadStore` or the
`Database`) and opens its own short units of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from contactlists.core.auth import Principal, ProbedRow
from contactlists.core.clock import utcnow
from contactlists.core.db import Database
from contactlists.core.errors import ListNotFound
from contactlists.core.ids import may_name_a_row
from contactlists.core.readstore import ReadStore, Row
from contactlists.lists import repository
from contactlists.lists.columns import items_out, list_out, list_value, lists_out
from contactlists.lists.page_cache import CachedPage, PageCache
from contactlists.web.pagination import PageParams, page_body


@dataclass(frozen=True, slots=True)
class ListRef:
    """The list a request's path names, with what authentication probed of it."""

    list_id: str
    probed: ProbedRow | None = None


def not_found(list_id: str) -> ListNotFound:
    return ListNotFound(f"Contact list {list_id!r} not found.")


def checked(list_id: str) -> str:
    if not may_name_a_row(list_id):
        raise not_found(list_id)
    return list_id


async def page_lists(
    reads: ReadStore, cache: PageCache, principal: Principal, page: PageParams
) -> CachedPage:
    """A page of the caller's lists as serialised bytes with its ETag, cached
    under the account's lists version that the key's query read (see `page_cache`).

    The page is read after the version was, so it is at least as new as that
    version: a write committed in between is served early, never missed.
    """
    key = (
        "lists",
        principal.account_id,
        principal.mode,
        principal.lists_version,
        page.limit,
        page.offset,
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    total, rows = await repository.read_lists_page(reads, principal, page.limit, page.offset)
    body = orjson.dumps(page_body(lists_out(rows), total, page))
    return cache.put(key, body, has_items=bool(rows))


async def _list_row(
    reads: ReadStore, principal: Principal, list_id: str, probed: ProbedRow | None
) -> Row:
    """The list's row as authentication probed it, else read now; 404 if none."""
    if probed is not None and probed.value == list_id:
        row = probed.row
    else:
        row = await repository.read_list(reads, principal, checked(list_id))
    if row is None:
        raise not_found(list_id)
    return row


async def get_list(
    reads: ReadStore, principal: Principal, list_id: str, probed: ProbedRow | None = None
) -> dict[str, Any]:
    return list_out(await _list_row(reads, principal, list_id, probed))


async def page_contacts(
    reads: ReadStore,
    cache: PageCache,
    principal: Principal,
    ref: ListRef,
    page: PageParams,
) -> CachedPage:
    """A page of contacts as serialised bytes with its ETag (see `page_cache`).

    A list's items are immutable and their positions dense, so its stored
    `contactCount` says exactly how many items a page holds; fewer means the
    list was deleted between the two reads (no transaction spans them), and the
    answer is then what it would be a moment later: 404, nothing cached.
    """
    row = await _list_row(reads, principal, ref.list_id, ref.probed)
    key = (ref.list_id, page.limit, page.offset)
    cached = cache.get(key)
    if cached is not None:
        return cached
    total = int(list_value(row, "contact_count"))
    items = await repository.read_items(reads, ref.list_id, page.limit, page.offset)
    if len(items) != max(0, min(page.limit, total - page.offset)):
        raise not_found(ref.list_id)
    body = orjson.dumps(page_body(items_out(items, ref.list_id), total, page))
    return cache.put(key, body, has_items=bool(items))


async def rename_list(
    database: Database, principal: Principal, list_id: str, name: str
) -> dict[str, Any]:
    checked(list_id)
    async with database.transaction(write=True) as conn:
        await repository.bump_lists_version(conn, principal.account_id)
        row = await repository.rename_list(conn, principal, list_id, name, utcnow())
        if row is None:
            raise not_found(list_id)  # and the bump is rolled back
    return list_out(row)


async def delete_list(database: Database, principal: Principal, list_id: str) -> None:
    checked(list_id)
    async with database.transaction(write=True) as conn:
        await repository.bump_lists_version(conn, principal.account_id)
        if not await repository.delete_list(conn, principal, list_id):
            raise not_found(list_id)  # and the bump is rolled back
