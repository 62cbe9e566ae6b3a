"""Each contact column is declared once; what is generated from it agrees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from contactlists.core.models import ContactListItem
from contactlists.lists.columns import (
    CONTACT_COLUMNS,
    CSV_FIELDS,
    ITEM_READ_COLUMNS,
    LIST_COLUMNS,
    Column,
    items_out,
    lead_values,
    lists_out,
    sales_navigator_lead,
)
from contactlists.lists.repository import ITEM_SELECT, LIST_SELECT
from contactlists.lists.schemas import ContactOut
from contactlists.providers.base import Lead
from tests.api.test_export import CSV_HEADER


def test_every_stored_item_column_but_its_position_is_declared() -> None:
    stored = set(ContactListItem.__table__.c.keys()) - {"position"}
    assert {column.stored for column in CONTACT_COLUMNS} == stored


def test_the_reads_select_the_declared_columns_in_order() -> None:
    assert [c.key for c in ITEM_SELECT] == [c.stored for c in ITEM_READ_COLUMNS]
    assert {c.stored for c in CONTACT_COLUMNS} - {c.stored for c in ITEM_READ_COLUMNS} == {
        "list_id"
    }
    assert [c.key for c in LIST_SELECT] == [c.stored for c in LIST_COLUMNS]


def test_the_csv_has_the_contracts_columns_first_then_ours() -> None:
    assert list(CSV_FIELDS) == CSV_HEADER


def test_the_wire_object_and_its_openapi_model_name_the_same_keys() -> None:
    row = [None] * len(ITEM_READ_COLUMNS)
    row[[c.stored for c in ITEM_READ_COLUMNS].index("sales_navigator_lead")] = "ACwAAB"
    row[[c.stored for c in ITEM_READ_COLUMNS].index("created_at")] = "2026-11-27 12:00:00.000000"
    (wire,) = items_out([row], "cl_given")
    assert list(wire) == [field.alias for field in ContactOut.model_fields.values()]
    assert wire["listId"] == "cl_given"
    assert wire["linkedInSalesNavigatorProfileUrl"] == "https://www.linkedin.com/sales/lead/ACwAAB"
    assert wire["createdAt"] == "2026-11-27T12:00:00Z"


def _called(columns: tuple[Column, ...], row: list[Any]) -> dict[str, Any]:
    """A row's wire object with each column's function called on its value."""
    return {
        c.wire: c.to_wire(value) if c.to_wire is not None else value
        for c, value in zip(columns, row, strict=True)
    }


_SQLITE_STAMP = "2026-11-27 12:34:56.789012"
_POSTGRESQL_STAMP = datetime(2026, 11, 27, 12, 34, 56, 789012, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stamp", "seniority"),
    [
        (_SQLITE_STAMP, '["DIRECTOR","VP"]'),  # SQLite's driver: stored text
        (_POSTGRESQL_STAMP, orjson.Fragment(b'["DIRECTOR"]')),  # asyncpg
        (_POSTGRESQL_STAMP, ["OWNER"]),  # SQLAlchemy: parsed
    ],
)
def test_the_inline_transforms_are_their_functions(stamp: Any, seniority: Any) -> None:
    values = {"created_at": stamp, "updated_at": stamp, "seniority": seniority}
    values |= {"filters": seniority, "sales_navigator_lead": "ACwAAB,NAME_SEARCH,k3Xz"}
    for columns, mapper in (
        (CONTACT_COLUMNS, lambda rows: items_out(rows, "value of list_id")),
        (LIST_COLUMNS, lists_out),
    ):
        row = [values.get(c.stored, f"value of {c.stored}") for c in columns]
        read = [value for c, value in zip(columns, row, strict=True) if not c.of_list]
        (mapped,) = mapper([read])
        assert orjson.dumps(mapped) == orjson.dumps(_called(columns, row))


@pytest.mark.parametrize(
    ("urn", "path"),
    [
        ("urn:li:fs_salesProfile:(ACwAAB,NAME_SEARCH,k3Xz)", "ACwAAB,NAME_SEARCH,k3Xz"),
        ("urn:li:fs_salesProfile:(ACwAAB,OUT_OF_NETWORK,a%b/c)", "ACwAAB,OUT_OF_NETWORK,a%25b%2Fc"),
        ("urn:li:fs_salesProfile:(ACwAAB)", "ACwAAB"),
        ("urn:li:fs_salesProfile:(ACwAAB,NAME_SEARCH)", "ACwAAB"),
        (None, "ACwAAB"),
    ],
)
def test_the_sales_navigator_link_is_the_one_sales_navigator_builds(
    urn: str | None, path: str
) -> None:
    lead = Lead(profile_id="ACwAAB", profile_urn=urn)
    assert sales_navigator_lead(lead) == path
    assert lead_values(lead)["sales_navigator_lead"] == path
