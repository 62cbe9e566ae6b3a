"""The schema, as SQLAlchemy declarative models; Alembic migrations mirror it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes with microseconds on every backend.

    PostgreSQL keeps `timestamptz`; SQLite keeps naive UTC text, which sorts
    correctly because every stored value has the same offset and format.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Plain `json`, not `jsonb`, on PostgreSQL: it keeps keys in the order written,
# and `filters` is echoed in the contract's key order.
JSONType = sa.JSON()
# Ids are opaque lower-case ASCII ordered byte-wise (`created_at DESC, id DESC`):
# SQLite compares BINARY, and "C" keeps PostgreSQL off the database's locale.
IdType = sa.String(40).with_variant(sa.String(40, collation="C"), "postgresql")
# Upstream profile ids order row locks (lists/repository.py), as Python sorts them.
ProfileIdType = sa.String(128).with_variant(sa.String(128, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    unlimited: Mapped[bool] = mapped_column(sa.Boolean)
    created_at: Mapped[datetime]
    # One more with every write a lists page would show, first in that write's
    # transaction (`lists.repository.bump_lists_version`): lists pages are cached under it.
    lists_version: Mapped[int] = mapped_column(server_default="0")


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (sa.CheckConstraint("mode IN ('live', 'test')", name="mode"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[str] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    mode: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SalesNavigatorConnection(Base):
    __tablename__ = "sales_navigator_connections"
    __table_args__ = (sa.CheckConstraint("state IN ('active', 'expired')", name="state"),)

    account_id: Mapped[str] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16))
    credentials: Mapped[str | None] = mapped_column(sa.Text)
    connected_at: Mapped[datetime]
    last_verified_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class ContactList(Base):
    __tablename__ = "contact_lists"
    __table_args__ = (
        sa.CheckConstraint("mode IN ('live', 'test')", name="mode"),
        sa.Index(
            "ix_contact_lists_account_mode_created",
            "account_id",
            "mode",
            sa.text("created_at DESC"),
            sa.text("id DESC"),
        ),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(sa.String(8))
    name: Mapped[str] = mapped_column(sa.String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType)
    provider: Mapped[str] = mapped_column(sa.String(16))
    contact_count: Mapped[int]
    # The list a refresh re-ran (its id is kept, as provenance, after it is deleted).
    refreshed_from: Mapped[str | None] = mapped_column(IdType)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BaseContact(Base):
    """One person as known to one account and mode, keyed by the profile id."""

    __tablename__ = "base_contacts"
    __table_args__ = (sa.UniqueConstraint("account_id", "mode", "profile_id"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(sa.String(8))
    profile_id: Mapped[str] = mapped_column(ProfileIdType)
    profile_urn: Mapped[str | None] = mapped_column(sa.Text)
    first_name: Mapped[str | None] = mapped_column(sa.Text)
    last_name: Mapped[str | None] = mapped_column(sa.Text)
    full_name: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str | None] = mapped_column(sa.Text)
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.Text)
    headline: Mapped[str | None] = mapped_column(sa.Text)
    public_profile_url: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactListItem(Base):
    """A list's snapshot of one person; rows never change after creation."""

    __tablename__ = "contact_list_items"
    __table_args__ = (sa.UniqueConstraint("list_id", "position"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    list_id: Mapped[str] = mapped_column(sa.ForeignKey("contact_lists.id", ondelete="CASCADE"))
    position: Mapped[int]
    base_contact_id: Mapped[str] = mapped_column(sa.ForeignKey("base_contacts.id"), index=True)
    # `<profileId>,<authType>,<authToken>`, or the profile id alone (lists.columns).
    sales_navigator_lead: Mapped[str] = mapped_column(sa.String(512))
    first_name: Mapped[str | None] = mapped_column(sa.Text)
    last_name: Mapped[str | None] = mapped_column(sa.Text)
    full_name: Mapped[str | None] = mapped_column(sa.Text)
    role: Mapped[str | None] = mapped_column(sa.Text)
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.Text)
    seniority: Mapped[list[str]] = mapped_column(JSONType)
    headline: Mapped[str | None] = mapped_column(sa.Text)
    linkedin_profile_url: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]


# The rows of the partial index on open reservations, on both backends.
OPEN_RESERVATIONS = "kind = 'reserve' AND closed_at IS NULL"


class CreditLedgerEntry(Base):
    """Every change to an account's credits: the balance is the sum of `delta`,
    the credits held by reservations the sum of `held`.

    A `reserve` row holds credits (`held` > 0) until it expires or a `settle` or
    `release` row with the same `reservation_id` gives them back (`held` < 0);
    `closed_at` on the reserve row marks that, so open reservations are found
    through a small partial index instead of a scan of the account's history.
    """

    __tablename__ = "credit_ledger"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('grant', 'reserve', 'settle', 'release')", name="kind"),
        # PostgreSQL gets the same predicate from migration 0001 (tests/test_migrate.py
        # holds the two equal): `postgresql_where` here would make SQLAlchemy import
        # its whole PostgreSQL dialect with this module, over 3 MiB resident in every
        # SQLite worker. Alembic's autogenerate compares no index predicates.
        sa.Index(
            "ix_credit_ledger_open_reservations",
            "account_id",
            "expires_at",
            sqlite_where=sa.text(OPEN_RESERVATIONS),
        ),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    list_id: Mapped[str | None] = mapped_column(IdType)
    request_id: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime]
    held: Mapped[int] = mapped_column(default=0)
    reservation_id: Mapped[str | None] = mapped_column(IdType, index=True)
    expires_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class SeatLock(Base):
    """The one LinkedIn search running on a seat, across all workers; expires on its own."""

    __tablename__ = "sales_navigator_seat_locks"

    account_id: Mapped[str] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(sa.String(40))
    expires_at: Mapped[datetime]


class SeatPageUsage(Base):
    """Lead-search pages a seat requested on one UTC day (`YYYY-MM-DD`)."""

    __tablename__ = "sales_navigator_page_usage"

    account_id: Mapped[str] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    pages: Mapped[int]


class LinkedInCompany(Base):
    """A company page's vanity name and its LinkedIn id, which never changes."""

    __tablename__ = "linkedin_companies"

    universal_name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    company_id: Mapped[str] = mapped_column(sa.String(20))
    resolved_at: Mapped[datetime]


class IdempotencyRecord(Base):
    """A create's `Idempotency-Key`: claimed while it runs, then its stored 201."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.CheckConstraint("state IN ('in_progress', 'completed')", name="state"),)

    account_id: Mapped[str] = mapped_column(
        sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16))
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    list_id: Mapped[str | None] = mapped_column(IdType)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
