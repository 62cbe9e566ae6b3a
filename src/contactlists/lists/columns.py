"""Each column of a contact list and of a contact, declared once.

A `Column` names the stored column, its key on the wire, its wire type and how
a stored value becomes the wire value (and, for a contact, how the create fills
it from a lead). Everything else is generated from the two tables below: the
SELECT lists of the reads (`repository`), the wire objects (`list_out`,
`item_out`), the create's item values (`lead_values`), the CSV header
(`CSV_FIELDS`) and the OpenAPI model of a contact (`schemas.ContactOut`).
Adding a contact column is a row here, the model's attribute and a migration.

Rows come in the tables' column order from either read path, so SQLAlchemy
rows, `sqlite3` tuples and asyncpg records all fit. JSON columns may arrive
parsed (SQLAlchemy), as raw text (SQLite's driver) or as an `orjson.Fragment`
(asyncpg); timestamps as datetimes or SQLite's stored text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal
from urllib.parse import quote

import orjson

from contactlists.core.clock import rfc3339
from contactlists.providers.base import Lead
from contactlists.providers.seniority import SENIORITY_LEVELS, lead_seniority

SALES_LEAD_URL = "https://www.linkedin.com/sales/lead/"
_THREE_PART_URN = re.compile(r"urn:li:fs_salesProfile:\(([^,()]+),([^,()]+),([^,()]+)\)")
# The wire type of `seniority`'s items: one of the levels, for the OpenAPI document.
Seniority: Any = Literal[SENIORITY_LEVELS]


def json_value(value: Any) -> Any:
    """Splice a JSON column's stored text into the output without parsing it."""
    return orjson.Fragment(value) if isinstance(value, str) else value


def sales_lead_url(lead_path: str) -> str:
    return SALES_LEAD_URL + lead_path


def sales_navigator_lead(lead: Lead) -> str:
    """The path of the lead's link as Sales Navigator builds it: the three parts of
    `urn:li:fs_salesProfile:(<profileId>,<authType>,<authToken>)`, each escaped,
    or the profile id alone when the urn has not got them."""
    match = _THREE_PART_URN.fullmatch(lead.profile_urn or "")
    if match is None:
        return lead.profile_id
    return ",".join(quote(part, safe="") for part in match.groups())


@dataclass(frozen=True, slots=True)
class Column:
    stored: str
    wire: str
    # The wire type, for the OpenAPI document (`schemas.ContactOut`).
    annotation: Any = str | None
    # Stored value -> wire value; None: the same.
    to_wire: Callable[[Any], Any] | None = None
    # The create's value from the lead; None: the create flow sets it.
    from_lead: Callable[[Lead], Any] | None = None
    # Ours, not the contract's: after the contract's columns in a CSV.
    additive: bool = False
    # The same for every item of a list: the reads of items leave it out and
    # the mappers take it from the caller (a column less to decode per row).
    of_list: bool = False


# The list's OpenAPI model (`schemas.ContactListOut`) is written by hand: its
# filters and provider have richer types than a column's.
LIST_COLUMNS = (
    Column("id", "id"),
    Column("name", "name"),
    Column("filters", "filters", to_wire=json_value),
    Column("contact_count", "contactCount"),
    Column("provider", "provider"),
    Column("refreshed_from", "refreshedFrom"),
    Column("created_at", "createdAt", to_wire=rfc3339),
    Column("updated_at", "updatedAt", to_wire=rfc3339),
)
CONTACT_COLUMNS = (
    Column("id", "id", str),
    Column("list_id", "listId", str, of_list=True),
    Column("base_contact_id", "baseContactId", str),
    Column("first_name", "firstName", from_lead=attrgetter("first_name")),
    Column("last_name", "lastName", from_lead=attrgetter("last_name")),
    Column("full_name", "fullName", from_lead=attrgetter("full_name")),
    Column("role", "role", from_lead=attrgetter("title")),
    Column("company_name", "companyName", from_lead=attrgetter("company_name")),
    Column("location", "location", from_lead=attrgetter("location")),
    Column(
        "seniority",
        "seniority",
        list[Seniority],
        json_value,
        lambda lead: lead_seniority(lead.title, lead.seniority_ids),
    ),
    Column(
        "sales_navigator_lead",
        "linkedInSalesNavigatorProfileUrl",
        str,
        sales_lead_url,
        sales_navigator_lead,
    ),
    Column("headline", "headline", from_lead=attrgetter("headline"), additive=True),
    Column(
        "linkedin_profile_url",
        "linkedInProfileUrl",
        from_lead=attrgetter("public_profile_url"),
        additive=True,
    ),
    Column("created_at", "createdAt", str, rfc3339),
)
CSV_FIELDS = tuple(c.wire for c in CONTACT_COLUMNS if not c.additive) + tuple(
    c.wire for c in CONTACT_COLUMNS if c.additive
)
_LIST_INDEX = {column.stored: index for index, column in enumerate(LIST_COLUMNS)}


# Transforms the generated mappers write out inline rather than call, each
# with the function it stands for (tests/lists/test_columns.py holds them
# equal): three calls per contact were a tenth of an uncached contacts page.
_INLINE: dict[Callable[[Any], Any], str] = {
    json_value: "(Fragment({v}) if {v}.__class__ is str else {v})",
    sales_lead_url: "(SALES_LEAD_URL + {v})",
    rfc3339: "({v}[:19].replace(' ', 'T') + 'Z' if {v}.__class__ is str "
    "else {v}.isoformat()[:19] + 'Z')",
}

RowMapper = Callable[[Sequence[Any]], dict[str, Any]]
RowsMapper = Callable[[Sequence[Sequence[Any]]], list[dict[str, Any]]]
# A list's items, with the list's id (`Column.of_list`).
ItemsMapper = Callable[[Sequence[Sequence[Any]], str], list[dict[str, Any]]]


def _wire_mappers(columns: Sequence[Column]) -> tuple[Any, Any]:
    """Functions building the wire object of a row, and of every row of a page,
    as one dict display; each takes the `of_list` columns' values after the
    row(s), as arguments named by the columns.

    Generated, as `dataclasses` generates `__init__`: a contacts page maps
    every row, and a loop over the columns per row took twice as long as the
    hand-written dict display this writes out from the table. A row is
    unpacked into one local per column, which costs less than indexing it once
    per column (16.8 → 15.4 µs for a page of 25).
    """
    scope: dict[str, Any] = {
        "Fragment": orjson.Fragment,
        "SALES_LEAD_URL": SALES_LEAD_URL,
    }
    read = [column for column in columns if not column.of_list]
    local = {column.stored: f"v{index}" for index, column in enumerate(read)}
    given = [column.stored for column in columns if column.of_list]
    entries = []
    for index, column in enumerate(columns):
        value = column.stored if column.of_list else local[column.stored]
        if column.to_wire in _INLINE:
            value = _INLINE[column.to_wire].format(v=value)
        elif column.to_wire is not None:
            scope[f"to_wire_{index}"] = column.to_wire
            value = f"to_wire_{index}({value})"
        entries.append(f"{column.wire!r}: {value}")
    display = "{" + ", ".join(entries) + "}"
    unpacked = ", ".join(local.values())
    source = (
        f"def to_wire({', '.join(['row', *given])}):\n    {unpacked}, = row\n    return {display}\n"
        f"def all_to_wire({', '.join(['rows', *given])}):\n"
        f"    return [{display} for {unpacked} in rows]\n"
    )
    exec(source, scope)  # noqa: S102 - the source is built from the constant tables above
    return scope["to_wire"], scope["all_to_wire"]


list_out: RowMapper
lists_out: RowsMapper
list_out, lists_out = _wire_mappers(LIST_COLUMNS)
items_out: ItemsMapper = _wire_mappers(CONTACT_COLUMNS)[1]
# What the reads of items select, in this order: all but the `of_list` columns.
ITEM_READ_COLUMNS = tuple(c for c in CONTACT_COLUMNS if not c.of_list)


def list_out_from(values: Mapping[str, Any]) -> dict[str, Any]:
    return list_out([values[column.stored] for column in LIST_COLUMNS])


def list_value(row: Sequence[Any], stored: str) -> Any:
    """One stored value of a list row, by its column's name."""
    return row[_LIST_INDEX[stored]]


def lead_values(lead: Lead) -> dict[str, Any]:
    """An item's stored values that come from its lead (the create adds the rest)."""
    return {c.stored: c.from_lead(lead) for c in CONTACT_COLUMNS if c.from_lead is not None}


# A preview's contact (`POST /v1/contacts/search`): the columns a lead fills, as
# the wire shows them; nothing of a stored item (ids, list, timestamps).
PREVIEW_COLUMNS = tuple(c for c in CONTACT_COLUMNS if c.from_lead is not None)


def preview_out(lead: Lead) -> dict[str, Any]:
    out = {}
    for column in PREVIEW_COLUMNS:
        assert column.from_lead is not None  # noqa: S101 - for the type checker
        value = column.from_lead(lead)
        out[column.wire] = column.to_wire(value) if column.to_wire is not None else value
    return out
