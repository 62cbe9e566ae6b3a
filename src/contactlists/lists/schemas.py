"""Wire models of the lists feature: validation of inputs, shapes of outputs.

Inputs are normalised here (trimmed strings, canonical company URLs, upper-case
de-duplicated countries), so the service only ever sees clean values. The
patterns in the JSON schema are the same expressions the code validates with,
so the OpenAPI document is as precise as the validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    JsonValue,
    create_model,
    model_validator,
)
from pydantic.alias_generators import to_snake
from pydantic_core import PydanticCustomError

from contactlists.core.schemas import InputModel, WireModel
from contactlists.core.textfields import TRIMMED_CLASS, Trimmed
from contactlists.lists.columns import CONTACT_COLUMNS, Column
from contactlists.providers.base import LeadQuery
from contactlists.providers.countries import (
    MISTAKEN_CODES,
    SUPPORTED_COUNTRY_CODES,
    supported_countries,
)
from contactlists.providers.facets import (
    DEPARTMENT_IDS,
    SENIORITY_FACET_IDS,
    any_case_pattern,
    canonical_department,
    canonical_seniority,
)

MISSING_FILTER_MESSAGE = "At least one filter (jobTitles, keywords, or countries) is required"

# Patterns are published in the OpenAPI document, so they stay within the
# syntax JSON Schema (ECMA-262) and Python share: no named groups, no flags.

# A vanity name's character: a letter, digit or `_.&-`, literally or
# percent-encoded; or any other character, literally or as the percent-encoded
# bytes of its UTF-8 (a valid sequence: every such name decodes).
MAX_VANITY = 150
_HEX = "[0-9A-Fa-f]"
_CONTINUATION = f"%[89ABab]{_HEX}"
_VANITY_CHAR = (
    "(?:[A-Za-z0-9_.&-]|[^\\x00-\\x7f]"
    "|%(?:2[6DEde]|3[0-9]|4[1-9A-Fa-f]|5[0-9AFaf]|6[1-9A-Fa-f]|7[0-9Aa])"
    f"|%[Cc][2-9A-Fa-f]{_CONTINUATION}|%[Dd]{_HEX}{_CONTINUATION}"
    f"|%[Ee]0%[ABab]{_HEX}{_CONTINUATION}|%[Ee][1-9A-Ca-c]{_CONTINUATION * 2}"
    f"|%[Ee][Dd]%[89]{_HEX}{_CONTINUATION}|%[Ee][EFef]{_CONTINUATION * 2}"
    f"|%[Ff]0%[9ABab]{_HEX}{_CONTINUATION * 2}|%[Ff][1-3]{_CONTINUATION * 3}"
    f"|%[Ff]4%8{_HEX}{_CONTINUATION * 2})"
)
COMPANY_URL_PATTERN = (
    r"^(?:[Hh][Tt][Tt][Pp][Ss]?://)?(?:[A-Za-z]{2,3}\.)?[Ll][Ii][Nn][Kk][Ee][Dd][Ii][Nn]\.[Cc][Oo][Mm]"
    rf"/(?:company/({_VANITY_CHAR}{{1,{MAX_VANITY}}})|sales/company/([0-9]{{1,20}}))"
    r"(?:[/?#][^\x00-\x1f\x7f]*)?$"
)
_COMPANY_URL_RE = re.compile(COMPANY_URL_PATTERN)
_COUNTRY_PATTERN = "^(?:{})$".format(
    "|".join(f"[{c[0]}{c[0].lower()}][{c[1]}{c[1].lower()}]" for c in SUPPORTED_COUNTRY_CODES)
)


def normalize_company_url(raw: str) -> str:
    """Canonicalise a company page URL per the contract, or raise a field error."""
    match = _COMPANY_URL_RE.fullmatch(raw)
    if match and match.group(1) is not None:
        # The pattern admits only escapes of valid UTF-8, so this cannot fail.
        vanity = unquote(match.group(1), errors="strict").lower()
        # Checked as stored: lower-casing can grow a name ("İ" is two code points).
        if len(vanity) > MAX_VANITY:
            raise PydanticCustomError(
                "invalid_company_url",
                f"the company's name is over {MAX_VANITY} characters once lower-cased",
            )
        return f"https://www.linkedin.com/company/{vanity}"
    if match:
        return f"https://www.linkedin.com/sales/company/{match.group(2)}"
    raise PydanticCustomError(
        "invalid_company_url",
        "must be a LinkedIn company page URL such as "
        "'https://www.linkedin.com/company/stripe' or "
        "'https://www.linkedin.com/sales/company/2135371'",
    )


def normalize_country(raw: str) -> str:
    code = raw.upper()
    # ASCII only, as the published pattern: "ıd".upper() is "ID".
    if not raw.isascii() or code not in supported_countries():
        hint = MISTAKEN_CODES.get(code, "an ISO 3166-1 alpha-2 code that LinkedIn has a geo id for")
        raise PydanticCustomError(
            "unsupported_country",
            "unsupported country '{country}': use {hint}",
            {"country": raw, "hint": hint},
        )
    return code


def _one_of(name: str, canonical: Callable[[str], str | None]) -> Callable[[str], str]:
    """A closed-list filter's check, failing in the original's message form."""

    def check(raw: str) -> str:
        value = canonical(raw)
        if value is None:
            raise PydanticCustomError(
                "invalid_choice",
                "validation failed for '{filter}': invalid value: {value}",
                {"filter": name, "value": raw},
            )
        return value

    return check


def _dedupe(values: list[str] | None) -> list[str] | None:
    return list(dict.fromkeys(values)) if values is not None else None


ListName = Annotated[str, Trimmed(200)]
JobTitle = Annotated[str, Trimmed(100)]
Keywords = Annotated[str, Trimmed(300, min_length=0)]
CompanyUrl = Annotated[
    str,
    Field(max_length=2048, json_schema_extra={"pattern": COMPANY_URL_PATTERN}),
    AfterValidator(normalize_company_url),
]
CountryCode = Annotated[
    str,
    # The codes as a list too: a JSON Schema `enum` would refuse the lower case the API takes.
    Field(json_schema_extra={"pattern": _COUNTRY_PATTERN, "x-enum": list(SUPPORTED_COUNTRY_CODES)}),
    AfterValidator(normalize_country),
]

Department = Annotated[
    str,
    Field(json_schema_extra={"pattern": any_case_pattern(DEPARTMENT_IDS)}),
    AfterValidator(_one_of("departments", canonical_department)),
]
SeniorityLevel = Annotated[
    str,
    Field(json_schema_extra={"pattern": any_case_pattern(SENIORITY_FACET_IDS)}),
    AfterValidator(_one_of("seniorityLevels", canonical_seniority)),
]


# MISSING_FILTER in the schema: a non-empty `jobTitles` or `countries`, or
# `keywords` with something besides white space and invisible characters.
_A_FILTER_IS_REQUIRED: list[JsonValue] = [
    {"required": ["jobTitles"], "properties": {"jobTitles": {"type": "array", "minItems": 1}}},
    {
        "required": ["keywords"],
        "properties": {"keywords": {"type": "string", "pattern": f"[^{TRIMMED_CLASS}]"}},
    },
    {"required": ["countries"], "properties": {"countries": {"type": "array", "minItems": 1}}},
]


class SearchFilters(InputModel):
    """The filters a lead search takes, each optional (a list's and a preview's)."""

    company_linked_in_urls: Annotated[
        list[CompanyUrl] | None,
        Field(max_length=10, alias="companyLinkedInUrls"),
        AfterValidator(_dedupe),
    ] = None
    job_titles: Annotated[list[JobTitle] | None, Field(max_length=25)] = None
    keywords: Keywords | None = None
    countries: Annotated[
        list[CountryCode] | None, Field(max_length=50), AfterValidator(_dedupe)
    ] = None
    departments: Annotated[
        list[Department] | None, Field(max_length=26), AfterValidator(_dedupe)
    ] = None
    seniority_levels: Annotated[
        list[SeniorityLevel] | None, Field(max_length=10), AfterValidator(_dedupe)
    ] = None

    def lead_query(self, first_name: str | None = None, last_name: str | None = None) -> LeadQuery:
        return LeadQuery(
            company_urls=tuple(self.company_linked_in_urls or ()),
            job_titles=tuple(self.job_titles or ()),
            keywords=self.keywords or None,
            countries=tuple(self.countries or ()),
            departments=tuple(self.departments or ()),
            seniority_levels=tuple(self.seniority_levels or ()),
            first_name=first_name or None,
            last_name=last_name or None,
        )

    def echo(self) -> dict[str, Any]:
        """The filters as stored and returned: unsupplied or blank ones omitted."""
        out: dict[str, Any] = {}
        for name, field in SearchFilters.model_fields.items():
            value = getattr(self, name)
            if value:
                out[field.alias or name] = value
        return out


class ListFilters(SearchFilters):
    """Search filters stored on a contact list."""

    model_config = ConfigDict(json_schema_extra={"anyOf": _A_FILTER_IS_REQUIRED})

    company_linked_in_urls: Annotated[
        list[CompanyUrl],
        Field(min_length=1, max_length=10, alias="companyLinkedInUrls"),
        AfterValidator(_dedupe),
    ]

    @model_validator(mode="after")
    def _require_a_filter(self) -> ListFilters:
        if not (self.job_titles or self.keywords or self.countries):
            raise PydanticCustomError("missing_filter", MISSING_FILTER_MESSAGE)
        return self


class ListCreate(InputModel):
    name: ListName = Field(description="Display name for the contact list")
    filters: ListFilters


class ListRename(InputModel):
    name: ListName = Field(description="New display name for the contact list")


class FiltersOut(WireModel):
    company_linked_in_urls: list[str] = Field(alias="companyLinkedInUrls")
    job_titles: list[str] | None = None
    keywords: str | None = None
    countries: list[str] | None = None
    departments: list[str] | None = None
    seniority_levels: list[str] | None = None


class ContactListOut(WireModel):
    id: str
    name: str
    filters: FiltersOut
    contact_count: int
    provider: Literal["linkedin", "sandbox"]
    refreshed_from: str | None = Field(description="The list this one refreshed; null if none.")
    created_at: str = Field(examples=["2026-03-03T12:00:00Z"])
    updated_at: str = Field(examples=["2026-03-03T12:00:00Z"])


def columns_model(name: str, columns: Sequence[Column]) -> Any:
    """A wire model generated from columns, so a type only at run time."""
    return create_model(
        name,
        __base__=WireModel,
        **{  # type: ignore[call-overload]
            to_snake(column.wire): (column.annotation, Field(alias=column.wire))
            for column in columns
        },
    )


# The contact on the wire, generated from its columns (`columns.CONTACT_COLUMNS`).
ContactOut: Any = columns_model("ContactOut", CONTACT_COLUMNS)


class ListPage(WireModel):
    items: list[ContactListOut]
    total: int
    limit: int
    offset: int
    has_more: bool


class ContactPage(WireModel):
    items: list[ContactOut]
    total: int
    limit: int
    offset: int
    has_more: bool
