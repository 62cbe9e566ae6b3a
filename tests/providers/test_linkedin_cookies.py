"""A seat's cookie jar: the header a user copies, and what LinkedIn's Set-Cookie does to it."""

from __future__ import annotations

import pytest

from contactlists.providers.linkedin_cookies import (
    MalformedCookieHeader,
    SeatState,
    SessionCookies,
    parse_cookie_header,
    parse_set_cookie,
)
from contactlists.providers.seniority import lead_seniority, seniority_from_facets
from tests.fakes.linkedin_server import COOKIE_HEADER, JSESSIONID, LI_AT

NOW = 1_800_000_000.0


class TestCookieHeader:
    def test_values_are_kept_exactly(self) -> None:
        cookies = parse_cookie_header(COOKIE_HEADER)
        assert cookies["li_at"] == LI_AT
        assert cookies["JSESSIONID"] == f'"{JSESSIONID}"'
        assert cookies["lang"] == "v=2&lang=en-us"  # only the first '=' splits
        assert cookies["bcookie"].startswith('"v=2&')

    @pytest.mark.parametrize(
        "text",
        [
            f"Cookie: {COOKIE_HEADER}",
            f"cookie:{COOKIE_HEADER}",
            f"'{COOKIE_HEADER}'",
            f'"{COOKIE_HEADER}"',
            f"'cookie: {COOKIE_HEADER}'",
            f"  {COOKIE_HEADER};  \n",
            COOKIE_HEADER.replace("; ", ";\r\n "),
        ],
    )
    def test_what_a_copy_brings_along_is_tolerated(self, text: str) -> None:
        assert parse_cookie_header(text) == parse_cookie_header(COOKIE_HEADER)

    @pytest.mark.parametrize(
        "text", ["", "   ", "Cookie:", "li_at", "li_at=x; novalue", "=x", "a b=c", "a=b\x00c"]
    )
    def test_what_is_not_a_header(self, text: str) -> None:
        with pytest.raises(MalformedCookieHeader):
            parse_cookie_header(text)

    def test_missing_session_cookies_are_named(self) -> None:
        assert SessionCookies.from_header("bcookie=1").missing_required() == [
            "li_at",
            "JSESSIONID",
        ]
        assert SessionCookies.from_header(COOKIE_HEADER).missing_required() == []

    def test_the_csrf_token_is_the_current_jsessionid_unquoted(self) -> None:
        jar = SessionCookies.from_header(COOKIE_HEADER)
        assert jar.csrf_token == JSESSIONID
        jar.apply(['JSESSIONID="ajax:999"; Path=/; Secure'], NOW)
        assert jar.csrf_token == "ajax:999"


class TestSetCookie:
    @pytest.mark.parametrize(
        "header",
        [
            "li_at=delete me; Expires=Thu, 01-Jan-1970 00:00:10 GMT; Path=/",
            "li_at=gone; Max-Age=0",
            "li_at=gone; Max-Age=-1",
            "li_at=gone; expires=Wed, 21 Oct 2015 07:28:00 GMT",
            "li_at=delete me",
        ],
    )
    def test_each_way_of_deleting(self, header: str) -> None:
        jar = SessionCookies.from_header(COOKIE_HEADER)
        change = jar.apply([header], NOW)
        assert change.deleted == ["li_at"]
        assert jar.get("li_at") is None
        assert "li_at=" not in jar.header(NOW)

    def test_new_values_replace_and_lifetimes_expire(self) -> None:
        jar = SessionCookies({"li_at": "a", "JSESSIONID": '"ajax:1"'})
        change = jar.apply(['lidc="b=1"; Max-Age=60; Path=/', "li_at=a; Path=/"], NOW)
        assert (change.set, change.deleted) == (["lidc"], [])  # li_at unchanged
        assert jar.header(NOW) == 'li_at=a; JSESSIONID="ajax:1"; lidc="b=1"'
        assert jar.header(NOW + 61) == 'li_at=a; JSESSIONID="ajax:1"'

    def test_max_age_wins_over_expires(self) -> None:
        cookie = parse_set_cookie("a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=10", NOW)
        assert cookie is not None
        assert cookie.expires_at == NOW + 10

    @pytest.mark.parametrize("header", ["no-equals-sign", "=value", "  ; Path=/"])
    def test_headers_a_browser_ignores(self, header: str) -> None:
        assert parse_set_cookie(header, NOW) is None

    def test_deleting_an_unknown_cookie_changes_nothing(self) -> None:
        jar = SessionCookies({"li_at": "a"})
        assert not jar.apply(["other=x; Max-Age=0"], NOW)


class TestSeatState:
    def test_round_trip(self) -> None:
        jar = SessionCookies.from_header(COOKIE_HEADER)
        jar.apply(["lidc=x; Max-Age=60"], NOW)
        state = SeatState(jar, "Ada", "ada", "Core", "2026-11-27")
        again = SeatState.from_document(state.to_document())
        assert again.cookies.values == jar.values
        assert again.cookies.expires_at == jar.expires_at
        assert (again.member_name, again.contract, again.seat_checked_on) == (
            "Ada",
            "Core",
            "2026-11-27",
        )

    def test_the_first_versions_two_cookies_still_read(self) -> None:
        state = SeatState.from_document({"liAt": LI_AT, "jsessionId": JSESSIONID})
        assert state.cookies.values == {"li_at": LI_AT, "JSESSIONID": f'"{JSESSIONID}"'}
        assert state.seat_checked_on is None  # its seat is checked on the next search


class TestLinkedInsOwnSeniority:
    @pytest.mark.parametrize(
        ("ids", "title", "expected"),
        [
            ((320, 310), "Founder & CEO", ["OWNER", "CXO"]),
            ((320,), "Managing Partner", ["PARTNER"]),
            ((320,), "Engineer", ["OWNER"]),
            ((300,), "anything", ["VP"]),
            ((220, 120), None, ["DIRECTOR", "SENIOR"]),
            ((210, 200), "x", ["MANAGER"]),
            ((130, 110, 100), "x", ["STRATEGIC", "ENTRY", "TRAINING"]),
            ((999,), "x", []),
        ],
    )
    def test_the_facet_table(
        self, ids: tuple[int, ...], title: str | None, expected: list[str]
    ) -> None:
        assert seniority_from_facets(ids, title) == expected

    def test_the_title_speaks_only_when_linkedin_did_not(self) -> None:
        assert lead_seniority("VP Sales", (220,)) == ["DIRECTOR"]
        assert lead_seniority("VP Sales", None) == ["VP"]
        assert lead_seniority("VP Sales", ()) == ["VP"]
