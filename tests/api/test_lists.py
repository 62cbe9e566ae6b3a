"""The seven endpoints' successes, through HTTP."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import sqlalchemy as sa

from contactlists.core.db import Database
from contactlists.core.models import BaseContact, ContactListItem
from tests.api.helpers import assert_error, company, create_body
from tests.conftest import AccountKeys, MakeAccount

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/v1/contacts/lists", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


class TestCreate:
    async def test_returns_the_list_with_location(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = create_body("sandbox-exact-30", job_titles=["Engineering Manager"])
        response = await client.post("/v1/contacts/lists", json=body, headers=acct.live)
        assert response.status_code == 201
        created = response.json()
        assert response.headers["location"] == f"/v1/contacts/lists/{created['id']}"
        assert set(created) == {
            "id",
            "name",
            "filters",
            "contactCount",
            "provider",
            "refreshedFrom",
            "createdAt",
            "updatedAt",
        }
        assert created["name"] == "Engineering leads"
        assert created["contactCount"] == 30
        assert created["provider"] == "sandbox"
        assert created["refreshedFrom"] is None
        assert created["filters"] == {
            "companyLinkedInUrls": [company("sandbox-exact-30")],
            "jobTitles": ["Engineering Manager"],
        }
        assert TIMESTAMP.fullmatch(created["createdAt"])
        assert created["createdAt"] == created["updatedAt"]
        assert len(created["id"]) >= 20

    async def test_normalises_and_omits_unsupplied_filters(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = {
            "name": "  Spaced name  ",
            "filters": {
                "companyLinkedInUrls": [
                    "http://linkedin.com/company/Sandbox-Exact-3/",
                    "https://www.linkedin.com/company/sandbox-exact-3",
                    "www.linkedin.com/company/sandbox-exact-3/about/?x=1#y",
                ],
                "jobTitles": [],
                "keywords": "   ",
                "countries": ["us", "GB", "Us"],
            },
        }
        created = await create(client, acct.live, body)
        assert created["name"] == "Spaced name"
        assert created["filters"] == {
            "companyLinkedInUrls": [company("sandbox-exact-3")],
            "countries": ["US", "GB"],
        }

    async def test_sales_navigator_company_url_is_kept_in_its_form(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        body = create_body(keywords="engineer")
        body["filters"]["companyLinkedInUrls"] = ["https://www.linkedin.com/sales/company/2135371"]
        created = await create(client, acct.live, body)
        assert created["filters"]["companyLinkedInUrls"] == [
            "https://www.linkedin.com/sales/company/2135371"
        ]

    async def test_empty_search_is_a_valid_empty_list(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await create(client, acct.live, create_body("sandbox-exact-0"))
        assert created["contactCount"] == 0
        page = (
            await client.get(f"/v1/contacts/lists/{created['id']}/contacts", headers=acct.live)
        ).json()
        assert page == {"items": [], "total": 0, "limit": 25, "offset": 0, "hasMore": False}

    async def test_captures_at_most_five_pages(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await create(client, acct.live, create_body("sandbox-exact-200"))
        assert created["contactCount"] == 125

    async def test_duplicate_leads_are_stored_once(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: Database
    ) -> None:
        created = await create(client, acct.live, create_body("sandbox-duplicates"))
        async with database.transaction() as conn:
            profiles = (
                (
                    await conn.execute(
                        sa.select(ContactListItem.base_contact_id).where(
                            ContactListItem.list_id == created["id"]
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert len(profiles) == len(set(profiles)) == created["contactCount"]


class TestContacts:
    async def test_pages_in_stored_order_with_contract_shape(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await create(client, acct.live, create_body("sandbox-exact-30"))
        url = f"/v1/contacts/lists/{created['id']}/contacts"
        first = (await client.get(url, headers=acct.live)).json()
        second = (await client.get(url, params={"offset": 25}, headers=acct.live)).json()
        assert (first["total"], first["limit"], first["offset"], first["hasMore"]) == (
            30,
            25,
            0,
            True,
        )
        assert (second["offset"], second["hasMore"], len(second["items"])) == (25, False, 5)
        everything = (await client.get(url, params={"limit": 100}, headers=acct.live)).json()
        assert everything["items"] == first["items"] + second["items"]
        item = first["items"][0]
        assert set(item) >= {
            "id",
            "listId",
            "baseContactId",
            "firstName",
            "lastName",
            "fullName",
            "role",
            "companyName",
            "location",
            "seniority",
            "linkedInSalesNavigatorProfileUrl",
            "createdAt",
        }
        assert item["listId"] == created["id"]
        assert item["createdAt"] == created["createdAt"]
        assert re.fullmatch(
            r"https://www\.linkedin\.com/sales/lead/ACwAA[\w-]+,NAME_SEARCH,[\w-]{4}",
            item["linkedInSalesNavigatorProfileUrl"],
        )
        assert isinstance(item["seniority"], list)

    async def test_offset_past_the_end_gives_true_total(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await create(client, acct.live, create_body("sandbox-exact-3"))
        page = await client.get(
            f"/v1/contacts/lists/{created['id']}/contacts",
            params={"offset": 2147483647},
            headers=acct.live,
        )
        assert page.json() == {
            "items": [],
            "total": 3,
            "limit": 25,
            "offset": 2147483647,
            "hasMore": False,
        }

    async def test_same_person_in_two_lists_shares_base_contact(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        one = await create(client, acct.live, create_body("sandbox-exact-5"))
        two = await create(client, acct.live, create_body("sandbox-exact-5", name="again"))
        items_one = (
            await client.get(f"/v1/contacts/lists/{one['id']}/contacts", headers=acct.live)
        ).json()["items"]
        items_two = (
            await client.get(f"/v1/contacts/lists/{two['id']}/contacts", headers=acct.live)
        ).json()["items"]
        assert [i["baseContactId"] for i in items_one] == [i["baseContactId"] for i in items_two]
        assert {i["id"] for i in items_one}.isdisjoint({i["id"] for i in items_two})


class TestListLists:
    async def test_newest_first_with_paging(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        ids = [
            (await create(client, acct.live, create_body("sandbox-exact-1", name=f"n{i}")))["id"]
            for i in range(3)
        ]
        page = (await client.get("/v1/contacts/lists", headers=acct.live)).json()
        assert [item["id"] for item in page["items"]] == ids[::-1]
        assert (page["total"], page["limit"], page["offset"], page["hasMore"]) == (3, 20, 0, False)
        second = (
            await client.get(
                "/v1/contacts/lists", params={"limit": 1, "offset": 1}, headers=acct.live
            )
        ).json()
        assert [item["id"] for item in second["items"]] == [ids[1]]
        assert second["hasMore"] is True

    async def test_total_counts_only_the_callers_lists_at_and_past_the_end(
        self, client: httpx.AsyncClient, acct: AccountKeys, make_account: MakeAccount
    ) -> None:
        other = await make_account()
        for headers in (acct.live, acct.live, acct.test, other.live):
            await create(client, headers, create_body("sandbox-exact-1"))
        for offset, count in ((0, 2), (1, 1), (2, 0), (3, 0), (2147483647, 0)):
            page = (
                await client.get("/v1/contacts/lists", params={"offset": offset}, headers=acct.live)
            ).json()
            assert (len(page["items"]), page["total"], page["hasMore"]) == (count, 2, False)
        empty = await make_account()
        page = (await client.get("/v1/contacts/lists", headers=empty.live)).json()
        assert (page["items"], page["total"]) == ([], 0)
        past = await client.get("/v1/contacts/lists", params={"offset": 5}, headers=empty.live)
        assert (past.json()["items"], past.json()["total"]) == ([], 0)


class TestGetRenameDelete:
    async def test_get_returns_the_created_list(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await create(client, acct.live, create_body())
        got = await client.get(f"/v1/contacts/lists/{created['id']}", headers=acct.live)
        assert got.status_code == 200
        assert got.json() == created

    async def test_rename_moves_updated_at_only(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        created = await create(client, acct.live, create_body())
        renamed = await client.put(
            f"/v1/contacts/lists/{created['id']}", json={"name": " New name "}, headers=acct.live
        )
        assert renamed.status_code == 200
        body = renamed.json()
        assert body["name"] == "New name"
        assert body["updatedAt"] >= created["updatedAt"]
        assert {k: v for k, v in body.items() if k not in ("name", "updatedAt")} == {
            k: v for k, v in created.items() if k not in ("name", "updatedAt")
        }

    async def test_delete_removes_list_items_and_orphans_only(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: Database
    ) -> None:
        shared_a = await create(client, acct.live, create_body("sandbox-exact-5"))
        shared_b = await create(client, acct.live, create_body("sandbox-exact-5", name="b"))
        alone = await create(client, acct.live, create_body("sandbox-exact-7"))

        async def counts() -> tuple[int, int]:
            async with database.transaction() as conn:
                people = (
                    await conn.execute(sa.select(sa.func.count()).select_from(BaseContact))
                ).scalar_one()
                items = (
                    await conn.execute(sa.select(sa.func.count()).select_from(ContactListItem))
                ).scalar_one()
            return people, items

        assert await counts() == (12, 17)
        deleted = await client.delete(f"/v1/contacts/lists/{alone['id']}", headers=acct.live)
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert await counts() == (5, 10)
        await client.delete(f"/v1/contacts/lists/{shared_a['id']}", headers=acct.live)
        assert await counts() == (5, 5)
        await client.delete(f"/v1/contacts/lists/{shared_b['id']}", headers=acct.live)
        assert await counts() == (0, 0)
        again = await client.get(f"/v1/contacts/lists/{shared_b['id']}", headers=acct.live)
        assert_error(again, 404, "LIST_NOT_FOUND")


class TestModesAndAccounts:
    async def test_test_key_sees_only_test_lists_and_needs_no_connection(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(connect=False)
        created = await create(client, account.test, create_body())
        assert created["provider"] == "sandbox"
        live_view = await client.get(f"/v1/contacts/lists/{created['id']}", headers=account.live)
        assert_error(live_view, 404, "LIST_NOT_FOUND")
        assert (await client.get("/v1/contacts/lists", headers=account.live)).json()["total"] == 0
        assert (await client.get("/v1/contacts/lists", headers=account.test)).json()["total"] == 1

    async def test_other_account_cannot_see_or_touch(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        owner, other = await make_account(), await make_account()
        created = await create(client, owner.live, create_body())
        path = f"/v1/contacts/lists/{created['id']}"
        for response in (
            await client.get(path, headers=other.live),
            await client.get(path + "/contacts", headers=other.live),
            await client.put(path, json={"name": "x"}, headers=other.live),
            await client.delete(path, headers=other.live),
        ):
            assert_error(response, 404, "LIST_NOT_FOUND")
        assert (await client.get(path, headers=owner.live)).json() == created


class TestCredits:
    async def test_unlimited_account(self, client: httpx.AsyncClient, acct: AccountKeys) -> None:
        response = await client.get("/v1/credits", headers=acct.live)
        assert response.json() == {"remainingCredits": None, "unlimited": True}

    async def test_limited_account_is_charged_per_page_with_leads(
        self, client: httpx.AsyncClient, make_account: MakeAccount
    ) -> None:
        account = await make_account(credits=10)
        assert (await client.get("/v1/credits", headers=account.live)).json() == {
            "remainingCredits": 10,
            "unlimited": False,
        }
        await create(client, account.live, create_body("sandbox-exact-30"))
        await create(client, account.live, create_body("sandbox-exact-0"))
        await create(client, account.test, create_body("sandbox-exact-125"))
        remaining = (await client.get("/v1/credits", headers=account.live)).json()
        assert remaining["remainingCredits"] == 8


class TestStoredItems:
    async def test_items_are_stored_as_the_list_is(
        self, client: httpx.AsyncClient, acct: AccountKeys, database: Database
    ) -> None:
        """Items go in on the driver itself; their stored values must be what
        SQLAlchemy stores for the list written beside them."""
        created = await create(client, acct.live, create_body("sandbox-exact-30"))
        async with database.transaction() as conn:
            rows = (
                await conn.execute(
                    sa.text(
                        "SELECT l.created_at, i.created_at, i.seniority FROM contact_lists l "
                        "JOIN contact_list_items i ON i.list_id = l.id "
                        "WHERE l.id = :id ORDER BY i.position"
                    ),
                    {"id": created["id"]},
                )
            ).all()
        assert len(rows) == 30
        assert {row[0] for row in rows} == {row[1] for row in rows}
        page = (
            await client.get(
                f"/v1/contacts/lists/{created['id']}/contacts",
                params={"limit": 30},
                headers=acct.live,
            )
        ).json()
        stored = [row[2] if isinstance(row[2], list) else json.loads(row[2]) for row in rows]
        assert stored == [item["seniority"] for item in page["items"]]
        assert {item["createdAt"] for item in page["items"]} == {created["createdAt"]}
