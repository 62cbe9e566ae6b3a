"""Wire models of the search preview: the original client's request and response."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from contactlists.core.schemas import WireModel
from contactlists.core.textfields import Trimmed
from contactlists.lists.columns import PREVIEW_COLUMNS
from contactlists.lists.schemas import SearchFilters, columns_model
from contactlists.providers.base import PAGE_SIZE

MISSING_FILTER_MESSAGE = "At least one search filter is required"
# LinkedIn serves no result past the 2,500th.
RESULT_CAP = 2500
DEFAULT_LIMIT = PAGE_SIZE
MAX_LIMIT = 100

PersonName = Annotated[str, Trimmed(100, min_length=0)]


class ContactSearch(SearchFilters):
    """The filters (each optional, at least one given) and the window of results."""

    first_name: PersonName | None = None
    last_name: PersonName | None = None
    limit: int = Field(default=0, ge=0, le=MAX_LIMIT, description=f"0 or absent: {DEFAULT_LIMIT}")
    offset: int = Field(
        default=0, ge=0, le=RESULT_CAP - 1, description=f"offset + limit <= {RESULT_CAP}"
    )

    @field_validator("offset")
    @classmethod
    def _within_the_cap(cls, offset: int, info: ValidationInfo) -> int:
        limit = info.data.get("limit")
        if isinstance(limit, int) and offset + (limit or DEFAULT_LIMIT) > RESULT_CAP:
            raise PydanticCustomError(
                "result_cap",
                "offset + limit must be at most {cap} (LinkedIn's cap on a search)",
                {"cap": RESULT_CAP},
            )
        return offset

    @model_validator(mode="after")
    def _require_a_filter(self) -> ContactSearch:
        filters = self.echo()
        if not (filters or self.first_name or self.last_name):
            raise PydanticCustomError("missing_filter", MISSING_FILTER_MESSAGE)
        return self

    @property
    def page_limit(self) -> int:
        return self.limit or DEFAULT_LIMIT


# A previewed contact, generated from the columns a lead fills (`columns.PREVIEW_COLUMNS`).
ContactPreviewOut: Any = columns_model("ContactPreviewOut", PREVIEW_COLUMNS)


class ContactSearchPage(WireModel):
    items: list[ContactPreviewOut]
    total: int = Field(description="The upstream's match count, at most 2,500")
    limit: int
    offset: int
    has_more: bool
    sales_nav_connected: bool
