"""Typed views of the API's resources, as the client returns them.

Lenient where the server's wire models are strict: unknown fields are ignored,
so a client keeps working when the server adds fields (the contract only ever
adds). Field names are snake_case; `model_dump(by_alias=True, mode="json")`
gives the wire's camelCase back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )


class ListFilters(Model):
    company_linked_in_urls: list[str] = Field(alias="companyLinkedInUrls")
    job_titles: list[str] | None = None
    keywords: str | None = None
    countries: list[str] | None = None
    departments: list[str] | None = None
    seniority_levels: list[str] | None = None

    @model_serializer(mode="wrap")
    def _as_on_the_wire(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The API omits a filter the create did not send: so does a dump, no `null`s."""
        return {key: value for key, value in handler(self).items() if value is not None}


class ContactList(Model):
    id: str
    name: str
    filters: ListFilters
    contact_count: int
    provider: str
    refreshed_from: str | None = None
    created_at: datetime
    updated_at: datetime


class Contact(Model):
    id: str
    list_id: str
    base_contact_id: str
    first_name: str | None
    last_name: str | None
    full_name: str | None
    role: str | None
    company_name: str | None
    location: str | None
    seniority: list[str]
    linked_in_sales_navigator_profile_url: str = Field(alias="linkedInSalesNavigatorProfileUrl")
    headline: str | None = None
    linked_in_profile_url: str | None = Field(default=None, alias="linkedInProfileUrl")
    created_at: datetime


class Page(Model, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    has_more: bool

    @property
    def next_offset(self) -> int | None:
        """Where the next page starts, or None on the last page."""
        return self.offset + len(self.items) if self.has_more and self.items else None


class ContactPreview(Model):
    """A contact a search preview found (`contacts.search`); nothing is stored."""

    first_name: str | None
    last_name: str | None
    full_name: str | None
    headline: str | None = None
    role: str | None
    company_name: str | None
    location: str | None
    seniority: list[str]
    linked_in_profile_url: str | None = Field(default=None, alias="linkedInProfileUrl")
    linked_in_sales_navigator_profile_url: str = Field(alias="linkedInSalesNavigatorProfileUrl")


class SearchPage(Page[ContactPreview]):
    sales_nav_connected: bool


class ContactChange(Model):
    """One person's change between two lists: `before` is null when added, `after` when removed."""

    change: str  # "added", "removed" or "changed"
    base_contact_id: str
    before: Contact | None
    after: Contact | None
    changed_fields: list[str]


class ChangeSummary(Model):
    added: int
    removed: int
    changed: int
    unchanged: int


class ChangePage(Page[ContactChange]):
    summary: ChangeSummary


class Credits(Model):
    remaining_credits: int | None
    unlimited: bool = False


class Member(Model):
    name: str | None = None
    public_identifier: str | None = None


class Connection(Model):
    """The account's Sales Navigator connection (never a secret)."""

    provider: str | None
    state: str
    connected_at: datetime | None = None
    last_verified_at: datetime | None = None
    last_error: str | None = None
    cookie_names: list[str] = Field(default_factory=list)
    member: Member | None = None
