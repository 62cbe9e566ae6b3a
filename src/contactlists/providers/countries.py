"""The countries a search may filter on, and their LinkedIn geo ids.

The contract supports exactly the ISO 3166-1 alpha-2 codes that have a known
LinkedIn geo id, for every provider, so one shipped table (see
`contactlists/data/PROVENANCE.md`) decides both what the API accepts and what
the LinkedIn provider sends. It is read once per process.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType

_DATA_FILE = "linkedin-country-geo-ids.csv"
_CODE = re.compile(r"[A-Z]{2}")
_GEO_ID = re.compile(r"[0-9]+")
# Codes people reach for that ISO 3166-1 does not give that country: what to use.
MISTAKEN_CODES: Mapping[str, str] = MappingProxyType(
    {"UK": "GB, the United Kingdom's ISO code", "EL": "GR, Greece's ISO code"}
)


@dataclass(frozen=True, slots=True)
class Country:
    """One supported country; `geo_id` is opaque to us, hence a string."""

    code: str
    name: str
    geo_id: str


@cache
def supported_countries() -> Mapping[str, Country]:
    """Every supported country keyed by upper-case ISO2 code (read-only)."""
    text = (files("contactlists") / "data" / _DATA_FILE).read_text(encoding="utf-8")
    countries: dict[str, Country] = {}
    for row in csv.DictReader(io.StringIO(text)):
        country = Country(
            code=row["iso2"].strip(),
            name=row["name"].strip(),
            geo_id=row["linkedin_geo_id"].strip(),
        )
        # A broken shipped file must stop the process, not silently drop a country.
        if not _CODE.fullmatch(country.code) or not _GEO_ID.fullmatch(country.geo_id):
            raise ValueError(f"{_DATA_FILE}: malformed row {row!r}")
        if country.code in countries:
            raise ValueError(f"{_DATA_FILE}: duplicate country code {country.code}")
        countries[country.code] = country
    return MappingProxyType(countries)


SUPPORTED_COUNTRY_CODES: tuple[str, ...] = tuple(sorted(supported_countries()))
