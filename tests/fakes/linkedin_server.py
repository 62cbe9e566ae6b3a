"""A fake LinkedIn Sales Navigator, served over real HTTP on 127.0.0.1.

It speaks the wire format in `shared/design/sales-navigator.md` and behaves as
public callers of the real one report (see the README's "Connecting a real
Sales Navigator seat"): it checks the session cookies, the csrf token against
the current JSESSIONID and the Rest.li header; answers the member's identity,
the seat (`salesApiIdentity`), contract selection (which mints `li_a`, as
opening `/sales/` does for a member with one contract), the organization lookup
by universal name (404 for an unknown name) and lead-search pages in either
documented response shape, after parsing the `query` blob strictly (a
structural character left unencoded in a leaf is a 400, as a Rest.li server
would answer). Searches need a minted `li_a`; `lidc` is rotated on every
answer, `JSESSIONID` when told to; `paging.total` is capped at 2,500; an
unknown decoration id is a 400. It can be told to fail in each known way, on a
chosen lead-search page, a given number of times.

One server runs per test session (uvicorn in a thread); `fake_linkedin` resets
it for each test.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http import httptools_impl

LI_AT = "AQEDAfakeLiAtCookie0123456789abcdefXYZ"
JSESSIONID = "ajax:4920123456789012345"
# What a browser sends besides the two session cookies (values are made up).
BROWSER_COOKIES = (
    'bcookie="v=2&0f4e1c2d-fake-4d98-8c2c-8ee2f447df62"; '
    'bscookie="v=1&20261127fakefakefakeAQGf7FqLvk94GsVBhKyiNfSBpdHzOc"; '
    "li_rm=AQGW2Dfakefakefake0wxuqCAAAAXzdyvkD; "
    'lidc="b=TB55:s=T:r=T:a=T:p=T:g=3043:u=8:x=1:i=1764230000:t=1764316400:v=2:sig=AQEfake"; '
    "timezone=Europe/Berlin; lang=v=2&lang=en-us"
)
COOKIE_HEADER = f'{BROWSER_COOKIES}; li_at={LI_AT}; JSESSIONID="{JSESSIONID}"'
CONTRACT = "Sales Navigator Core"
MEMBER = {"firstName": "Ada", "lastName": "Lovelace", "publicIdentifier": "ada-lovelace-1815"}
US_GEO_ID = "103644278"
TOTAL_CAP = 2500
SEARCH = "/sales-api/salesApiLeadSearch"
LOOKUP = "/voyager/api/organization/companies"
ME = "/voyager/api/me"
LICENSES = "/sales-api/salesApiIdentity"
SELECT_CONTRACT = "/sales-api/salesApiAgnosticAuthentication"
SALES_HOME = "/sales/"
DECORATION = "com.linkedin.sales.deco.desktop.searchv2.LeadSearchResult-"
# -14 is what public callers send; -16 adds LinkedIn's own seniority.
DECORATIONS = {f"{DECORATION}14", f"{DECORATION}16"}
# Each `fail` kind that ends a session, and the signal (`lastError` prefix) it becomes.
SESSION_ENDERS = [
    ("401", "UNAUTHORIZED"),
    ("403", "FORBIDDEN"),
    ("csrf", "CSRF_REJECTED"),
    ("redirect-login", "LOGIN_WALL"),
    ("redirect-uas-login", "LOGIN_WALL"),
    ("redirect-checkpoint", "LOGIN_WALL"),
    ("redirect-authwall", "LOGIN_WALL"),
    ("redirect-elsewhere", "REDIRECTED"),
    ("self-redirect-delete-li_at", "SESSION_ENDED"),
    ("delete-li_at", "SESSION_ENDED"),
    ("login-wall", "LOGIN_WALL"),
]
DELETE_LI_AT = "li_at=delete me; Expires=Thu, 01-Jan-1970 00:00:10 GMT; Path=/; Domain=127.0.0.1"
_REDIRECTS = {
    "redirect-login": "/login?session_redirect=%2Fsales%2Fsearch",
    "redirect-uas-login": "/uas/login?trk=sales",
    "redirect-checkpoint": "/checkpoint/challenge/AgHfake",
    "redirect-authwall": "/authwall?trk=gf",
    "redirect-contract-chooser": "/sales/contract-chooser?redirect=%2Fsales%2Fhome",
    "redirect-elsewhere": "/sales/home",
}


# uvicorn only knows status lines up to 599; LinkedIn's anti-bot answer is 999.
httptools_impl.STATUS_LINE.setdefault(999, b"HTTP/1.1 999 Request denied\r\n")


class QueryError(ValueError):
    pass


def parse_restli(raw: str) -> Any:
    """Parse a Rest.li 2.0 value: `(k:v,..)` objects, `List(..)` lists, encoded leaves."""
    position = 0

    def value() -> Any:
        nonlocal position
        if raw.startswith("List(", position):
            position += 5
            items: list[Any] = []
            while raw[position] != ")":
                items.append(value())
                if raw[position] == ",":
                    position += 1
            position += 1
            return items
        if raw[position] == "(":
            position += 1
            entries: dict[str, Any] = {}
            while raw[position] != ")":
                key = leaf()
                if raw[position] != ":":
                    raise QueryError(f"expected ':' at {position}")
                position += 1
                entries[key] = value()
                if raw[position] == ",":
                    position += 1
            position += 1
            return entries
        return leaf()

    def leaf() -> str:
        nonlocal position
        match = re.compile(r"[^(),:]*").match(raw, position)
        assert match is not None
        position = match.end()
        return unquote(match.group(0), errors="strict")

    try:
        parsed = value()
    except IndexError as exc:
        raise QueryError("unbalanced query") from exc
    if position != len(raw):
        raise QueryError(f"trailing characters at {position}")
    return parsed


@dataclass
class Person:
    profile_id: str
    first_name: str
    last_name: str
    title: str
    company_id: str
    company_name: str
    geo_id: str = US_GEO_ID
    location: str = "San Francisco, California, United States"
    seniority_ids: tuple[int, ...] = ()
    function_id: int | None = None  # the FUNCTION facet (department)

    @property
    def urn(self) -> str:
        return f"urn:li:fs_salesProfile:({self.profile_id},NAME_SEARCH,tok{self.profile_id[-6:]})"


def flat_element(person: Person, seniority: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {
        "entityUrn": person.urn,
        "objectUrn": f"urn:li:member:{abs(hash(person.profile_id)) % 10**9}",
        "firstName": person.first_name,
        "lastName": person.last_name,
        "fullName": f"{person.first_name} {person.last_name}",
        "geoRegion": person.location,
        "degree": 3,
        "currentPositions": [
            {
                "title": person.title,
                "companyName": person.company_name,
                "companyUrn": f"urn:li:fs_salesCompany:{person.company_id}",
                "current": True,
            }
        ],
        "trackingId": "abc==",
    }
    if seniority:
        element["seniorityV2s"] = [{"id": i, "displayName": str(i)} for i in person.seniority_ids]
    return element


def nested_element(person: Person, seniority: bool = False) -> dict[str, Any]:
    return {
        "entityUrn": person.urn,
        "degree": -1,
        "entityUrnResolutionResult": {
            "location": person.location,
            "objectUrn": "urn:li:member:1",
            "firstName": person.first_name,
            "lastName": person.last_name,
            "positions": [
                {"current": False, "title": "Intern", "companyName": "Old Co"},
                {"current": True, "title": person.title, "companyName": person.company_name},
            ],
        },
    }


@dataclass
class Fault:
    kind: str
    path: str
    page: int | None
    times: int | None
    retry_after: str | None


@dataclass
class SearchCall:
    page: int
    start: int
    count: int
    query: dict[str, Any]

    def filter_values(self, filter_type: str) -> list[dict[str, str]]:
        for item in self.query.get("filters", []):
            if item["type"] == filter_type:
                values: list[dict[str, str]] = item["values"]
                return values
        return []


@dataclass
class FakeLinkedIn:
    base_url: str = ""
    li_at: str = LI_AT
    jsessionid: str = JSESSIONID
    shape: str = "flat"
    lookup_shape: str = "elements"
    companies: dict[str, str] = field(default_factory=dict)
    people: list[Person] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    searches: list[SearchCall] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    identity_calls: int = 0
    license_calls: int = 0
    selections: list[str] = field(default_factory=list)
    # The member's Sales Navigator contracts; [] is a member with no seat.
    contracts: list[str] = field(default_factory=lambda: [CONTRACT])
    # li_a values minted by contract selection (or by opening /sales/).
    minted: dict[str, str] = field(default_factory=dict)
    # Rotate JSESSIONID in the answer to this lead-search request (1-based).
    rotate_jsessionid_at: int | None = None
    # Kill sessions that send li_at without the browser's other cookies.
    require_browser_cookies: bool = False
    # page (1-based) -> how many of that page's people to leave out.
    short_pages: dict[int, int] = field(default_factory=dict)
    # Each page after the first ends with the previous page's first person.
    duplicates_across_pages: bool = False
    received_headers: list[dict[str, str]] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)
    _answers: int = 0
    _url: str = ""

    def reset(self) -> None:
        """Back to a fresh fake on the same address, freeing whatever still hangs."""
        self.gate.set()
        self.__init__(base_url=self.base_url)  # type: ignore[misc]

    def add_company(
        self,
        name: str | None,
        company_id: str,
        size: int,
        *,
        title: str = "Software Engineer",
        geo_id: str = US_GEO_ID,
        seniority_ids: tuple[int, ...] = (),
        function_id: int | None = None,
    ) -> list[Person]:
        """A company (looked up by `name` unless None) with `size` people."""
        if name is not None:
            self.companies[name] = company_id
        people = [
            Person(
                profile_id=f"ACwAA{company_id}x{i:04d}",
                first_name=f"First{i}",
                last_name=f"Last{company_id}",
                title=title,
                company_id=company_id,
                company_name=f"Company {company_id}",
                geo_id=geo_id,
                seniority_ids=seniority_ids,
                function_id=function_id,
            )
            for i in range(size)
        ]
        self.people.extend(people)
        return people

    def fail(
        self,
        kind: str,
        *,
        page: int | None = 1,
        times: int | None = None,
        path: str = SEARCH,
        retry_after: str | None = None,
    ) -> None:
        """Fail requests to `path` (lead search: on `page`, 1-based) `times` times
        (None: always) with `kind`: a status code ("401", "429", "500", "999"),
        "csrf", "seat-required" (403 SALES_SEAT_REQUIRED), a redirect
        ("redirect-login", …), "self-redirect-delete-li_at" (to the same URL,
        deleting li_at), "self-redirect-rotate" (to the same URL, rotating
        lidc: LinkedIn's harmless kind), "delete-li_at" (a 200 whose Set-Cookie
        deletes li_at), "login-wall" (a 200 HTML page), "wrong-shape" (JSON
        without `elements`), "reset" (the connection drops mid-body) or "hang"
        (no answer until `gate` is set)."""
        self.faults.append(Fault(kind, path, page, times, retry_after))

    def sent_cookies(self, index: int = -1) -> dict[str, str]:
        """The cookies of a received request (the last by default)."""
        return _cookies(self.received_headers[index].get("cookie", ""))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        request = Request(scope, receive)
        self.received_headers.append(dict(request.headers))
        self._url = str(request.url)
        response = self._refuse(request) or await self._route(request)
        self._answers += 1
        # LinkedIn refreshes its load-balancer cookie on ordinary answers.
        response.raw_headers.append(
            (b"set-cookie", f'lidc="b=TB55:s=T:g={self._answers}:v=2:sig=AQE"; Path=/'.encode())
        )
        await response(scope, receive, send)

    def _refuse(self, request: Request) -> Response | None:
        cookies = _cookies(request.headers.get("cookie", ""))
        if cookies.get("li_at") != self.li_at:
            return Response(status_code=401)
        if self.require_browser_cookies and not {"bcookie", "bscookie"} <= cookies.keys():
            # How LinkedIn answers a session it no longer trusts: to the same
            # URL, with li_at deleted.
            return _redirect(str(request.url), DELETE_LI_AT)
        if (
            request.headers.get("csrf-token") != self.jsessionid
            or cookies.get("JSESSIONID", "").strip('"') != self.jsessionid
        ):
            return Response("CSRF check failed.", status_code=403, media_type="text/plain")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            return Response(status_code=400)
        return None

    async def _route(self, request: Request) -> Response:
        path = request.url.path
        if path == ME:
            self.identity_calls += 1
            identity = _json({"plainId": 42, "miniProfile": {**MEMBER, "entityUrn": "urn:li:x"}})
            return await self._fault(path, None) or identity
        if path == LICENSES:
            self.license_calls += 1
            return await self._fault(path, None) or self._licenses(request)
        if path == SELECT_CONTRACT and request.method == "POST":
            return await self._fault(path, None) or self._select(await request.body())
        if path == SALES_HOME:
            return self._sales_home()
        if path == LOOKUP:
            name = request.query_params.get("universalName", "")
            self.lookups.append(name)
            return await self._fault(path, None) or self._lookup(request, name)
        if path == SEARCH:
            return await self._search(request)
        return Response(status_code=404)

    def _contract_element(self, index: int, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "description": f"{name} (fake)",
            "agnosticIdentity": {
                "com.linkedin.sales.authentication.SalesCapIdentity": {
                    "contractUrn": f"urn:li:salesContract:{9000 + index}",
                    "seatUrn": f"urn:li:salesSeat:{7000 + index}",
                }
            },
        }

    def _licenses(self, request: Request) -> Response:
        if request.query_params.get("q") != "findLicensesByCurrentMember":
            return Response(status_code=400)
        elements = [self._contract_element(i, name) for i, name in enumerate(self.contracts)]
        return _json({"elements": elements, "paging": {"start": 0, "count": len(elements)}})

    def _mint(self, contract: str) -> str:
        value = f"AQJ2fake{secrets.token_hex(6)}sales_cid{self.contracts.index(contract)}"
        self.minted[value] = contract
        return f"li_a={value}; Path=/; Max-Age=31536000"

    def _select(self, body: bytes) -> Response:
        """The contract chooser's post: the identity as `salesApiIdentity` listed it."""
        try:
            chosen = orjson.loads(body)
            identity = chosen["identity"]["agnosticIdentity"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return Response(status_code=400)
        for index, name in enumerate(self.contracts):
            if self._contract_element(index, name)["agnosticIdentity"] == identity:
                self.selections.append(name)
                response = Response(status_code=200)
                response.raw_headers.append((b"set-cookie", self._mint(name).encode()))
                return response
        return Response(status_code=400)

    def _sales_home(self) -> Response:
        if len(self.contracts) != 1:
            return _redirect(self.base_url + "/sales/contract-chooser", None)
        response = Response("<html>Sales Navigator</html>", media_type="text/html")
        response.raw_headers.append((b"set-cookie", self._mint(self.contracts[0]).encode()))
        return response

    def _lookup(self, request: Request, name: str) -> Response:
        if request.query_params.get("q") != "universalName" or name not in self.companies:
            return Response(status_code=404)
        urn = f"urn:li:fs_normalized_company:{self.companies[name]}"
        if self.lookup_shape == "normalized":
            return _json({"data": {"*elements": [urn]}, "included": []})
        return _json({"elements": [{"entityUrn": urn, "universalName": name}], "paging": {}})

    async def _search(self, request: Request) -> Response:
        raw = dict(part.split("=", 1) for part in request.url.query.split("&") if "=" in part)
        try:
            query = parse_restli(raw["query"])
            start, count = int(raw["start"]), int(raw["count"])
        except (KeyError, ValueError):
            return Response("malformed query", status_code=400)
        decoration = raw.get("decorationId")
        if raw.get("q") != "searchQuery" or decoration not in DECORATIONS:
            return Response(status_code=400)
        li_a = _cookies(request.headers.get("cookie", "")).get("li_a")
        if li_a not in self.minted:
            return _json({"status": 403, "message": "No Sales Navigator contract"}, 403)
        call = SearchCall(start // count + 1, start, count, query)
        self.searches.append(call)
        failure = await self._fault(SEARCH, call.page)
        if failure:
            return failure
        matches = [p for p in self.people if _matches(p, call)]
        chosen = matches[start : start + count - self.short_pages.get(call.page, 0)]
        if self.duplicates_across_pages and start >= count:
            chosen = [*chosen[: count - 1], matches[start - count]]
        build = flat_element if self.shape == "flat" else nested_element
        seniority = decoration.endswith("-16")
        response = _json(
            {
                "elements": [build(person, seniority) for person in chosen],
                "paging": {"start": start, "count": count, "total": min(len(matches), TOTAL_CAP)},
            }
        )
        if self.rotate_jsessionid_at == len(self.searches):
            self.jsessionid = f"ajax:{secrets.randbelow(10**18):018d}"
            response.raw_headers.append(
                (b"set-cookie", f'JSESSIONID="{self.jsessionid}"; Path=/; Secure'.encode())
            )
        return response

    async def _fault(self, path: str, page: int | None) -> Response | None:
        for fault in self.faults:
            if fault.path != path or (page is not None and fault.page not in (None, page)):
                continue
            if fault.times == 0:
                continue
            if fault.times is not None:
                fault.times -= 1
            return await self._failure(fault)
        return None

    async def _failure(self, fault: Fault) -> Response:
        kind = fault.kind
        if kind == "hang":
            self.hanging.set()
            while not self.gate.is_set():
                await asyncio.sleep(0.01)
            return Response(status_code=503)
        if kind == "csrf":
            return Response("CSRF check failed.", status_code=403, media_type="text/plain")
        if kind == "seat-required":
            return _json({"status": 403, "code": "SALES_SEAT_REQUIRED"}, 403)
        if kind in _REDIRECTS:
            return _redirect(self.base_url + _REDIRECTS[kind], None)
        if kind == "self-redirect-delete-li_at":
            return _redirect(self._url, DELETE_LI_AT)
        if kind == "self-redirect-rotate":
            return _redirect(self._url, 'lidc="b=rotated:v=2"; Path=/')
        if kind == "delete-li_at":
            response = _json({"elements": []})
            response.raw_headers.append((b"set-cookie", DELETE_LI_AT.encode()))
            return response
        if kind == "login-wall":
            return Response("<html>Sign in to LinkedIn</html>", media_type="text/html")
        if kind == "wrong-shape":
            return _json({"paging": {"total": 3}})
        if kind == "reset":
            return _Reset()
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
        return Response(status_code=int(kind), headers=headers)


def _cookies(header: str) -> dict[str, str]:
    return dict(part.strip().split("=", 1) for part in header.split(";") if "=" in part)


def _redirect(location: str, set_cookie: str | None) -> Response:
    response = Response(status_code=302, headers={"Location": location})
    if set_cookie is not None:
        response.raw_headers.append((b"set-cookie", set_cookie.encode()))
    return response


def _matches(person: Person, call: SearchCall) -> bool:
    companies = {v["id"].rsplit(":", 1)[-1] for v in call.filter_values("CURRENT_COMPANY")}
    titles = [v["text"].lower() for v in call.filter_values("CURRENT_TITLE")]
    regions = {v["id"] for v in call.filter_values("REGION")}
    functions = {int(v["id"]) for v in call.filter_values("FUNCTION")}
    seniorities = {int(v["id"]) for v in call.filter_values("SENIORITY_LEVEL")}
    first = {v["text"].lower() for v in call.filter_values("FIRST_NAME")}
    last = {v["text"].lower() for v in call.filter_values("LAST_NAME")}
    words = str(call.query.get("keywords", "")).lower().split()
    text = f"{person.first_name} {person.last_name} {person.title} {person.company_name}".lower()
    return (
        (not companies or person.company_id in companies)
        and (not titles or any(t in person.title.lower() for t in titles))
        and (not regions or person.geo_id in regions)
        and (not functions or person.function_id in functions)
        and (not seniorities or bool(seniorities & set(person.seniority_ids)))
        and (not first or person.first_name.lower() in first)
        and (not last or person.last_name.lower() in last)
        and all(word in text for word in words)
    )


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class _Reset(Response):
    """Promise a body, send part of it, then drop the connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"500")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"elements": [', "more_body": True})
        raise ConnectionResetError("fake reset")


@pytest.fixture(scope="session")
def linkedin_server() -> Iterator[FakeLinkedIn]:
    fake = FakeLinkedIn()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    fake.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(
            fake,
            log_level="critical",
            access_log=False,
            lifespan="off",
            http="httptools",
            ws="none",
            loop="asyncio",
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake LinkedIn server did not start")
        time.sleep(0.01)
    try:
        yield fake
    finally:
        fake.gate.set()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def fake_linkedin(linkedin_server: FakeLinkedIn) -> Iterator[FakeLinkedIn]:
    linkedin_server.reset()
    yield linkedin_server
    linkedin_server.gate.set()
