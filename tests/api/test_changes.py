"""Changes between two lists: order, summary, pages, ETags, isolation and export."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contactlists.lists.changes import CSV_HEADER, diff
from tests.api.helpers import assert_error, company
from tests.api.test_refresh import contacts, make_list
from tests.conftest import AccountKeys, MakeAccount

LISTS = "/v1/contacts/lists"


def body(companies: list[str], title: str) -> dict[str, Any]:
    urls = [company(vanity) for vanity in companies]
    return {"name": "Targets", "filters": {"companyLinkedInUrls": urls, "jobTitles": [title]}}


async def changes(
    client: httpx.AsyncClient, headers: dict[str, str], list_id: str, query: str
) -> httpx.Response:
    return await client.get(f"{LISTS}/{list_id}/changes?{query}", headers=headers)


async def all_changes(
    client: httpx.AsyncClient, headers: dict[str, str], list_id: str, since: str
) -> dict[str, Any]:
    response = await changes(client, headers, list_id, f"since={since}&limit=100")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
async def pair(client: httpx.AsyncClient, acct: AccountKeys) -> tuple[str, str]:
    """(newer, older): 30 people in both with another role, 5 joined, 3 gone."""
    older = await make_list(client, acct.live, body(["sandbox-exact-30", "sandbox-exact-3"], "CTO"))
    newer = await make_list(client, acct.live, body(["sandbox-exact-30", "sandbox-exact-5"], "VP"))
    return newer["id"], older["id"]


class TestChanges:
    async def test_added_changed_and_removed_in_the_stated_order(
        self, client: httpx.AsyncClient, acct: AccountKeys, pair: tuple[str, str]
    ) -> None:
        newer, older = pair
        found = await all_changes(client, acct.live, newer, older)
        assert found["summary"] == {"added": 5, "removed": 3, "changed": 30, "unchanged": 0}
        assert (found["total"], found["limit"], found["offset"], found["hasMore"]) == (
            38,
            100,
            0,
            False,
        )
        new_contacts = await contacts(client, acct.live, newer)
        old_contacts = await contacts(client, acct.live, older)
        old_people = {c["baseContactId"] for c in old_contacts}
        new_people = {c["baseContactId"] for c in new_contacts}
        expected = [c["baseContactId"] for c in new_contacts] + [
            c["baseContactId"] for c in old_contacts if c["baseContactId"] not in new_people
        ]
        assert [item["baseContactId"] for item in found["items"]] == expected
        for item in found["items"]:
            assert set(item) == {"change", "baseContactId", "before", "after", "changedFields"}
            if item["change"] == "changed":
                assert item["baseContactId"] in old_people
                assert item["before"]["listId"] == older
                assert item["after"]["listId"] == newer
                assert item["before"]["role"] == "CTO"
                assert item["after"]["role"] == "VP"
                assert item["changedFields"] == ["role", "seniority"]
            elif item["change"] == "added":
                assert item["before"] is None
                assert item["after"]["listId"] == newer
                assert item["changedFields"] == []
            else:
                assert item["after"] is None
                assert item["before"]["listId"] == older

    async def test_the_summary_adds_up_to_both_counts(
        self, client: httpx.AsyncClient, acct: AccountKeys, pair: tuple[str, str]
    ) -> None:
        newer, older = pair
        for a, b in ((newer, older), (older, newer)):
            summary = (await all_changes(client, acct.live, a, b))["summary"]
            count_a = (await client.get(f"{LISTS}/{a}", headers=acct.live)).json()["contactCount"]
            count_b = (await client.get(f"{LISTS}/{b}", headers=acct.live)).json()["contactCount"]
            assert summary["added"] + summary["changed"] + summary["unchanged"] == count_a
            assert summary["removed"] + summary["changed"] + summary["unchanged"] == count_b

    async def test_the_same_people_unchanged_are_only_counted(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        one = await make_list(client, acct.live, body(["sandbox-exact-30"], "CTO"))
        two = await make_list(client, acct.live, body(["sandbox-exact-30"], "CTO"))
        for since in (one["id"], two["id"]):
            found = await all_changes(client, acct.live, two["id"], since)
            assert found["items"] == []
            assert found["total"] == 0
            assert found["summary"] == {"added": 0, "removed": 0, "changed": 0, "unchanged": 30}

    async def test_pages_tile_and_carry_the_summary(
        self, client: httpx.AsyncClient, acct: AccountKeys, pair: tuple[str, str]
    ) -> None:
        newer, older = pair
        whole = await all_changes(client, acct.live, newer, older)
        tiled: list[Any] = []
        offset = 0
        while True:
            page = await changes(client, acct.live, newer, f"since={older}&limit=7&offset={offset}")
            assert page.status_code == 200
            found = page.json()
            assert found["summary"] == whole["summary"]
            assert found["total"] == 38
            tiled += found["items"]
            offset += 7
            assert found["hasMore"] == (offset < 38)
            if not found["hasMore"]:
                break
        assert tiled == whole["items"]
        past = (await changes(client, acct.live, newer, f"since={older}&offset=500")).json()
        assert (past["items"], past["total"], past["hasMore"]) == ([], 38, False)
        default = (await changes(client, acct.live, newer, f"since={older}")).json()
        assert (default["limit"], len(default["items"])) == (25, 25)

    async def test_a_strong_etag_and_304(
        self, client: httpx.AsyncClient, acct: AccountKeys, pair: tuple[str, str]
    ) -> None:
        newer, older = pair
        first = await changes(client, acct.live, newer, f"since={older}&limit=10")
        etag = first.headers["etag"]
        assert etag.startswith('"')
        again = await changes(client, acct.live, newer, f"since={older}&limit=10")
        assert (again.headers["etag"], again.content) == (etag, first.content)
        headers = {**acct.live, "If-None-Match": etag}
        not_modified = await changes(client, acct.live | headers, newer, f"since={older}&limit=10")
        assert not_modified.status_code == 304
        assert not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        other = await changes(client, acct.live, newer, f"since={older}&limit=10&offset=10")
        assert other.headers["etag"] != etag

    async def test_a_deleted_list_is_404_even_when_its_page_was_cached(
        self, client: httpx.AsyncClient, acct: AccountKeys, pair: tuple[str, str]
    ) -> None:
        newer, older = pair
        assert (await changes(client, acct.live, newer, f"since={older}")).status_code == 200
        assert (await client.delete(f"{LISTS}/{older}", headers=acct.live)).status_code == 204
        gone = await changes(client, acct.live, newer, f"since={older}")
        assert_error(gone, 404, "LIST_NOT_FOUND")


class TestIsolationAndValidation:
    async def test_another_accounts_or_modes_list_is_404_in_either_position(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        owner = await make_account()
        other = await make_account()
        mine = (await make_list(client, owner.live))["id"]
        theirs = (await make_list(client, other.live))["id"]
        test_mode = (await make_list(client, owner.test))["id"]
        for a, b in ((mine, theirs), (theirs, mine), (mine, test_mode), (test_mode, mine)):
            for path in ("changes", "changes/export"):
                response = await client.get(
                    f"{LISTS}/{a}/{path}", params={"since": b}, headers=owner.live
                )
                assert_error(response, 404, "LIST_NOT_FOUND")
                assert "Engineering leads" not in response.text
        missing = await changes(client, owner.live, mine, "since=cl_missing")
        assert_error(missing, 404, "LIST_NOT_FOUND")
        # The test key sees its own lists only.
        both_test = await changes(client, owner.test, test_mode, f"since={test_mode}")
        assert both_test.status_code == 200
        assert_error(
            await changes(client, owner.test, test_mode, f"since={mine}"), 404, "LIST_NOT_FOUND"
        )

    @pytest.mark.parametrize(
        "query",
        [
            "",
            "since=",
            "since={id}&since={id}",
            "since={id}&limit=0",
            "since={id}&limit=101",
            "since={id}&offset=-1",
        ],
    )
    async def test_bad_queries_are_400_before_the_lists_are_looked_up(
        self, client: httpx.AsyncClient, acct: AccountKeys, query: str
    ) -> None:
        list_id = (await make_list(client, acct.live))["id"]
        response = await changes(client, acct.live, "cl_missing", query.format(id=list_id))
        assert_error(response, 400, "INVALID_QUERY_PARAMETER")


class TestExport:
    async def test_csv_has_one_row_a_change_in_page_order(
        self, client: httpx.AsyncClient, acct: AccountKeys, pair: tuple[str, str]
    ) -> None:
        newer, older = pair
        whole = await all_changes(client, acct.live, newer, older)
        response = await client.get(
            f"{LISTS}/{newer}/changes/export", params={"since": older}, headers=acct.live
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert "Targets changes.csv" in response.headers["content-disposition"]
        text = response.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert tuple(rows[0]) == CSV_HEADER
        assert [row[:2] for row in rows[1:]] == [
            [item["change"], item["baseContactId"]] for item in whole["items"]
        ]
        changed = next(row for row in rows[1:] if row[0] == "changed")
        record = dict(zip(rows[0], changed, strict=True))
        assert record["changedFields"] == "role;seniority"
        assert (record["before.role"], record["after.role"]) == ("CTO", "VP")
        added = dict(zip(rows[0], next(r for r in rows[1:] if r[0] == "added"), strict=True))
        assert added["before.id"] == ""

    async def test_ndjson_is_the_pages_items(
        self, client: httpx.AsyncClient, acct: AccountKeys, pair: tuple[str, str]
    ) -> None:
        newer, older = pair
        whole = await all_changes(client, acct.live, newer, older)
        response = await client.get(
            f"{LISTS}/{newer}/changes/export",
            params={"since": older, "format": "ndjson"},
            headers=acct.live,
        )
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = response.content.decode().splitlines()
        assert [json.loads(line) for line in lines] == whole["items"]

    async def test_bad_format_or_since_is_400(
        self, client: httpx.AsyncClient, acct: AccountKeys, pair: tuple[str, str]
    ) -> None:
        newer, older = pair
        for params in ({"since": older, "format": "xml"}, {"format": "csv"}):
            response = await client.get(
                f"{LISTS}/{newer}/changes/export", params=params, headers=acct.live
            )
            assert_error(response, 400, "INVALID_QUERY_PARAMETER")


def test_diff_of_wire_contacts() -> None:
    def person(pid: str, role: str) -> dict[str, Any]:
        return {
            "baseContactId": pid,
            "role": role,
            "companyName": "A",
            "location": None,
            "seniority": [],
        }

    older = [person("a", "x"), person("b", "x"), person("c", "x")]
    newer = [person("d", "x"), person("c", "y"), person("a", "x")]
    found = diff(newer, older)
    assert [(e["change"], e["baseContactId"]) for e in found.entries] == [
        ("added", "d"),
        ("changed", "c"),
        ("removed", "b"),
    ]
    assert found.summary == {"added": 1, "removed": 1, "changed": 1, "unchanged": 1}


class TestTimePasses:
    async def test_create_advance_the_clock_refresh_and_see_all_three_kinds(
        self, app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        everyone = {
            "name": "Stripe",
            "filters": {"companyLinkedInUrls": [company("stripe")], "keywords": "stripe"},
        }
        old = await make_list(client, acct.live, everyone)
        # Half a year later, as an operator would restart a demo server.
        app.state.settings.sandbox_time_shift_days = 183
        response = await client.post(f"{LISTS}/{old['id']}/refresh", headers=acct.live)
        assert response.status_code == 201, response.text
        new = response.json()
        assert new["refreshedFrom"] == old["id"]
        found = await all_changes(client, acct.live, new["id"], old["id"])
        summary = found["summary"]
        assert summary["added"] > 0
        assert summary["removed"] > 0
        assert summary["changed"] > 0
        assert summary["added"] + summary["changed"] + summary["unchanged"] == new["contactCount"]
        assert summary["removed"] + summary["changed"] + summary["unchanged"] == old["contactCount"]
        assert {item["change"] for item in found["items"]} == {"added", "removed", "changed"}
        for item in found["items"]:
            if item["change"] == "changed":
                assert "role" in item["changedFields"]
                assert item["before"]["role"] != item["after"]["role"]
