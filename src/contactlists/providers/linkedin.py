"""LinkedIn Sales Navigator's internal lead search, over a member's session cookies.

`LinkedInSession` is one seat's authenticated HTTP conversation: the identity
check, the company lookup and a lead-search page, each with the documented
headers, one failure mapping and bounded retries. `LinkedInProvider` is the
`LeadSearchProvider` on top of it. Neither knows the database: the service
resolves company ids (with its cache), holds the seat's lock and budget and
paces the pages, and hands in what they need.

Failures: 401, a redirect to a login, checkpoint, authwall or contract-chooser
page, and 403 (including "CSRF check failed.") mean the session is unusable
(`SessionExpired`); 429 and LinkedIn's 999 are throttling
(`UpstreamRateLimited`, honouring `Retry-After`); 5xx, malformed bodies, other
redirects and network errors are retried twice with jittered exponential
backoff, then reported as `UpstreamError`. Messages never carry the cookies.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import orjson
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from contactlists.core.clock import utcnow
from contactlists.providers.base import (
    LeadPage,
    LeadQuery,
    SessionExpired,
    UnknownCompany,
    UpstreamError,
    UpstreamRateLimited,
)
from contactlists.providers.linkedin_query import (
    COMPANY_LOOKUP_PATH,
    IDENTITY_PATH,
    SEARCH_PATH,
    MalformedResponse,
    build_query,
    company_lookup_query_string,
    numeric_company_id,
    parse_company_id,
    parse_lead_page,
    search_query_string,
)

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
ATTEMPTS = 3
DEFAULT_RETRY_AFTER_S = 60
MAX_RETRY_AFTER_S = 86_400
_AUTH_REDIRECT = re.compile(
    r"^/(?:login|uas/login|m/login|checkpoint|authwall|signup|sales/contract-chooser)", re.I
)
_HEADERS = {
    "accept": "application/json",
    "x-restli-protocol-version": "2.0.0",
    "x-li-lang": "en_US",
    "user-agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    ),
}


@dataclass(frozen=True, slots=True)
class LinkedInCredentials:
    """The session cookies; `jsessionid` without its quotes (`ajax:<digits>`)."""

    li_at: str = field(repr=False)
    jsessionid: str = field(repr=False)

    def headers(self) -> dict[str, str]:
        return {
            "cookie": f'li_at={self.li_at}; JSESSIONID="{self.jsessionid}"',
            "csrf-token": self.jsessionid,
        }


def new_http_client(timeout_s: float) -> httpx.AsyncClient:
    """The process's one pooled client for LinkedIn, with explicit timeouts.

    Redirects are not followed (they are how LinkedIn says a session is dead),
    and its cookie jar refuses every cookie: seats share the client and must
    never share cookies, so each request carries its seat's own.
    """
    import httpx

    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        follow_redirects=False,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
    )


class LazyHttpClient:
    """The server's `new_http_client`, built when a LinkedIn seat first needs it.

    Most servers never talk to LinkedIn (test keys and sandbox connections stay
    in the process), and httpx costs ~6 MiB resident, so neither it nor the
    client's pool exists until then.
    """

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def get(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = new_http_client(self._timeout_s)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class _Transient(UpstreamError):
    """A failure worth retrying: 5xx, a malformed body, a network error."""


class _NotFound(UpstreamError):
    """404: for a company lookup, LinkedIn does not know the name."""


def _retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = (parsedate_to_datetime(value) - utcnow()).total_seconds()
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_S
    return max(1, min(math.ceil(seconds), MAX_RETRY_AFTER_S))


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 300 <= status < 400:
        path = urlsplit(response.headers.get("location", "")).path
        if _AUTH_REDIRECT.match(path):
            raise SessionExpired(f"LinkedIn redirected to {path[:60]}: the session is not usable")
        raise _Transient(f"LinkedIn answered {status} with an unexpected redirect")
    if status == 401:
        raise SessionExpired("LinkedIn rejected the session cookies (401)")
    if status == 403:
        if "CSRF check failed" in response.text:
            raise SessionExpired("LinkedIn refused the CSRF token (403 CSRF check failed)")
        raise SessionExpired("LinkedIn refused access (403): is Sales Navigator active?")
    if status in (429, 999):
        raise UpstreamRateLimited(retry_after_s=_retry_after(response))
    if status >= 500:
        raise _Transient(f"LinkedIn answered {status}")
    if status == 404:
        raise _NotFound("LinkedIn answered 404")
    if status >= 400:
        raise UpstreamError(f"LinkedIn answered {status}")


class LinkedInSession:
    """One seat's requests to LinkedIn at `base_url` (the only place it is set)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        credentials: LinkedInCredentials,
        *,
        retry_backoff_s: float,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = {**_HEADERS, **credentials.headers()}
        self._retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(ATTEMPTS),
            wait=wait_exponential_jitter(
                multiplier=retry_backoff_s, max=20 * retry_backoff_s, jitter=retry_backoff_s
            ),
            reraise=True,
        )

    async def verify(self) -> None:
        """The member's own identity: cheap, and spends no search budget."""
        await self._get(IDENTITY_PATH, "", lambda payload: payload)

    async def lookup_company_id(self, name: str) -> str | None:
        """The organization id of a company page's vanity name; `None` if unknown."""
        try:
            return await self._get(
                COMPANY_LOOKUP_PATH, company_lookup_query_string(name), parse_company_id
            )
        except _NotFound:
            return None

    async def search_page(self, blob: str, start: int, count: int) -> LeadPage:
        return await self._get(
            SEARCH_PATH, search_query_string(blob, start, count), parse_lead_page
        )

    async def _get(self, path: str, query: str, parse: Callable[[Any], T]) -> T:
        return await self._retrying(self._get_once, path, query, parse)

    async def _get_once(self, path: str, query: str, parse: Callable[[Any], T]) -> T:
        import httpx  # loaded with the session's client (`new_http_client`)

        url = f"{self._base_url}{path}?{query}" if query else f"{self._base_url}{path}"
        try:
            response = await self._http.get(url, headers=self._headers)
        except httpx.TransportError as exc:
            raise _Transient(f"network error talking to LinkedIn: {type(exc).__name__}") from exc
        _check_status(response)
        try:
            return parse(orjson.loads(response.content))
        except (orjson.JSONDecodeError, MalformedResponse) as exc:
            raise _Transient(f"LinkedIn sent a malformed reply to {path}") from exc


class LinkedInProvider:
    """Lead search on one seat, once the service has resolved the company ids."""

    name = "linkedin"

    def __init__(self, session: LinkedInSession, company_ids: Mapping[str, str]) -> None:
        self._session = session
        self._company_ids = company_ids

    def _company_id(self, company_url: str) -> str:
        company_id = numeric_company_id(company_url) or self._company_ids.get(company_url)
        if company_id is None:
            raise UnknownCompany(company_url=company_url)
        return company_id

    async def fetch_page(self, query: LeadQuery, start: int, count: int) -> LeadPage:
        blob = build_query(query, [self._company_id(url) for url in query.company_urls])
        return await self._session.search_page(blob, start, count)
