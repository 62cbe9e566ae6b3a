"""A seat's LinkedIn cookies: the browser's whole set, kept as LinkedIn rotates it.

Working callers send every cookie the browser holds for `www.linkedin.com`
(`li_at`, `JSESSIONID`, `li_a`, `bcookie`, `bscookie`, `lidc`, …), and LinkedIn
rotates some of them with `Set-Cookie` on ordinary answers. `SessionCookies`
is that set for one seat: parsed from the `Cookie` header a user copies out of
the browser, updated by every `Set-Cookie` (a new value, a deletion, an
expiry), and rendered back into the next request's `Cookie` header.

`Set-Cookie` is parsed by the algorithm of RFC 6265 §5.2, as browsers do,
rather than with `http.cookies.SimpleCookie`, which is a server-side codec that
rejects values browsers accept (LinkedIn deletes `li_at` by setting it to
`delete me`, with a space). Dates go through the standard library's
`http.cookiejar.http2time`, which reads every date form browsers read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

LI_AT = "li_at"
JSESSIONID = "JSESSIONID"
LI_A = "li_a"
REQUIRED = (LI_AT, JSESSIONID)
# The value LinkedIn writes over a cookie it is deleting.
_DELETED_VALUE = "delete me"


class MalformedCookieHeader(ValueError):
    """The text is not a `Cookie` header (the message says why, never a value)."""


def parse_cookie_header(text: str) -> dict[str, str]:
    """Cookie name -> value from a `Cookie` header as copied from the browser.

    Tolerates what a copy brings along: a leading `Cookie:` (or `cookie:`),
    surrounding quotes, line breaks and blanks around pairs. Values are kept
    exactly, quotes included (`JSESSIONID="ajax:…"` goes back as it came).
    A later pair of the same name wins, as in a browser's jar.
    """
    header = text.strip()
    for _ in range(2):  # `Cookie: '…'` and `'Cookie: …'` (a curl -H argument) alike
        if header[:7].lower() == "cookie:":
            header = header[7:].strip()
        if header[:1] in ("'", '"'):
            # A name never starts with a quote: this one wraps the whole header.
            quote, header = header[0], header[1:]
            if header.endswith(quote):
                header = header[:-1]
            header = header.strip()
    cookies: dict[str, str] = {}
    for part in header.replace("\r", ";").replace("\n", ";").split(";"):
        pair = part.strip()
        if not pair:
            continue
        name, sep, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            raise MalformedCookieHeader("every cookie must be written name=value")
        if any(ch.isspace() or ord(ch) < 0x21 or ord(ch) == 0x7F for ch in name):
            raise MalformedCookieHeader("a cookie name contains blanks or control characters")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise MalformedCookieHeader("a cookie value contains control characters")
        cookies[name] = value
    if not cookies:
        raise MalformedCookieHeader("no cookies found")
    return cookies


@dataclass(frozen=True, slots=True)
class SetCookie:
    """One `Set-Cookie` as it affects the jar."""

    name: str
    value: str
    # Seconds since the epoch; None for a session cookie.
    expires_at: float | None

    def deletes(self, now: float) -> bool:
        return self.value == _DELETED_VALUE or (
            self.expires_at is not None and self.expires_at <= now
        )


def parse_set_cookie(header: str, now: float) -> SetCookie | None:
    """RFC 6265 §5.2: the name-value pair before the first `;`, then attributes,
    of which only the lifetime matters here (`Max-Age` wins over `Expires`).
    None for a header a browser would ignore (no `=`, or no name)."""
    pair, _, attributes = header.partition(";")
    name, sep, value = pair.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        return None
    expires_at: float | None = None
    max_age: float | None = None
    for attribute in attributes.split(";"):
        key, _, argument = attribute.partition("=")
        key, argument = key.strip().lower(), argument.strip()
        if key == "max-age" and argument.lstrip("-").isdigit():
            max_age = now + int(argument) if int(argument) > 0 else 0.0
        elif key == "expires":
            # Imported here: only LinkedIn's answers set cookies (~0.1 MiB resident).
            from http.cookiejar import http2time  # type: ignore[attr-defined]

            parsed = http2time(argument)
            if parsed is not None:
                expires_at = float(parsed)
    return SetCookie(name, value, max_age if max_age is not None else expires_at)


@dataclass(slots=True)
class JarChange:
    """What one answer's `Set-Cookie` headers did to the jar (names only)."""

    set: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.set or self.deleted)


@dataclass(slots=True)
class SessionCookies:
    """One seat's cookies in the order the browser sent them, with expiries."""

    values: dict[str, str] = field(repr=False)
    # name -> seconds since the epoch, for cookies LinkedIn set with a lifetime.
    expires_at: dict[str, float] = field(default_factory=dict, repr=False)

    @classmethod
    def from_header(cls, text: str) -> SessionCookies:
        return cls(parse_cookie_header(text))

    def missing_required(self) -> list[str]:
        return [name for name in REQUIRED if not self.values.get(name)]

    @property
    def names(self) -> list[str]:
        return sorted(self.values)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    @property
    def csrf_token(self) -> str:
        """The `csrf-token` header: always the current JSESSIONID, without quotes."""
        return self.values.get(JSESSIONID, "").strip('"')

    def _live(self, now: float | None) -> list[tuple[str, str]]:
        moment = time.time() if now is None else now
        return [
            (name, value)
            for name, value in self.values.items()
            if self.expires_at.get(name, moment + 1) > moment
        ]

    def header(self, now: float | None = None) -> str:
        """The `Cookie` header, without cookies whose lifetime has run out."""
        return "; ".join(f"{name}={value}" for name, value in self._live(now))

    def live_names(self, now: float | None = None) -> list[str]:
        """The names `header` sends, in its order."""
        return [name for name, _ in self._live(now)]

    def apply(self, set_cookie_headers: Iterable[str], now: float | None = None) -> JarChange:
        """Apply an answer's `Set-Cookie` headers as a browser would."""
        moment = time.time() if now is None else now
        change = JarChange()
        for header in set_cookie_headers:
            cookie = parse_set_cookie(header, moment)
            if cookie is None:
                continue
            if cookie.deletes(moment):
                if cookie.name in self.values or cookie.name == LI_AT:
                    self.values.pop(cookie.name, None)
                    self.expires_at.pop(cookie.name, None)
                    change.deleted.append(cookie.name)
                continue
            if self.values.get(cookie.name) != cookie.value:
                change.set.append(cookie.name)
            self.values[cookie.name] = cookie.value
            if cookie.expires_at is None:
                self.expires_at.pop(cookie.name, None)
            else:
                self.expires_at[cookie.name] = cookie.expires_at
        return change

    def to_document(self) -> dict[str, object]:
        return {"cookies": dict(self.values), "expiresAt": dict(self.expires_at)}

    @classmethod
    def from_document(cls, document: Mapping[str, object]) -> SessionCookies:
        cookies = document.get("cookies")
        expires = document.get("expiresAt")
        return cls(
            {str(k): str(v) for k, v in cookies.items()} if isinstance(cookies, Mapping) else {},
            {str(k): float(v) for k, v in expires.items()} if isinstance(expires, Mapping) else {},
        )


@dataclass(slots=True)
class SeatState:
    """Everything kept of one seat's LinkedIn session, stored encrypted as one
    document: the jar, who the member is, the contract chosen by name (None:
    the member's only one), and the UTC day the seat was last checked."""

    cookies: SessionCookies
    member_name: str | None = None
    member_public_identifier: str | None = None
    contract: str | None = None
    seat_checked_on: str | None = None

    def to_document(self) -> dict[str, object]:
        return {
            "version": 2,
            **self.cookies.to_document(),
            "member": {"name": self.member_name, "publicIdentifier": self.member_public_identifier},
            "contract": self.contract,
            "seatCheckedOn": self.seat_checked_on,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, object]) -> SeatState:
        """Either this document or the first version's `{"liAt", "jsessionId"}`,
        which has never had its seat checked."""
        if "liAt" in document:
            jsessionid = str(document.get("jsessionId", ""))
            return cls(
                SessionCookies({LI_AT: str(document["liAt"]), JSESSIONID: f'"{jsessionid}"'})
            )
        member = document.get("member")
        member = member if isinstance(member, Mapping) else {}
        return cls(
            cookies=SessionCookies.from_document(document),
            member_name=_optional(member.get("name")),
            member_public_identifier=_optional(member.get("publicIdentifier")),
            contract=_optional(document.get("contract")),
            seat_checked_on=_optional(document.get("seatCheckedOn")),
        )


def _optional(value: object) -> str | None:
    return value if isinstance(value, str) else None
