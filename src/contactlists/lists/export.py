"""Whole-list exports as CSV or NDJSON, streamed in stored order.

Items are read in position ranges of `EXPORT_BATCH`, each in its own short read
transaction, so memory stays constant and no transaction is held while a slow
client reads. A list is a snapshot (only rename and delete change it), so the
batches agree with each other; a list deleted during its export cuts the stream
(no final chunk) instead of ending it early, so a client never takes a short
file for the whole list.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import unicodedata
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from contactlists.core.auth import Principal
from contactlists.core.db import Database
from contactlists.core.readstore import ReadStore
from contactlists.lists import repository, service
from contactlists.lists.columns import CSV_FIELDS, items_out
from contactlists.web.pagination import invalid_query_parameter

EXPORT_BATCH = 100
# Excel reads a CSV as UTF-8 only when it starts with a byte order mark;
# pandas and `encoding="utf-8-sig"` skip it.
UTF8_BOM = "\ufeff"
# A spreadsheet runs a cell starting with one of these as a formula (OWASP's
# CSV injection list, and the full-width forms some spreadsheets fold to them);
# a leading apostrophe makes it text.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NOT_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_NOT_IN_ASCII_FALLBACK = re.compile(r"[^A-Za-z0-9._() -]+")
# RFC 8187 attr-char, less the ALPHA / DIGIT that quote() always keeps.
_ATTR_CHAR_PUNCTUATION = "!#$&+-.^_`|~"


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.NDJSON: "application/x-ndjson",
}


class ExportInterrupted(Exception):
    """The list vanished (deleted) while its export was being streamed."""


@dataclass(frozen=True, slots=True)
class Export:
    media_type: str
    content_disposition: str
    chunks: AsyncIterator[bytes]


def export_format(values: list[str]) -> ExportFormat:
    """The `format` query parameter: absent means CSV; exactly one known value, else 400."""
    if not values:
        return ExportFormat.CSV
    if len(values) > 1:
        raise invalid_query_parameter("format", "'format' must be given at most once")
    if values[0] not in MEDIA_TYPES:
        raise invalid_query_parameter("format", "'format' must be csv or ndjson")
    return ExportFormat(values[0])


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = ";".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def csv_lines(rows: Iterable[Iterable[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def _render(contacts: list[dict[str, Any]], fmt: ExportFormat) -> bytes:
    if fmt is ExportFormat.NDJSON:
        return b"".join(orjson.dumps(contact) + b"\n" for contact in contacts)
    return csv_lines([csv_cell(contact[name]) for name in CSV_FIELDS] for contact in contacts)


def _has_alphanumeric(text: str) -> bool:
    return any(char.isalnum() for char in text)


def content_disposition(name: str, list_id: str, fmt: ExportFormat) -> str:
    """`attachment` with the list's name as an RFC 6266 `filename*` and an ASCII fallback.

    A name with no letter or digit (in any script) gives `contact-list-<id>`;
    the ASCII `filename` drops accents (`Café` -> `Cafe`) and falls back the
    same way when nothing ASCII is left.
    """
    fallback = f"contact-list-{list_id}"
    # Bidi controls and zero-width characters (format, Cf) could make a name
    # display as another, `exe.csv` as `vsc.exe`: they never reach a filename.
    visible = "".join(char for char in name if unicodedata.category(char) != "Cf")
    unicode_stem = _NOT_IN_FILENAMES.sub("_", visible).strip(" ._")
    if not _has_alphanumeric(unicode_stem):
        unicode_stem = fallback
    ascii_stem = unicodedata.normalize("NFKD", unicode_stem).encode("ascii", "ignore").decode()
    ascii_stem = " ".join(_NOT_IN_ASCII_FALLBACK.sub("_", ascii_stem).split()).strip(" ._")
    if not _has_alphanumeric(ascii_stem):
        ascii_stem = fallback
    encoded = quote(f"{unicode_stem}.{fmt}", safe=_ATTR_CHAR_PUNCTUATION)
    return f"attachment; filename=\"{ascii_stem}.{fmt}\"; filename*=UTF-8''{encoded}"


async def _chunks(
    database: Database, list_id: str, count: int, fmt: ExportFormat
) -> AsyncIterator[bytes]:
    if fmt is ExportFormat.CSV:
        yield UTF8_BOM.encode() + csv_lines([CSV_FIELDS])
    for start in range(0, count, EXPORT_BATCH):
        async with database.transaction() as conn:
            rows = await repository.page_items(conn, list_id, EXPORT_BATCH, start)
        if len(rows) < min(EXPORT_BATCH, count - start):
            raise ExportInterrupted(f"contact list {list_id} was deleted during its export")
        yield _render(items_out(rows, list_id), fmt)


async def open_export(
    database: Database, reads: ReadStore, principal: Principal, list_id: str, fmt: ExportFormat
) -> Export:
    """Check the list exists for this caller first, so a 404 is a proper envelope."""
    found: Mapping[str, Any] = await service.get_list(reads, principal, list_id, None)
    return Export(
        media_type=MEDIA_TYPES[fmt],
        content_disposition=content_disposition(found["name"], found["id"], fmt),
        chunks=_chunks(database, found["id"], found["contactCount"], fmt),
    )
