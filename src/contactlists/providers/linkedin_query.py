"""Sales Navigator's wire format: the lead-search query blob and the replies.

Pure functions with no I/O, unit-tested on recorded-shape fixtures. What is
known of the format, with sources, is in `shared/design/sales-navigator.md`.

The `query` parameter is Rest.li protocol 2.0:
`(spellCorrectionEnabled:true,keywords:<text>,filters:List((type:T,values:List((id:..,text:..,selectionType:INCLUDED)))))`.
The structure — `( ) , :` and `List(` — stays literal and every leaf value is
percent-encoded once (a urn's colons become `%3A`, a space `%20`), because
LinkedIn splits on the structural characters before it decodes the leaves. A
generic URL encoder would escape the structure too and break the blob.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson

from contactlists.providers.base import Lead, LeadPage, LeadQuery
from contactlists.providers.countries import supported_countries
from contactlists.providers.facets import DEPARTMENT_IDS, seniority_facet_ids
from contactlists.providers.seniority import SALES_NAVIGATOR_SENIORITY_IDS

SEARCH_PATH = "/sales-api/salesApiLeadSearch"
IDENTITY_PATH = "/voyager/api/me"
LICENSES_PATH = "/sales-api/salesApiIdentity"
CONTRACT_SELECTION_PATH = "/sales-api/salesApiAgnosticAuthentication"
COMPANY_LOOKUP_PATH = "/voyager/api/organization/companies"
COMPANY_DECORATION = "com.linkedin.voyager.deco.organization.web.WebFullCompanyMain-12"
PUBLIC_PROFILE_URL = "https://www.linkedin.com/in/"

_NUMERIC_COMPANY = re.compile(r"https://www\.linkedin\.com/(?:sales/)?company/([0-9]+)")
_VANITY_COMPANY = re.compile(r"https://www\.linkedin\.com/company/(.+)")
# urn:li:fs_salesProfile:(<profileId>,<authType>,<authToken>)
_PROFILE_URN = re.compile(r"urn:li:fs_salesProfile:\(([^,()]+)(?:,[^()]*)?\)")
_TRAILING_ID = re.compile(r":([0-9]+)$")


class MalformedResponse(ValueError):
    """A reply that is not the documented shape."""


def numeric_company_id(company_url: str) -> str | None:
    """The id in a normalised company URL that already carries one."""
    match = _NUMERIC_COMPANY.fullmatch(company_url)
    return match.group(1) if match else None


def universal_name(company_url: str) -> str:
    """The vanity name of a normalised `/company/<vanity>` URL."""
    match = _VANITY_COMPANY.fullmatch(company_url)
    if match is None:
        raise ValueError(f"not a normalised company page URL: {company_url!r}")
    return match.group(1)


def encode_leaf(value: str) -> str:
    return quote(value, safe="")


def _value(*, id: str | None = None, text: str | None = None) -> str:
    parts = [f"id:{encode_leaf(id)}"] if id is not None else []
    if text is not None:
        parts.append(f"text:{encode_leaf(text)}")
    parts.append("selectionType:INCLUDED")
    return "(" + ",".join(parts) + ")"


def _filter(filter_type: str, values: Sequence[str]) -> str:
    return f"(type:{filter_type},values:List({','.join(values)}))"


def build_query(query: LeadQuery, company_ids: Sequence[str]) -> str:
    """The `query=` blob: companies as organization urns, titles as free text,
    countries as REGION geo ids, departments and seniorities as FUNCTION and
    SENIORITY_LEVEL ids, names as free text, keywords at the top level."""
    filters = []
    if company_ids:
        companies = [_value(id=f"urn:li:organization:{c}") for c in dict.fromkeys(company_ids)]
        filters.append(_filter("CURRENT_COMPANY", companies))
    if query.job_titles:
        filters.append(_filter("CURRENT_TITLE", [_value(text=t) for t in query.job_titles]))
    if query.countries:
        countries = supported_countries()
        regions = [countries[code] for code in query.countries]
        filters.append(_filter("REGION", [_value(id=c.geo_id, text=c.name) for c in regions]))
    if query.departments:
        functions = [_value(id=str(DEPARTMENT_IDS[d]), text=d) for d in query.departments]
        filters.append(_filter("FUNCTION", functions))
    if query.seniority_levels:
        levels = seniority_facet_ids(query.seniority_levels)
        filters.append(_filter("SENIORITY_LEVEL", [_value(id=str(i)) for i in levels]))
    for facet, name in (("FIRST_NAME", query.first_name), ("LAST_NAME", query.last_name)):
        if name:
            filters.append(_filter(facet, [_value(text=name)]))
    parts = ["spellCorrectionEnabled:true"]
    if query.keywords:
        parts.append(f"keywords:{encode_leaf(query.keywords)}")
    parts.append(f"filters:List({','.join(filters)})")
    return "(" + ",".join(parts) + ")"


def search_query_string(blob: str, start: int, count: int, decoration: str) -> str:
    return f"q=searchQuery&query={blob}&start={start}&count={count}&decorationId={decoration}"


def company_lookup_query_string(name: str) -> str:
    return f"q=universalName&universalName={encode_leaf(name)}&decorationId={COMPANY_DECORATION}"


def _text(source: Mapping[str, Any], key: str) -> str | None:
    value = source.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _current_position(positions: Any) -> Mapping[str, Any]:
    """The position marked current, else the first one listed."""
    if not isinstance(positions, list):
        return {}
    entries = [p for p in positions if isinstance(p, Mapping)]
    return next((p for p in entries if p.get("current") is True), entries[0] if entries else {})


def _names(
    element: Mapping[str, Any], nested: Mapping[str, Any]
) -> tuple[str | None, str | None, str | None]:
    first = _text(element, "firstName") or _text(nested, "firstName")
    last = _text(element, "lastName") or _text(nested, "lastName")
    full = _text(element, "fullName") or _text(_mapping(element.get("leadName")), "text")
    if full is None and (first or last):
        full = " ".join(n for n in (first, last) if n)
    if first is None and last is None and full:
        head, _, tail = full.partition(" ")
        first, last = head, tail.strip() or None
    return first, last, full


def _lead(element: Any) -> Lead:
    """One lead from either documented shape: the flat one (`geoRegion`,
    `currentPositions`) or the one nested under `entityUrnResolutionResult`."""
    if not isinstance(element, Mapping):
        raise MalformedResponse("a lead is not an object")
    urn = element.get("entityUrn")
    match = _PROFILE_URN.fullmatch(urn) if isinstance(urn, str) else None
    if match is None:
        raise MalformedResponse("a lead has no sales profile entityUrn")
    profile_id = match.group(1)
    nested = _mapping(element.get("entityUrnResolutionResult"))
    first, last, full = _names(element, nested)
    position = _current_position(element.get("currentPositions") or nested.get("positions"))
    company = _text(position, "companyName") or _text(
        _mapping(position.get("companyUrnResolutionResult")), "name"
    )
    flagship = _text(element, "flagshipProfileUrl")
    return Lead(
        seniority_ids=_seniority_ids(element.get("seniorityV2s")),
        profile_id=profile_id,
        profile_urn=urn,
        first_name=first,
        last_name=last,
        full_name=full,
        title=_text(position, "title"),
        company_name=company,
        location=_text(element, "geoRegion") or _text(nested, "location"),
        headline=_text(element, "headline"),
        public_profile_url=flagship
        if flagship and flagship.startswith(PUBLIC_PROFILE_URL)
        else PUBLIC_PROFILE_URL + profile_id,
    )


def _seniority_ids(levels: Any) -> tuple[int, ...] | None:
    """LinkedIn's own seniority (`seniorityV2s`, e.g. `[{"id": 320, "displayName":
    "Owner / Partner"}]`) as facet ids; None when the result carries none."""
    if not isinstance(levels, list):
        return None
    ids = [
        level["id"]
        for level in levels
        if isinstance(level, Mapping) and level.get("id") in SALES_NAVIGATOR_SENIORITY_IDS
    ]
    return tuple(ids) if ids else None


def parse_lead_page(payload: Any) -> LeadPage:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("elements"), list):
        raise MalformedResponse("the reply has no 'elements' list")
    total = _mapping(payload.get("paging")).get("total")
    return LeadPage(
        leads=tuple(_lead(element) for element in payload["elements"]),
        total=total if isinstance(total, int) else None,
    )


def parse_company_id(payload: Any) -> str | None:
    """The organization id from a lookup by universal name; `None` if it found nothing.

    Reads `elements[0].entityUrn`, or `data['*elements'][0]` in the normalised
    variant; either urn ends in the numeric id.
    """
    if not isinstance(payload, Mapping):
        raise MalformedResponse("the company lookup reply is not an object")
    elements = payload.get("elements")
    normalised = _mapping(payload.get("data")).get("*elements")
    if isinstance(elements, list):
        urns = [_mapping(e).get("entityUrn") for e in elements]
    elif isinstance(normalised, list):
        urns = normalised
    else:
        raise MalformedResponse("the company lookup reply lists no elements")
    if not urns:
        return None
    match = _TRAILING_ID.search(urns[0]) if isinstance(urns[0], str) else None
    if match is None:
        raise MalformedResponse("the company lookup reply has no company urn")
    return match.group(1)


@dataclass(frozen=True, slots=True)
class Member:
    """The connected LinkedIn member, as `/me` names them."""

    name: str | None
    public_identifier: str | None


@dataclass(frozen=True, slots=True)
class Contract:
    """One Sales Navigator contract of the member, as `salesApiIdentity` lists it;
    `identity` goes back verbatim when the contract is selected."""

    name: str
    identity: Mapping[str, Any]


def parse_member(payload: Any) -> Member:
    """`/me`: the names and public identifier in `miniProfile` (or at the top)."""
    if not isinstance(payload, Mapping):
        raise MalformedResponse("the identity reply is not an object")
    profile = _mapping(payload.get("miniProfile")) or payload
    first, last = _text(profile, "firstName"), _text(profile, "lastName")
    name = " ".join(part for part in (first, last) if part) or None
    return Member(name=name, public_identifier=_text(profile, "publicIdentifier"))


def parse_contracts(payload: Any) -> list[Contract]:
    """`salesApiIdentity?q=findLicensesByCurrentMember`: one element per contract
    the member holds a seat in, each with its `name` and `agnosticIdentity`."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("elements"), list):
        raise MalformedResponse("the seat reply has no 'elements' list")
    contracts = []
    for element in payload["elements"]:
        if not isinstance(element, Mapping) or not isinstance(
            element.get("agnosticIdentity"), Mapping
        ):
            raise MalformedResponse("a seat has no agnosticIdentity")
        contracts.append(
            Contract(name=_text(element, "name") or "Sales Navigator", identity=element)
        )
    return contracts


def contract_selection_body(contract: Contract) -> bytes:
    """What the contract chooser posts to `salesApiAgnosticAuthentication`."""
    return orjson.dumps(
        {
            "viewerDeviceType": "DESKTOP",
            "name": contract.name,
            "identity": {
                "agnosticIdentity": contract.identity["agnosticIdentity"],
                "name": contract.name,
            },
        }
    )
