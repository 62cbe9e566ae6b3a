"""How one contact list differs from another: who was added, removed or changed.

A person is one base contact: the same person in two lists of an account and
mode. `changed` compares `COMPARED` of the two snapshots; `unchanged` people are
only counted. The order is fixed: `changed` and `added` in the newer list's
stored order, then `removed` in the older list's. Both lists are immutable (a
rename touches neither's items), so a page of changes has one body forever and
is cached and tagged like a contacts page; the ownership of both lists is
checked on every request before a cached body is served.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from contactlists.core.auth import Principal
from contactlists.core.db import Database
from contactlists.core.readstore import ReadStore
from contactlists.lists import repository, service
from contactlists.lists.columns import CSV_FIELDS, items_out, list_value
from contactlists.lists.export import (
    MEDIA_TYPES,
    UTF8_BOM,
    Export,
    ExportFormat,
    content_disposition,
    csv_cell,
    csv_lines,
)
from contactlists.lists.page_cache import CachedPage, PageCache
from contactlists.web.pagination import PageParams, invalid_query_parameter, page_body

COMPARED = ("role", "companyName", "location", "seniority")
CSV_HEADER = (
    "change",
    "baseContactId",
    "changedFields",
    *(f"before.{name}" for name in CSV_FIELDS),
    *(f"after.{name}" for name in CSV_FIELDS),
)


class Change(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class Diff:
    entries: list[dict[str, Any]]
    summary: dict[str, int]


def since_param(request: Request) -> str:
    """The required `since` query parameter, exactly once; else 400."""
    values = request.query_params.getlist("since")
    if len(values) != 1 or not values[0]:
        raise invalid_query_parameter(
            "since", "'since' must be given once: the id of the list to compare with"
        )
    return values[0]


def _entry(
    change: Change, before: dict[str, Any] | None, after: dict[str, Any] | None, fields: list[str]
) -> dict[str, Any]:
    person = after if after is not None else before
    assert person is not None  # noqa: S101 - one side is always there
    return {
        "change": change.value,
        "baseContactId": person["baseContactId"],
        "before": before,
        "after": after,
        "changedFields": fields,
    }


def diff(newer: Sequence[dict[str, Any]], older: Sequence[dict[str, Any]]) -> Diff:
    """The changes from `older` to `newer`, both wire contacts in stored order."""
    old_by_person = {contact["baseContactId"]: contact for contact in older}
    new_people = {contact["baseContactId"] for contact in newer}
    entries: list[dict[str, Any]] = []
    unchanged = 0
    for after in newer:
        before = old_by_person.get(after["baseContactId"])
        if before is None:
            entries.append(_entry(Change.ADDED, None, after, []))
            continue
        fields = [name for name in COMPARED if before[name] != after[name]]
        if fields:
            entries.append(_entry(Change.CHANGED, before, after, fields))
        else:
            unchanged += 1
    entries += [
        _entry(Change.REMOVED, before, None, [])
        for before in older
        if before["baseContactId"] not in new_people
    ]
    summary = {kind.value: 0 for kind in Change} | {"unchanged": unchanged}
    for entry in entries:
        summary[entry["change"]] += 1
    return Diff(entries, summary)


@dataclass(frozen=True, slots=True)
class Pair:
    """The two lists of a comparison, both checked to be the caller's."""

    list_id: str
    since: str
    name: str


async def _pair(reads: ReadStore, principal: Principal, list_id: str, since: str) -> Pair:
    newer = await service.get_list(reads, principal, list_id)
    await service.get_list(reads, principal, since)
    return Pair(list_id, since, newer["name"])


async def _contacts(
    conn: AsyncConnection, principal: Principal, list_id: str
) -> list[dict[str, Any]]:
    """A whole list's contacts (a list holds at most 5 pages of 25)."""
    row = await repository.owned_list(conn, principal, list_id)
    count = int(list_value(row, "contact_count")) if row is not None else 0
    items = await repository.page_items(conn, list_id, count, 0) if count else []
    if row is None or len(items) != count:
        raise service.not_found(list_id)  # deleted since it was checked
    return items_out(items, list_id)


async def _diff(database: Database, principal: Principal, pair: Pair) -> Diff:
    """Both lists' contacts from one read snapshot, compared."""
    async with database.transaction() as conn:
        newer = await _contacts(conn, principal, pair.list_id)
        older = await _contacts(conn, principal, pair.since)
    return diff(newer, older)


async def page_changes(
    database: Database,
    reads: ReadStore,
    cache: PageCache,
    principal: Principal,
    ids: tuple[str, str],
    page: PageParams,
) -> CachedPage:
    """A page of changes as serialised bytes with its strong ETag."""
    pair = await _pair(reads, principal, *ids)
    key = (f"changes {pair.list_id} {pair.since}", page.limit, page.offset)
    cached = cache.get(key)
    if cached is not None:
        return cached
    found = await _diff(database, principal, pair)
    items = found.entries[page.offset : page.offset + page.limit]
    body = orjson.dumps(page_body(items, len(found.entries), page) | {"summary": found.summary})
    return cache.put(key, body, has_items=bool(items))


def _csv_row(entry: dict[str, Any]) -> list[str]:
    sides = [entry["before"], entry["after"]]
    return [
        entry["change"],
        entry["baseContactId"],
        csv_cell(entry["changedFields"]),
        *(csv_cell(side[name] if side else None) for side in sides for name in CSV_FIELDS),
    ]


def _batches(entries: list[dict[str, Any]], size: int = 100) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(entries), size):
        yield entries[start : start + size]


async def _chunks(found: Diff, fmt: ExportFormat) -> AsyncIterator[bytes]:
    if fmt is ExportFormat.CSV:
        yield UTF8_BOM.encode() + csv_lines([CSV_HEADER])
    for batch in _batches(found.entries):
        if fmt is ExportFormat.NDJSON:
            yield b"".join(orjson.dumps(entry) + b"\n" for entry in batch)
        else:
            yield csv_lines(_csv_row(entry) for entry in batch)


async def open_export(
    database: Database,
    reads: ReadStore,
    principal: Principal,
    ids: tuple[str, str],
    fmt: ExportFormat,
) -> Export:
    """Every change, computed before the first byte (two lists of at most a few hundred)."""
    pair = await _pair(reads, principal, *ids)
    found = await _diff(database, principal, pair)
    return Export(
        media_type=MEDIA_TYPES[fmt],
        content_disposition=content_disposition(f"{pair.name} changes", pair.list_id, fmt),
        chunks=_chunks(found, fmt),
    )
