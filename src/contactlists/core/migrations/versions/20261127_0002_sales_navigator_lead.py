"""sales_navigator_lead: a list item keeps the lead's Sales Navigator link path

An item's `profile_id` served only its Sales Navigator link. The link Sales
Navigator builds is `<profileId>,<authType>,<authToken>` from the lead's
`entityUrn`, longer than a profile id, so the column is renamed and widened;
existing items keep their profile id, the link's one-part form.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_list_items") as batch:
        batch.alter_column(
            "profile_id",
            new_column_name="sales_navigator_lead",
            existing_type=sa.String(length=128),
            type_=sa.String(length=512),
            existing_nullable=False,
        )


def downgrade() -> None:
    """Back to the profile id: the part of the path before its first comma."""
    first_part = (
        "split_part(sales_navigator_lead, ',', 1)"
        if op.get_bind().dialect.name == "postgresql"
        else "substr(sales_navigator_lead, 1, instr(sales_navigator_lead || ',', ',') - 1)"
    )
    op.execute(f"UPDATE contact_list_items SET sales_navigator_lead = {first_part}")  # noqa: S608
    with op.batch_alter_table("contact_list_items") as batch:
        batch.alter_column(
            "sales_navigator_lead",
            new_column_name="profile_id",
            existing_type=sa.String(length=512),
            type_=sa.String(length=128),
            existing_nullable=False,
        )
