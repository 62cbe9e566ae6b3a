"""The offline sandbox: deterministic synthetic people, and companies that fail on demand.

A company's population is a pure function of its id (the last segment of its
normalised URL): names come from Faker pools seeded per locale, titles from the
taxonomy in `sandbox_titles`, countries from the supported-country table, so the same search
always returns the same people (for a given Faker version). Filters really
filter, so demos and tests behave like a real search. Companies people search
for (`KNOWN_COMPANIES`) have their real headcount and home country (Stripe
8,000, Google 180,000); any other name gets a size from its hash: about 5% are
empty and sizes spread log-uniformly up to 600, so every list size up to the
125-lead cap occurs.

A company is never held whole: people are generated in chunks of
`CHUNK` (a pure function of the company and the chunk's number), and a search
scans chunks only until it has LinkedIn's 2,500 results or has looked at
`SCAN_LIMIT` people, extrapolating the total from what it saw past that (as
LinkedIn's own counts are estimates). Chunks and results share one cache
bounded by bytes (`CACHE_BYTES`). `_chunk` is the one place ordinary people
come from: what changes them (a clock) hooks in there.

Magic company ids, like a payment sandbox's test cards (also in the README):

- ``sandbox-upstream-error[-page-N]`` → UpstreamError,
  ``sandbox-rate-limited[-page-N]`` → UpstreamRateLimited(retry_after_s=30),
  ``sandbox-session-expired[-page-N]`` → SessionExpired,
  ``sandbox-timeout[-page-N]`` → UpstreamTimeout,
  ``sandbox-unknown-company[-page-N]`` → UnknownCompany(company_url=<its URL in
  the query>); raised on page N (1-5, default 1: the fetch whose start is
  (N-1)*count) and every later page; the pages before it are full, everyone on
  them matching the query.
- ``sandbox-exact-N`` (N 0-500) → exactly N people, all matching the query:
  the first requested job title is their title, their country is one of the
  requested countries, the keywords are in their headline.
- ``sandbox-duplicates`` → 40 people matching the query, served as 45 results:
  page 2 (of 25) repeats the last 5 people of page 1.

Anything else, ``sandbox-`` prefix or not, is an ordinary company.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import random
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import accumulate, chain, zip_longest
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from contactlists.providers import sandbox_time
from contactlists.providers.base import (
    MAX_PAGES,
    PAGE_SIZE,
    Lead,
    LeadPage,
    LeadQuery,
    ProviderError,
    SessionExpired,
    UnknownCompany,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from contactlists.providers.countries import supported_countries
from contactlists.providers.sandbox_titles import draw_role, pick
from contactlists.providers.seniority import seniority_from_title

if TYPE_CHECKING:
    from faker import Faker

T = TypeVar("T")

MAX_POPULATION = 600  # of a company not in KNOWN_COMPANIES
# People generated at a time: at least MAX_POPULATION, so a company of ordinary
# size is one chunk, the same people as when companies were generated whole.
CHUNK = 1000
SCAN_LIMIT = 20_000  # people a search looks at per company (~0.2 s), then extrapolates
RESULT_CAP = 2500  # LinkedIn serves and counts no more
# Headcount on LinkedIn (rounded) and home country of companies people search for.
KNOWN_COMPANIES: dict[str, tuple[int, str]] = {
    "stripe": (8_000, "US"), "google": (180_000, "US"), "microsoft": (220_000, "US"),
    "amazon": (750_000, "US"), "apple": (160_000, "US"), "meta": (85_000, "US"),
    "salesforce": (75_000, "US"), "ibm": (300_000, "US"), "linkedin": (20_000, "US"),
    "uber-com": (35_000, "US"), "airbnb": (7_000, "US"), "openai": (3_000, "US"),
    "datadog": (6_000, "US"), "figma": (1_500, "US"), "shopify": (11_000, "CA"),
    "spotify": (9_000, "SE"), "klarna": (5_000, "SE"), "sap": (110_000, "DE"),
    "revolut": (10_000, "GB"), "deepmind": (2_500, "GB"), "atlassian": (12_000, "AU"),
}  # fmt: skip
_EMPTY_SHARE = 0.05
_HOME_SHARE = 0.6  # people working in the company's home country
_MISSING_SHARE = 0.03  # per field: last name, location
_NO_PUBLIC_URL_SHARE = 0.1
_POOL_SIZE = 300
_DUPLICATES_SIZE = 40
_DUPLICATES_REPEATED = 5
_EXACT_MAX = 500

# Latin-script locales only: LinkedIn shows most members' names in Latin script.
_LOCALES = {
    "US": "en_US", "IN": "en_IN", "GB": "en_GB", "DE": "de_DE", "FR": "fr_FR", "CA": "en_CA",
    "BR": "pt_BR", "AU": "en_AU", "NL": "nl_NL", "ES": "es_ES", "IT": "it_IT", "MX": "es_MX",
    "SE": "sv_SE", "PL": "pl_PL", "IE": "en_IE", "CH": "de_CH", "AT": "de_AT", "BE": "nl_BE",
    "DK": "da_DK", "NO": "no_NO", "FI": "fi_FI", "PT": "pt_PT", "AR": "es_AR", "CO": "es_CO",
    "CL": "es_CL", "NZ": "en_NZ", "CZ": "cs_CZ", "RO": "ro_RO", "PH": "en_PH", "ID": "id_ID",
}  # fmt: skip
_FALLBACK_LOCALE = "en_US"
# Faker builds these locales' city lists from a set, so a seeded draw from them
# changes with PYTHONHASHSEED; their people get a region but no city.
_UNORDERED_CITY_LOCALES = frozenset({"it_IT"})
_FAKER_PROVIDERS = ["faker.providers.person", "faker.providers.address", "faker.providers.company"]
_COUNTRY_WEIGHTS = {
    "US": 30, "IN": 10, "GB": 8, "DE": 6, "FR": 5, "CA": 5, "BR": 5, "AU": 3, "NL": 3,
    "ES": 3, "IT": 2, "MX": 2, "SE": 1.5, "PL": 1.5, "IE": 1, "CH": 1, "SG": 1, "AE": 1,
    "IL": 1, "JP": 1, "BE": 1, "DK": 0.8, "NO": 0.6, "FI": 0.6, "AT": 0.8, "PT": 0.8,
    "AR": 0.8, "CO": 0.8, "CL": 0.6, "NZ": 0.6, "CZ": 0.5, "RO": 0.5, "PH": 0.8, "ID": 0.8,
}  # fmt: skip
_OTHER_COUNTRY_WEIGHT = 0.05

_MAGIC = re.compile(
    r"sandbox-(?:(?P<failure>upstream-error|rate-limited|session-expired|timeout|unknown-company)"
    r"(?:-page-(?P<page>[1-5]))?|exact-(?P<exact>[0-9]|[1-9][0-9]{1,2})|duplicates)"
)
# Each takes the failing company's URL as given in the query.
_FAILURES: dict[str, Callable[[str], ProviderError]] = {
    "upstream-error": lambda _: UpstreamError("sandbox: simulated upstream failure"),
    "rate-limited": lambda _: UpstreamRateLimited(retry_after_s=30),
    "session-expired": lambda _: SessionExpired(
        "SESSION_ENDED", "sandbox: simulated expired session"
    ),
    "timeout": lambda _: UpstreamTimeout("sandbox: simulated timeout"),
    "unknown-company": lambda url: UnknownCompany(company_url=url),
}


@dataclass(frozen=True, slots=True)
class _Magic:
    failure: str | None = None  # a key of _FAILURES
    failing_page: int = 1
    size: int | None = None  # people built to match the query; None: ordinary population
    duplicates: bool = False


@dataclass(frozen=True, slots=True)
class SandboxPerson:
    """One synthetic member; unlike a `Lead`, it knows its country code."""

    profile_id: str
    first_name: str
    last_name: str | None
    title: str
    department: str  # Sales Navigator's FUNCTION name
    headline: str
    company_name: str
    country_code: str
    location: str | None
    public_profile_url: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass(frozen=True, slots=True)
class _Pool:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    places: tuple[tuple[str | None, str | None], ...]


@dataclass(frozen=True, slots=True)
class _Overrides:
    """What a magic company's people must carry so that they match the query."""

    title: str | None
    countries: tuple[str, ...]
    keywords: str | None

    @classmethod
    def of(cls, query: LeadQuery) -> _Overrides:
        title = next((t.strip() for t in query.job_titles if t.strip()), None)
        return cls(title, tuple(sorted(set(query.countries))), query.keywords)


class SandboxProvider:
    """A `LeadSearchProvider` that never leaves the process."""

    name = "sandbox"

    def __init__(self, latency_ms: int = 0, time_shift_days: int | None = None) -> None:
        if latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        self._latency_s = latency_ms / 1000
        # The clock's month, read once so that a search's pages agree (a provider
        # serves one search). None: no clock, the people as generated.
        shift = time_shift_days
        self._month = 0 if shift is None else sandbox_time.sandbox_month(shift)

    async def fetch_page(self, query: LeadQuery, start: int, count: int) -> LeadPage:
        if start < 0 or count < 1:
            raise ValueError(f"bad page window start={start} count={count}")
        if self._latency_s > 0:
            await asyncio.sleep(self._latency_s)
        for url, company_id in _companies(query).items():
            magic = _magic(company_id)
            if magic is not None and magic.failure and start >= (magic.failing_page - 1) * count:
                raise _FAILURES[magic.failure](url)
        people, total = _results(query, self._month)
        search = hashlib.sha256(repr(query).encode()).digest()
        leads = tuple(_lead(person, search) for person in people[start : start + count])
        return LeadPage(leads, total=min(total, RESULT_CAP))


# What one generated person costs the process, measured with tracemalloc
# (17,937 people of 200 companies: 1.15 kB each, their strings included), and
# what the generated people and results kept for reuse may cost in all. Free
# test keys choose the companies, so the bound is in bytes: 4,096 companies
# once held about 189 MB.
PERSON_BYTES = 1200
CACHE_BYTES = 32 * 1024 * 1024


class _BytesBoundedCache:
    """Least-recently-used values, up to `max_bytes` at `PERSON_BYTES` a person they hold."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[object, tuple[Any, int]] = OrderedDict()

    def get(self, key: object, make: Callable[[], T], people: Callable[[T], int]) -> T:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            value: T = found[0]
            return value
        made = make()
        # Results share their people with chunks; counting them twice errs safe.
        cost = 64 + people(made) * PERSON_BYTES
        if cost <= self.max_bytes:
            self._entries[key] = (made, cost)
            self.bytes += cost
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.bytes -= evicted
        return made


_CACHE = _BytesBoundedCache(CACHE_BYTES)


def company_size(company_id: str) -> int:
    """How many people an ordinary company employs (magic companies build theirs per query)."""
    known = KNOWN_COMPANIES.get(company_id)
    if known is not None:
        return known[0]
    rng = random.Random(_seed("population", company_id))  # noqa: S311 - synthetic data
    if rng.random() < _EMPTY_SHARE:
        return 0
    return round(math.exp(rng.uniform(0, math.log(MAX_POPULATION))))


def company_population(company_id: str, month: int = 0) -> tuple[SandboxPerson, ...]:
    """Everyone an ordinary company employs in the sandbox clock's `month`, whole:
    for tests and small companies."""
    chunks = range(math.ceil(company_size(company_id) / CHUNK))
    return tuple(chain.from_iterable(_chunk(company_id, number, month) for number in chunks))


def _chunk(company_id: str, number: int, month: int = 0) -> tuple[SandboxPerson, ...]:
    """People `number * CHUNK` onwards of an ordinary company in the clock's
    `month`, kept while the cache allows.

    Time passes chunk by chunk (`sandbox_time`): anyone may leave or change
    title, and new people join at the company's last chunk, whose indices run
    on past its headcount; so a one-chunk company (every one not in
    `KNOWN_COMPANIES`) ages exactly as a whole.
    """
    size = min(CHUNK, company_size(company_id) - number * CHUNK)
    if month <= 0:
        key: tuple[object, ...] = ("chunk", company_id, number)
        return _CACHE.get(key, lambda: _generate(company_id, size, None, number), len)
    people = _chunk(company_id, number)
    last = number == math.ceil(company_size(company_id) / CHUNK) - 1

    def hire(count: int) -> tuple[SandboxPerson, ...]:
        return _generate(company_id, count, None, number) if last else people

    key = ("chunk", company_id, number, month)
    return _CACHE.get(key, lambda: sandbox_time.as_of(company_id, people, month, hire), len)


def company_display_name(company_id: str) -> str:
    """`stripe` → "Stripe"; a numeric id gets a Faker company name seeded by it."""
    if company_id.isdigit():
        fake = _faker(_FALLBACK_LOCALE)
        fake.seed_instance(_seed("company", company_id))
        return fake.company()
    words = (part.capitalize() for part in re.split(r"[-_.\s]+", company_id) if part)
    return " ".join(words) or company_id


def _companies(query: LeadQuery) -> dict[str, str]:
    """URL → company id, one URL per id, in query order."""
    by_id: dict[str, str] = {}
    for url in query.company_urls:
        by_id.setdefault(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1], url)
    return {url: company_id for company_id, url in by_id.items()}


def _results(query: LeadQuery, month: int = 0) -> tuple[tuple[SandboxPerson, ...], int]:
    """The filtered result in the clock's `month`, companies interleaved one
    person at a time, and its total (kept while a create pages through it)."""
    key = ("results", query, month)
    return _CACHE.get(key, lambda: _interleaved(query, month), lambda r: len(r[0]))


def _interleaved(query: LeadQuery, month: int) -> tuple[tuple[SandboxPerson, ...], int]:
    served = [_served(company_id, query, month) for company_id in _companies(query).values()]
    people = chain.from_iterable(zip_longest(*(found for found, _ in served)))
    return tuple(p for p in people if p is not None), sum(total for _, total in served)


def _served(company_id: str, query: LeadQuery, month: int) -> tuple[tuple[SandboxPerson, ...], int]:
    """A company's matches (at most RESULT_CAP) and their count, scanned chunk by
    chunk; magic companies never age."""
    magic = _magic(company_id)
    if magic is None or magic.size is None:
        return _scan(company_id, query, month)
    people = _generate(company_id, magic.size, _Overrides.of(query))
    if magic.duplicates:
        people = people[:PAGE_SIZE] + people[PAGE_SIZE - _DUPLICATES_REPEATED :]
    return people, len(people)


def _scan(company_id: str, query: LeadQuery, month: int) -> tuple[tuple[SandboxPerson, ...], int]:
    size = company_size(company_id)
    found: list[SandboxPerson] = []
    scanned = 0
    for number in range(math.ceil(size / CHUNK)):
        if len(found) >= RESULT_CAP or scanned >= SCAN_LIMIT:
            break
        chunk = _chunk(company_id, number, month)
        scanned += len(chunk)
        found.extend(p for p in chunk if _matches(p, query))
    total = len(found) if scanned >= size else round(len(found) * size / scanned)
    return tuple(found[:RESULT_CAP]), total


def _magic(company_id: str) -> _Magic | None:
    match = _MAGIC.fullmatch(company_id)
    if match is None:
        return None
    if match["failure"]:
        page = int(match["page"] or 1)
        return _Magic(failure=match["failure"], failing_page=page, size=PAGE_SIZE * MAX_PAGES)
    if match["exact"]:
        size = int(match["exact"])
        return _Magic(size=size) if size <= _EXACT_MAX else None
    return _Magic(size=_DUPLICATES_SIZE, duplicates=True)


def _matches(person: SandboxPerson, query: LeadQuery) -> bool:
    if query.countries and person.country_code not in query.countries:
        return False
    title = person.title.lower()
    if query.job_titles and not any(_title_matches(title, wanted) for wanted in query.job_titles):
        return False
    if query.departments and person.department not in query.departments:
        return False
    if query.seniority_levels and not set(query.seniority_levels) & _seniority(person.title):
        return False
    for wanted, name in (
        (query.first_name, person.first_name),
        (query.last_name, person.last_name),
    ):
        if wanted and wanted.casefold() != (name or "").casefold():
            return False
    haystack = f"{title}\n{person.headline}\n{person.company_name}".lower()
    return all(keyword in haystack for keyword in (query.keywords or "").lower().split())


@lru_cache(maxsize=4096)
def _seniority(title: str) -> frozenset[str]:
    return frozenset(seniority_from_title(title))


def _title_matches(title: str, wanted: str) -> bool:
    wanted = wanted.lower().strip()
    if not wanted or wanted in title:
        return bool(wanted)
    words = set(re.findall(r"\w+", wanted))
    return bool(words) and words <= set(re.findall(r"\w+", title))


def _generate(
    company_id: str, size: int, overrides: _Overrides | None, chunk: int = 0
) -> tuple[SandboxPerson, ...]:
    # Chunk 0 draws as whole companies always did, so they keep their people.
    extra = (str(chunk),) if chunk else ()
    rng = random.Random(_seed("people", company_id, *extra))  # noqa: S311 - synthetic data
    company = company_display_name(company_id)
    # Only known companies have a chunk 1: every other is at most MAX_POPULATION.
    drawn = _draw_country(rng) if chunk == 0 else "US"
    home = KNOWN_COMPANIES[company_id][1] if company_id in KNOWN_COMPANIES else drawn
    first = chunk * CHUNK
    return tuple(
        _person(rng, company_id, i, company, home, overrides) for i in range(first, first + size)
    )


def _person(
    rng: random.Random,
    company_id: str,
    index: int,
    company: str,
    home: str,
    overrides: _Overrides | None,
) -> SandboxPerson:
    from faker.utils.text import slugify  # imported on first use, like Faker (`_faker`)

    # Hashed, not drawn: a person keeps their profile id whatever query built them.
    digest = hashlib.sha256(f"person\0{company_id}\0{index}".encode()).digest()
    country = home if rng.random() < _HOME_SHARE else _draw_country(rng)
    if overrides and overrides.countries:
        country = rng.choice(overrides.countries)
    pool = _pool(_LOCALES.get(country, _FALLBACK_LOCALE))
    first = rng.choice(pool.first_names)
    last = None if rng.random() < _MISSING_SHARE else rng.choice(pool.last_names)
    title, department = draw_role(rng)
    if overrides and overrides.title:
        title = overrides.title
    headline = rng.choice(("{} at {}", "{} @ {}", "{} | {}")).format(title, company)
    if overrides and overrides.keywords:
        headline = f"{headline} | {overrides.keywords}"
    known = supported_countries().get(country)
    city, region = rng.choice(pool.places) if country in _LOCALES else (None, None)
    location = ", ".join(part for part in (city, region, known.name if known else country) if part)
    slug = slugify(f"{first} {last or ''}")
    return SandboxPerson(
        profile_id="ACwAA" + base64.urlsafe_b64encode(digest).decode()[:34],
        first_name=first,
        last_name=last,
        title=title,
        department=department,
        headline=headline,
        company_name=company,
        country_code=country,
        location=None if rng.random() < _MISSING_SHARE else location,
        public_profile_url=(
            None
            if rng.random() < _NO_PUBLIC_URL_SHARE or not slug
            else f"https://www.linkedin.com/in/{slug}-{digest.hex()[:8]}"
        ),
    )


def _lead(person: SandboxPerson, search: bytes) -> Lead:
    # LinkedIn issues a new token per search: keying anything by it is a bug to catch.
    token = base64.urlsafe_b64encode(hashlib.sha256(search + person.profile_id.encode()).digest())
    return Lead(
        profile_id=person.profile_id,
        profile_urn=f"urn:li:fs_salesProfile:({person.profile_id},NAME_SEARCH,{token[:4].decode()})",
        first_name=person.first_name,
        last_name=person.last_name,
        full_name=person.full_name,
        title=person.title,
        company_name=person.company_name,
        location=person.location,
        headline=person.headline,
        public_profile_url=person.public_profile_url,
    )


def _draw_country(rng: random.Random) -> str:
    codes, cumulative = _country_table()
    return pick(rng, codes, cumulative)


@cache
def _country_table() -> tuple[tuple[str, ...], tuple[float, ...]]:
    codes = tuple(sorted(supported_countries()))
    weights = (_COUNTRY_WEIGHTS.get(code, _OTHER_COUNTRY_WEIGHT) for code in codes)
    return codes, tuple(accumulate(weights))


@cache
def _pool(locale: str) -> _Pool:
    """Names and places drawn once per locale: per-person Faker calls are too slow."""
    fake = _faker(locale)
    fake.seed_instance(_seed("pool", locale))
    has_region = hasattr(fake, "administrative_unit")
    has_city = locale not in _UNORDERED_CITY_LOCALES
    return _Pool(
        first_names=tuple(fake.first_name() for _ in range(_POOL_SIZE)),
        last_names=tuple(fake.last_name() for _ in range(_POOL_SIZE)),
        places=tuple(
            (
                fake.city() if has_city else None,
                fake.administrative_unit() if has_region else None,
            )
            for _ in range(_POOL_SIZE // 3)
        ),
    )


@cache
def _faker(locale: str) -> Faker:
    # Faker is imported on the first sandbox search, not with the server: it is
    # ~4 MiB resident before any locale's data, and only the sandbox uses it.
    from faker import Faker

    # Loading only the providers we draw from makes a locale ~4x cheaper to start.
    return Faker(locale, providers=_FAKER_PROVIDERS, use_weighting=False)


def _seed(*parts: str) -> int:
    """A seed that, unlike `hash()`, is the same in every process."""
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:8], "big")
