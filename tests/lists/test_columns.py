"""Each contact column is declared once; what is generated from it agrees."""

from __future__ import annotations

import pytest

from contactlists.core.models import ContactListItem
from contactlists.lists.columns import (
    CONTACT_COLUMNS,
    CSV_FIELDS,
    LIST_COLUMNS,
    item_out,
    lead_values,
    sales_navigator_lead,
)
from contactlists.lists.repository import CONTACT_SELECT, LIST_SELECT
from contactlists.lists.schemas import ContactOut
from contactlists.providers.base import Lead
from tests.api.test_export import CSV_HEADER


def test_every_stored_item_column_but_its_position_is_declared() -> None:
    stored = set(ContactListItem.__table__.c.keys()) - {"position"}
    assert {column.stored for column in CONTACT_COLUMNS} == stored


def test_the_reads_select_the_declared_columns_in_order() -> None:
    assert [c.key for c in CONTACT_SELECT] == [c.stored for c in CONTACT_COLUMNS]
    assert [c.key for c in LIST_SELECT] == [c.stored for c in LIST_COLUMNS]


def test_the_csv_has_the_contracts_columns_first_then_ours() -> None:
    assert list(CSV_FIELDS) == CSV_HEADER


def test_the_wire_object_and_its_openapi_model_name_the_same_keys() -> None:
    row = [None] * len(CONTACT_COLUMNS)
    row[[c.stored for c in CONTACT_COLUMNS].index("sales_navigator_lead")] = "ACwAAB"
    row[[c.stored for c in CONTACT_COLUMNS].index("created_at")] = "2026-11-27 12:00:00.000000"
    wire = item_out(row)
    assert list(wire) == [field.alias for field in ContactOut.model_fields.values()]
    assert wire["linkedInSalesNavigatorProfileUrl"] == "https://www.linkedin.com/sales/lead/ACwAAB"
    assert wire["createdAt"] == "2026-11-27T12:00:00Z"


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
