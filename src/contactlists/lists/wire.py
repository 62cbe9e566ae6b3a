"""The contract's list and contact objects, built from rows of either read path.

Rows are positional, in the column order `lists.repository` and `readstore`
share, so SQLAlchemy rows, `sqlite3` tuples and asyncpg records all fit. JSON
columns may arrive parsed (SQLAlchemy), as raw text (SQLite's driver) or as an
`orjson.Fragment` (asyncpg); timestamps as datetimes or SQLite's stored text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from contactlists.core.clock import rfc3339

SALES_LEAD_URL = "https://www.linkedin.com/sales/lead/"
LIST_FIELDS = ("id", "name", "filters", "contact_count", "provider", "created_at", "updated_at")


def json_value(value: Any) -> Any:
    """Splice a JSON column's stored text into the output without parsing it."""
    return orjson.Fragment(value) if isinstance(value, str) else value


def list_out(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "name": row[1],
        "filters": json_value(row[2]),
        "contactCount": row[3],
        "provider": row[4],
        "createdAt": rfc3339(row[5]),
        "updatedAt": rfc3339(row[6]),
    }


def list_out_from(values: Mapping[str, Any]) -> dict[str, Any]:
    return list_out([values[field] for field in LIST_FIELDS])


def item_out(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0],
        "listId": row[1],
        "baseContactId": row[2],
        "firstName": row[3],
        "lastName": row[4],
        "fullName": row[5],
        "role": row[6],
        "companyName": row[7],
        "location": row[8],
        "seniority": json_value(row[9]),
        "linkedInSalesNavigatorProfileUrl": SALES_LEAD_URL + row[10],
        "headline": row[11],
        "linkedInProfileUrl": row[12],
        "createdAt": rfc3339(row[13]),
    }
