"""refreshed_from: a contact list names the list its refresh re-ran

Null on every list made by an ordinary create, so existing lists need no
backfill. Not a foreign key: the id stays as provenance after the source list
is deleted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql")


# Plain ALTER TABLE on both backends (SQLite has had DROP COLUMN since 3.35): a
# batch copy of contact_lists would drop the old table, and with it, by its
# cascade, every list item.


def upgrade() -> None:
    op.add_column("contact_lists", sa.Column("refreshed_from", ID, nullable=True))


def downgrade() -> None:
    op.drop_column("contact_lists", "refreshed_from")
