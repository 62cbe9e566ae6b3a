"""The Rest.li query builder and the reply parsers, on recorded-shape fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from contactlists.providers.base import Lead, LeadQuery
from contactlists.providers.linkedin_query import (
    MalformedResponse,
    build_query,
    company_lookup_query_string,
    encode_leaf,
    numeric_company_id,
    parse_company_id,
    parse_lead_page,
    search_query_string,
    universal_name,
)
from tests.fakes.linkedin_server import DECORATION, parse_restli

FIXTURES = Path(__file__).parent / "fixtures"
STRIPE = "https://www.linkedin.com/company/stripe"


def fixture(name: str) -> Any:
    return orjson.loads((FIXTURES / name).read_bytes())


class TestQueryBuilder:
    def test_full_query_is_the_documented_grammar(self) -> None:
        query = LeadQuery(
            company_urls=(STRIPE,),
            job_titles=("Engineering Manager",),
            keywords="payments",
            countries=("US",),
        )
        assert build_query(query, ["2135371"]) == (
            "(spellCorrectionEnabled:true,keywords:payments,filters:List("
            "(type:CURRENT_COMPANY,values:List("
            "(id:urn%3Ali%3Aorganization%3A2135371,selectionType:INCLUDED))),"
            "(type:CURRENT_TITLE,values:List("
            "(text:Engineering%20Manager,selectionType:INCLUDED))),"
            "(type:REGION,values:List("
            "(id:103644278,text:United%20States,selectionType:INCLUDED)))))"
        )

    def test_unsupplied_filters_are_left_out(self) -> None:
        blob = build_query(LeadQuery(company_urls=(STRIPE,), countries=("GB",)), ["1"])
        assert "keywords" not in blob
        assert "CURRENT_TITLE" not in blob
        assert "(id:101165590,text:United%20Kingdom,selectionType:INCLUDED)" in blob

    def test_structural_characters_in_leaves_are_encoded_once(self) -> None:
        query = LeadQuery(
            company_urls=(STRIPE,),
            job_titles=("VP, Sales (EMEA): 100%",),
            keywords="C++ & 'Rust' é",
        )
        blob = build_query(query, ["5"])
        assert "text:VP%2C%20Sales%20%28EMEA%29%3A%20100%25," in blob
        assert "keywords:C%2B%2B%20%26%20%27Rust%27%20%C3%A9," in blob
        parsed = parse_restli(blob)
        assert parsed["keywords"] == "C++ & 'Rust' é"
        assert parsed["filters"][1]["values"][0]["text"] == "VP, Sales (EMEA): 100%"

    def test_company_ids_are_deduplicated_in_order(self) -> None:
        blob = build_query(LeadQuery(company_urls=(STRIPE,), keywords="x"), ["9", "3", "9"])
        companies = parse_restli(blob)["filters"][0]["values"]
        assert [v["id"] for v in companies] == ["urn:li:organization:9", "urn:li:organization:3"]

    def test_request_query_strings(self) -> None:
        assert search_query_string("(x:y)", 50, 25, f"{DECORATION}14") == (
            "q=searchQuery&query=(x:y)&start=50&count=25"
            "&decorationId=com.linkedin.sales.deco.desktop.searchv2.LeadSearchResult-14"
        )
        assert company_lookup_query_string("ben&jerry's").startswith(
            "q=universalName&universalName=ben%26jerry%27s&decorationId="
        )
        assert encode_leaf("a b") == "a%20b"

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("https://www.linkedin.com/company/2135371", "2135371"),
            ("https://www.linkedin.com/sales/company/2135371", "2135371"),
            (STRIPE, None),
            ("https://www.linkedin.com/company/3m", None),
        ],
    )
    def test_numeric_company_ids(self, url: str, expected: str | None) -> None:
        assert numeric_company_id(url) == expected

    def test_universal_name(self) -> None:
        assert universal_name("https://www.linkedin.com/company/ben-&-jerry's") == "ben-&-jerry's"
        with pytest.raises(ValueError, match="not a normalised"):
            universal_name("https://www.linkedin.com/sales/company/1")


class TestLeadPageParser:
    def test_flat_shape(self) -> None:
        page = parse_lead_page(fixture("linkedin_lead_search_flat.json"))
        assert page.total == 2500
        ada, grace, alan = page.leads
        assert ada == Lead(
            profile_id="ACwAAABOW1gBxyz123",
            profile_urn="urn:li:fs_salesProfile:(ACwAAABOW1gBxyz123,NAME_SEARCH,c7Pq)",
            first_name="Ada",
            last_name="Byron",
            full_name="Ada Byron",
            title="Engineering Manager",
            company_name="Stripe",
            location="London, England, United Kingdom",
            headline=None,
            public_profile_url="https://www.linkedin.com/in/ACwAAABOW1gBxyz123",
        )
        # Only a full name: split for the first name; a blank location is absent.
        assert (grace.first_name, grace.last_name) == ("Grace", "Brewster Hopper")
        assert grace.company_name == "Cobol Works"
        assert grace.title == "Founder & CEO"
        assert grace.location is None
        assert grace.public_profile_url == "https://www.linkedin.com/in/grace-hopper"
        assert (alan.first_name, alan.last_name, alan.full_name) == ("Alan", None, "Alan")
        assert (alan.title, alan.company_name) == (None, None)

    def test_nested_shape(self) -> None:
        page = parse_lead_page(fixture("linkedin_lead_search_nested.json"))
        katherine, marie = page.leads
        assert katherine.profile_id == "ACwAAAnested01"
        assert katherine.full_name == "Katherine Johnson"
        assert katherine.title == "VP of Research"
        assert katherine.company_name == "NACA"
        assert katherine.location == "Hampton, Virginia, United States"
        assert (marie.first_name, marie.last_name) == ("Marie", "Curie")
        assert marie.location == "Paris, Île-de-France, France"
        assert marie.title is None

    @pytest.mark.parametrize(
        "payload",
        [
            [],
            {"paging": {}},
            {"elements": {}},
            {"elements": ["x"]},
            {"elements": [{"firstName": "No urn"}]},
            {"elements": [{"entityUrn": "urn:li:member:1"}]},
        ],
    )
    def test_malformed_replies(self, payload: Any) -> None:
        with pytest.raises(MalformedResponse):
            parse_lead_page(payload)

    def test_empty_page(self) -> None:
        page = parse_lead_page({"elements": [], "paging": {"total": 0}})
        assert page.leads == ()
        assert page.total == 0


class TestCompanyLookupParser:
    def test_elements_shape(self) -> None:
        assert parse_company_id(fixture("linkedin_company_lookup.json")) == "2135371"

    def test_normalized_shape(self) -> None:
        assert parse_company_id(fixture("linkedin_company_lookup_normalized.json")) == "1441"

    def test_no_match(self) -> None:
        assert parse_company_id({"elements": []}) is None
        assert parse_company_id({"data": {"*elements": []}}) is None

    @pytest.mark.parametrize(
        "payload", [[], {}, {"elements": [{"entityUrn": "urn:li:company:x"}]}, {"data": {}}]
    )
    def test_malformed(self, payload: Any) -> None:
        with pytest.raises(MalformedResponse):
            parse_company_id(payload)
