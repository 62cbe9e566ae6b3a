"""LinkedIn Sales Navigator's internal API, over a member's browser session.

`LinkedInSession` is one conversation of one seat with LinkedIn: the member's
identity, the seat check and contract selection, the company lookup and a
lead-search page. It sends the browser's whole cookie set with the headers a
browser sends, over curl_cffi with Chrome's TLS fingerprint, applies every
`Set-Cookie` LinkedIn answers with (and hands the changed jar to its owner to
store), and turns every way LinkedIn ends a session into one typed failure.
`LinkedInProvider` is the `LeadSearchProvider` on top of it. Neither knows the
database: the service holds the seat's lock, stores the jar, resolves company
ids (with its cache), counts the budget and paces the pages.

How LinkedIn ends a session, each a `SessionExpired` with its signal and never
retried: a `Set-Cookie` deleting `li_at` (`SESSION_ENDED`); a redirect other
than one to the same URL that sets cookies without deleting `li_at`, which is
followed once (`LOGIN_WALL` to a login, checkpoint or authwall page, else
`REDIRECTED`); a 200 whose body is not JSON (`LOGIN_WALL`); 401
(`UNAUTHORIZED`); 403 `CSRF check failed` (`CSRF_REJECTED`), and any other
403 (`FORBIDDEN`) but `SALES_SEAT_REQUIRED`, which is `SeatRequired`. A
redirect to the contract chooser, or a plain 403 from a search, means
Sales Navigator wants a contract chosen: the session selects its contract and
asks again, once. 429 and LinkedIn's 999 are
throttling; only 5xx and network errors are retried, with jittered backoff.
Messages name cookies, never their values.
"""

from __future__ import annotations

import base64
import logging
import math
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import orjson

from contactlists.core.clock import utcnow
from contactlists.providers.base import (
    LeadPage,
    LeadQuery,
    SeatRequired,
    SessionExpired,
    UnknownCompany,
    UpstreamError,
    UpstreamRateLimited,
)
from contactlists.providers.linkedin_cookies import LI_A, LI_AT, SessionCookies
from contactlists.providers.linkedin_query import (
    COMPANY_LOOKUP_PATH,
    CONTRACT_SELECTION_PATH,
    IDENTITY_PATH,
    LICENSES_PATH,
    SEARCH_PATH,
    Contract,
    MalformedResponse,
    Member,
    build_query,
    company_lookup_query_string,
    contract_selection_body,
    numeric_company_id,
    parse_company_id,
    parse_contracts,
    parse_lead_page,
    parse_member,
    search_query_string,
)

if TYPE_CHECKING:
    from curl_cffi.requests import AsyncSession, Response

T = TypeVar("T")
logger = logging.getLogger("contactlists.linkedin")
DEFAULT_RETRY_AFTER_S = 60
MAX_RETRY_AFTER_S = 86_400
# Which Chrome curl_cffi imitates, TLS handshake and HTTP/2 settings included.
IMPERSONATE = "chrome"
_LOGIN_PAGES = re.compile(r"^/(?:login|uas/login|m/login|checkpoint|authwall|signup)", re.I)
_CONTRACT_CHOOSER = re.compile(r"^/sales/contract-chooser", re.I)
_REFERER = "https://www.linkedin.com/sales/search/people"
# What Chrome sends with Sales Navigator's own XHRs; curl_cffi adds the user
# agent and client hints that belong to the TLS fingerprint it imitates.
_BROWSER_HEADERS: dict[str, str | None] = {
    "accept": "application/json",
    "accept-language": "en-US,en;q=0.9",
    "x-li-lang": "en_US",
    "x-restli-protocol-version": "2.0.0",
    "sec-fetch-dest": "empty",
    "sec-fetch-mode": "cors",
    "sec-fetch-site": "same-origin",
    "referer": _REFERER,
    # Chrome sends these with a page load, never with an XHR: None leaves out
    # the header curl_cffi's impersonation would add.
    "upgrade-insecure-requests": None,
    "sec-fetch-user": None,
    "cache-control": None,
}

OnJarChange = Callable[[SessionCookies], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """One request and its answer as a diagnosis shows them: names, never values."""

    method: str
    path: str
    status: int
    cookies_sent: tuple[str, ...]
    cookies_received: tuple[str, ...]


OnExchange = Callable[[ExchangeRecord], None]


class LinkedInHttp:
    """Opens conversations with LinkedIn, one curl_cffi session each.

    A conversation is one seat's use (a connect, a search): its connections
    are its own, so two seats never share a TLS connection or a cookie, and
    the session keeps no cookies at all (`discard_cookies`): each request
    carries its seat's jar. curl_cffi is imported on first use, since most
    servers never talk to LinkedIn.
    """

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s

    @asynccontextmanager
    async def conversation(self) -> AsyncIterator[AsyncSession[Response]]:
        from curl_cffi import CurlHttpVersion
        from curl_cffi.requests import AsyncSession

        async with AsyncSession(
            impersonate=IMPERSONATE,
            # HTTP/2 over TLS only, as a browser: never an h2c upgrade on plain HTTP.
            http_version=CurlHttpVersion.V2TLS,
            allow_redirects=False,
            discard_cookies=True,
            timeout=self._timeout_s,
        ) as session:
            yield session


class _Transient(UpstreamError):
    """A failure worth retrying: 5xx or a network error."""


class _NotFound(UpstreamError):
    """404: for a company lookup, LinkedIn does not know the name."""


class _ContractChooser(Exception):
    """LinkedIn sent the member to the contract chooser."""


def _retry_after(value: str) -> int:
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = (parsedate_to_datetime(value) - utcnow()).total_seconds()
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER_S
    return max(1, min(math.ceil(seconds), MAX_RETRY_AFTER_S))


def _json_code(content: bytes) -> str | None:
    try:
        payload = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    code = payload.get("code") if isinstance(payload, dict) else None
    return code if isinstance(code, str) else None


@dataclass(frozen=True, slots=True)
class SeatIdentity:
    """Who is connected, and with which Sales Navigator contract."""

    member: Member
    contract: str


@dataclass
class _Exchange:
    """One request as LinkedIn answered it, after the jar took its cookies."""

    status: int
    content: bytes
    location: str
    retry_after: str
    set_cookie: bool = field(default=False)


class LinkedInSession:
    """One seat's conversation with LinkedIn at `base_url` (the only place it is set).

    `cookies` is the seat's jar, changed in place by LinkedIn's answers;
    `on_jar_change` is awaited after every answer that changed it, so the
    owner stores the jar before anything else happens; `on_exchange` sees
    every request's cookie names and status (`connections check`). `attempts` is how often
    a 5xx or network error is tried (1 for a connect: no retries).
    """

    def __init__(
        self,
        http: AsyncSession[Response],
        base_url: str,
        cookies: SessionCookies,
        *,
        options: SessionOptions,
        on_jar_change: OnJarChange | None = None,
        on_exchange: OnExchange | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self.cookies = cookies
        self._options = options
        self._on_jar_change = on_jar_change
        self._on_exchange = on_exchange
        page_instance = base64.b64encode(secrets.token_bytes(16)).decode()
        self._page_instance = f"urn:li:page:d_sales2_search_people;{page_instance}"
        # Imported here, as curl_cffi is: only a server with a connected seat retries (~0.3 MiB).
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
        from tenacity.wait import wait_exponential_jitter

        self._retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(options.attempts),
            wait=wait_exponential_jitter(
                multiplier=options.retry_backoff_s,
                max=20 * options.retry_backoff_s,
                jitter=options.retry_backoff_s,
            ),
            reraise=True,
        )
        self.contract: str | None = options.contract

    async def member(self) -> Member:
        """The member's own identity: cheap, and spends no search budget."""
        return await self._call(IDENTITY_PATH, "", parse_member, stage="verification")

    async def contracts(self) -> list[Contract]:
        """The member's Sales Navigator contracts; none means no seat."""
        return await self._call(
            LICENSES_PATH, "q=findLicensesByCurrentMember", parse_contracts, "seat check"
        )

    async def check_seat(self, *, select: bool = False) -> SeatIdentity:
        """`/me`, then the seat, then the contract: what a connect verifies, and
        what the first search of each day checks again. The contract is
        selected when the jar has no `li_a` (or `select` asks for it: the user
        named one on connect); else the browser's own choice stands."""
        member = await self.member()
        contracts = await self.contracts()
        if not contracts:
            raise SeatRequired("this LinkedIn member has no Sales Navigator seat")
        chosen = self.choose(contracts)
        if select or not self.cookies.get(LI_A):
            await self.select_contract(chosen)
        self.contract = chosen.name
        return SeatIdentity(member, chosen.name)

    def choose(self, contracts: list[Contract]) -> Contract:
        if self.contract is not None:
            for contract in contracts:
                if contract.name.casefold() == self.contract.casefold():
                    return contract
            raise SeatRequired(
                f"this member has no Sales Navigator contract named {self.contract!r}",
                contracts=[c.name for c in contracts],
            )
        if len(contracts) > 1:
            raise SeatRequired(
                "this member has several Sales Navigator contracts; name one with `contract`",
                contracts=[c.name for c in contracts],
            )
        return contracts[0]

    async def select_contract(self, contract: Contract) -> None:
        """Choose the contract as the browser's contract chooser does: LinkedIn
        answers with `li_a` set (and may redirect on to the search page)."""
        path, stage = CONTRACT_SELECTION_PATH, "contract selection"
        exchange: _Exchange = await self._retrying(
            self._exchange,
            "POST",
            path,
            "redirect=%2Fsales%2Fsearch",
            contract_selection_body(contract),
            stage,
        )
        if exchange.status < 400 and self.cookies.get(LI_A):
            return
        _check_status(exchange, path, stage)
        raise UpstreamError(f"{stage}: LinkedIn set no li_a cookie")

    async def _reselect_contract(self) -> None:
        contracts = await self.contracts()
        if not contracts:
            raise SeatRequired("this LinkedIn member has no Sales Navigator seat")
        await self.select_contract(self.choose(contracts))

    async def lookup_company_id(self, name: str) -> str | None:
        """The organization id of a company page's vanity name; `None` if unknown."""
        try:
            return await self._call(
                COMPANY_LOOKUP_PATH,
                company_lookup_query_string(name),
                parse_company_id,
                stage=f"the company lookup of {name!r}",
            )
        except _NotFound:
            return None

    async def search_page(self, blob: str, start: int, count: int) -> LeadPage:
        query = search_query_string(blob, start, count, self._options.lead_decoration)
        stage = f"lead-search page {start // max(count, 1) + 1}"
        if not self.cookies.get(LI_A):
            await self._reselect_contract()
        try:
            return await self._call(SEARCH_PATH, query, parse_lead_page, stage)
        except _ContractChooser:
            pass
        except SessionExpired as exc:
            # A plain 403 from Sales Navigator is how it refuses a search without
            # a valid contract cookie: choose the contract again, and ask once more.
            if exc.signal != "FORBIDDEN":
                raise
        await self._reselect_contract()
        return await self._call(SEARCH_PATH, query, parse_lead_page, stage)

    async def _call(
        self,
        path: str,
        query: str,
        parse: Callable[[Any], T],
        stage: str,
    ) -> T:
        exchange: _Exchange = await self._retrying(self._exchange, "GET", path, query, None, stage)
        _check_status(exchange, path, stage)
        try:
            payload = orjson.loads(exchange.content)
        except orjson.JSONDecodeError:
            raise SessionExpired(
                "LOGIN_WALL", f"LinkedIn answered {path} with a web page instead of JSON"
            ) from None
        try:
            return parse(payload)
        except MalformedResponse as exc:
            raise UpstreamError(f"{stage}: LinkedIn's answer has another shape ({exc})") from None

    async def _exchange(
        self, method: str, path: str, query: str, body: bytes | None, stage: str
    ) -> _Exchange:
        """One request, following at most one redirect to the same URL that sets
        cookies without ending the session (LinkedIn's way of rotating them)."""
        from curl_cffi.requests.exceptions import RequestException

        url = f"{self._base_url}{path}?{query}" if query else f"{self._base_url}{path}"
        followed = False
        while True:
            headers: dict[str, str | None] = {
                **_BROWSER_HEADERS,
                "x-li-page-instance": self._page_instance,
                "csrf-token": self.cookies.csrf_token,
                "cookie": self.cookies.header(),
            }
            if body is not None:
                # What Sales Navigator's page sends with this JSON body.
                headers["content-type"] = "application/x-www-form-urlencoded; charset=UTF-8"
            try:
                response = await self._http.request(
                    method,  # type: ignore[arg-type]
                    url,
                    headers=headers,
                    data=body,
                )
            except RequestException as exc:
                raise _Transient(f"{stage}: network error ({type(exc).__name__})") from exc
            set_cookies = [value for value in response.headers.get_list("set-cookie") if value]
            if self._on_exchange is not None:
                self._on_exchange(
                    ExchangeRecord(
                        method,
                        path,
                        response.status_code,
                        tuple(self.cookies.live_names()),
                        tuple(value.split("=", 1)[0].strip() for value in set_cookies),
                    )
                )
            change = self.cookies.apply(set_cookies)
            logger.debug(
                "LinkedIn %s %s answered %s; cookies set: %s, deleted: %s",
                method,
                path,
                response.status_code,
                ", ".join(change.set) or "none",
                ", ".join(change.deleted) or "none",
            )
            if change and self._on_jar_change is not None:
                await self._on_jar_change(self.cookies)
            if LI_AT in change.deleted:
                raise SessionExpired("SESSION_ENDED", f"LinkedIn deleted li_at (answer to {path})")
            exchange = _Exchange(
                status=response.status_code,
                content=response.content,
                location=response.headers.get("location") or "",
                retry_after=response.headers.get("retry-after") or "",
                set_cookie=bool(change.set),
            )
            if 500 <= exchange.status < 600:  # not 999, which is throttling
                raise _Transient(f"{stage}: LinkedIn answered {exchange.status}")
            if (
                300 <= exchange.status < 400
                and not followed
                and exchange.set_cookie
                and self._same_url(exchange.location, url)
            ):
                followed = True
                continue
            return exchange

    def _same_url(self, location: str, url: str) -> bool:
        target = urlsplit(location)
        here = urlsplit(url)
        return (target.path, target.query) == (here.path, here.query) and (
            not target.netloc or target.netloc == here.netloc
        )


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How a conversation behaves: settings for searches, stricter for a connect."""

    attempts: int = 3
    retry_backoff_s: float = 0.5
    lead_decoration: str = ""
    # The contract the member chose (by name); None: the only one there is.
    contract: str | None = None


def _check_status(exchange: _Exchange, path: str, stage: str) -> None:
    status = exchange.status
    if 300 <= status < 400:
        target = urlsplit(exchange.location).path
        if _CONTRACT_CHOOSER.match(target):
            raise _ContractChooser
        signal = "LOGIN_WALL" if _LOGIN_PAGES.match(target) else "REDIRECTED"
        raise SessionExpired(signal, f"LinkedIn redirected {path} to {target[:60] or 'nowhere'}")
    if status == 401:
        raise SessionExpired("UNAUTHORIZED", f"LinkedIn answered 401 to {path}")
    if status == 403:
        if _json_code(exchange.content) == "SALES_SEAT_REQUIRED":
            raise SeatRequired("LinkedIn says this member's Sales Navigator seat is gone")
        if b"CSRF check failed" in exchange.content:
            raise SessionExpired("CSRF_REJECTED", f"LinkedIn refused the csrf-token on {path}")
        raise SessionExpired("FORBIDDEN", f"LinkedIn answered 403 to {path}")
    if status in (429, 999):
        raise UpstreamRateLimited(retry_after_s=_retry_after(exchange.retry_after))
    if status == 404:
        raise _NotFound(f"{stage}: LinkedIn answered 404")
    if status >= 400:
        raise UpstreamError(f"{stage}: LinkedIn answered {status}")


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
