"""lists_version: an account counts the changes to its contact lists

Every write that changes what a lists page shows (a create, a refresh, a
rename, a delete) adds one to it in the write's own transaction; the API key's
query reads it, and lists pages are cached under it. Existing accounts start
at 0: no process has cached a lists page before this revision.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both backends, as in 0003: a batch copy of accounts
# would drop the old table, and with it, by their cascades, every account's
# keys, lists and ledger.


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("lists_version", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("accounts", "lists_version")
