"""The Python client against a real `contactlists serve` process."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from contactlists.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    Contact,
    ContactList,
    NotFoundError,
    ValidationError,
)
from tests.api.helpers import company
from tests.live_server import LiveServer, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("client")) as live:
        yield live


@pytest.fixture
def api(server: LiveServer) -> Iterator[Client]:
    with Client(server.base, server.test) as client:
        yield client


def _create(api: Client, vanity: str, name: str = "Engineers") -> ContactList:
    return api.lists.create(
        name=name, company_linkedin_urls=[company(vanity)], job_titles=["Engineer"]
    )


def test_create_get_rename_delete(api: Client) -> None:
    created = api.lists.create(
        name="  Stripe engineers ",
        company_linkedin_urls=["linkedin.com/company/Sandbox-Exact-30"],
        job_titles=["Engineer"],
        countries=["us", "GB"],
    )
    assert created.name == "Stripe engineers"
    assert created.contact_count == 30
    assert created.provider == "sandbox"
    assert created.filters.company_linked_in_urls == [company("sandbox-exact-30")]
    assert created.filters.countries == ["US", "GB"]
    assert created.filters.keywords is None
    assert api.lists.get(created.id) == created
    renamed = api.lists.rename(created.id, "Renamed")
    assert (renamed.id, renamed.name, renamed.created_at) == (
        created.id,
        "Renamed",
        created.created_at,
    )
    api.lists.delete(created.id)
    with pytest.raises(NotFoundError) as raised:
        api.lists.get(created.id)
    error = raised.value
    assert (error.status, error.type, error.error_code) == (404, "NOT_FOUND", "LIST_NOT_FOUND")
    assert error.error_action is None
    assert error.request_id
    assert error.fields == ()


def test_a_repeated_idempotency_key_replays_the_create(api: Client) -> None:
    first = _create(api, "sandbox-exact-3", name="once")
    again, replayed = (
        api.lists.create(
            name="once",
            company_linkedin_urls=[company("sandbox-exact-3")],
            job_titles=["Engineer"],
            idempotency_key="client-test-replay",
        )
        for _ in range(2)
    )
    assert replayed == again
    assert again.id != first.id


def test_iterators_page_through_everything(api: Client) -> None:
    made = [_create(api, "sandbox-exact-30", name=f"list {n}") for n in range(3)]
    listed = [item.id for item in api.lists.iter(page_size=2)]
    assert [item.id for item in reversed(made)] == [i for i in listed if i in {m.id for m in made}]
    assert len(listed) == api.lists.page(limit=1).total
    contacts = list(api.contacts.iter(made[0].id, page_size=7))
    assert len(contacts) == 30
    assert contacts == api.contacts.page(made[0].id, limit=100).items
    assert all(isinstance(contact, Contact) for contact in contacts)
    assert len({contact.id for contact in contacts}) == 30


def test_validation_and_auth_errors_are_typed(api: Client, server: LiveServer) -> None:
    with pytest.raises(ValidationError) as raised:
        api.lists.create(
            name="x",
            company_linkedin_urls=["https://www.linkedin.com/in/someone"],
            job_titles=["Engineer"],
        )
    assert raised.value.error_code == "INVALID_COMPANY_URL"
    assert raised.value.fields[0].field == "filters.companyLinkedInUrls[0]"
    with Client(server.base, "sk_test_" + "A" * 43) as stranger:
        with pytest.raises(AuthenticationError) as denied:
            stranger.lists.page()
    assert denied.value.error_code == "INVALID_API_KEY"
    assert denied.value.error_action == "CHECK_API_KEY"


def test_export_streams_to_a_file(api: Client, tmp_path: Path) -> None:
    created = _create(api, "sandbox-exact-125")
    contacts = [c.model_dump(mode="json", by_alias=True) for c in api.contacts.iter(created.id)]
    progress: list[int] = []
    target = tmp_path / "leads.ndjson"
    written = api.lists.export(created.id, target, format="ndjson", on_progress=progress.append)
    assert written == sum(progress) == 125
    assert [json.loads(line) for line in target.read_text().splitlines()] == contacts
    csv_target = tmp_path / "leads.csv"
    assert api.lists.export(created.id, csv_target) == 125
    with csv_target.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert [record["id"] for record in records] == [contact["id"] for contact in contacts]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["leads.csv", "leads.ndjson"]


def test_export_of_a_missing_list_raises_and_leaves_no_file(api: Client, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        api.lists.export("cl_doesnotexist", tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_modes_are_isolated(api: Client, server: LiveServer) -> None:
    created = _create(api, "sandbox-exact-2")
    with Client(server.base, server.live) as live:
        with pytest.raises(NotFoundError):
            live.lists.get(created.id)
        assert created.id not in {item.id for item in live.lists.iter()}


def test_credits(api: Client) -> None:
    credits = api.credits.get()
    assert credits.unlimited is True
    assert credits.remaining_credits is None


async def test_async_client(server: LiveServer, tmp_path: Path) -> None:
    async with AsyncClient(server.base, server.test) as api:
        created = await api.lists.create(
            name="async", company_linkedin_urls=[company("sandbox-exact-30")], keywords="engineer"
        )
        assert (await api.lists.get(created.id)).contact_count == created.contact_count
        contacts = [contact async for contact in api.contacts.iter(created.id, page_size=4)]
        assert len(contacts) == created.contact_count
        assert created.id in [item.id async for item in api.lists.iter()]
        written = await api.lists.export(created.id, tmp_path / "a.ndjson", format="ndjson")
        assert written == created.contact_count
        assert (await api.lists.rename(created.id, "again")).name == "again"
        assert (await api.credits.get()).unlimited is True
        await api.lists.delete(created.id)
        with pytest.raises(NotFoundError):
            await api.lists.get(created.id)


def test_search_previews_a_page(api: Client) -> None:
    page = api.contacts.search(
        company_linkedin_urls=[company("sandbox-exact-60")],
        job_titles=["Engineer"],
        departments=[],
        limit=10,
        offset=5,
    )
    assert (page.total, page.limit, page.offset, page.has_more) == (60, 10, 5, True)
    assert page.sales_nav_connected is True
    assert len(page.items) == 10
    assert page.items[0].linked_in_sales_navigator_profile_url.startswith(
        "https://www.linkedin.com/sales/lead/"
    )
    with pytest.raises(ValidationError) as missing:
        api.contacts.search(limit=10)
    assert missing.value.error_code == "MISSING_FILTER"


def test_search_pages_end_at_the_last_page(api: Client) -> None:
    urls = [company("sandbox-exact-60")]
    pages = list(api.contacts.search_pages(company_linkedin_urls=urls, page_size=25))
    assert [(p.offset, len(p.items)) for p in pages] == [(0, 25), (25, 25), (50, 10)]


def test_search_pages_stop_at_linkedins_cap(api: Client) -> None:
    urls = [company(f"sandbox-exact-{500 - i}") for i in range(6)]  # 2,985 people
    pages = list(api.contacts.search_pages(company_linkedin_urls=urls, offset=2350))
    assert [(p.offset, p.limit, len(p.items)) for p in pages] == [(2350, 100, 100), (2450, 50, 50)]
    assert pages[-1].total == 2500
    assert pages[-1].has_more is False


async def test_async_search(server: LiveServer) -> None:
    async with AsyncClient(server.base, server.test) as client:
        page = await client.contacts.search(company_linkedin_urls=[company("sandbox-exact-30")])
        assert (page.total, len(page.items)) == (30, 25)
        pages = [
            p
            async for p in client.contacts.search_pages(
                company_linkedin_urls=[company("sandbox-exact-30")], page_size=20
            )
        ]
        assert [len(p.items) for p in pages] == [20, 10]


def _pair(api: Client) -> tuple[ContactList, ContactList]:
    """(older, newer): 30 people in both with another role, 3 gone, 5 joined."""
    urls = [company("sandbox-exact-30")]
    older = api.lists.create(
        name="pair", company_linkedin_urls=[*urls, company("sandbox-exact-3")], job_titles=["CTO"]
    )
    newer = api.lists.create(
        name="pair", company_linkedin_urls=[*urls, company("sandbox-exact-5")], job_titles=["VP"]
    )
    return older, newer


def test_refresh_and_changes(api: Client) -> None:
    older, newer = _pair(api)
    refreshed = api.lists.refresh(older.id)
    assert refreshed.refreshed_from == older.id
    assert (refreshed.name, refreshed.contact_count) == (older.name, older.contact_count)
    assert api.lists.refresh(older.id, idempotency_key="k1").id == (
        api.lists.refresh(older.id, idempotency_key="k1").id
    )
    page = api.lists.changes_page(newer.id, since=older.id, limit=5)
    assert page.summary.model_dump() == {"added": 5, "removed": 3, "changed": 30, "unchanged": 0}
    assert (page.total, len(page.items), page.has_more) == (38, 5, True)
    found = list(api.lists.changes(newer.id, since=older.id, page_size=7))
    assert [c.change for c in found].count("changed") == 30
    assert found[-1].change == "removed"
    assert found[-1].after is None
    assert found[-1].before is not None
    assert found[-1].before.list_id == older.id
    assert not list(api.lists.changes(refreshed.id, since=older.id))
    with pytest.raises(NotFoundError):
        api.lists.changes_page(newer.id, since="cl_missing")


async def test_async_refresh_and_changes(server: LiveServer) -> None:
    with Client(server.base, server.test) as sync_api:
        older, newer = _pair(sync_api)
    async with AsyncClient(server.base, server.test) as api:
        refreshed = await api.lists.refresh(newer.id)
        assert refreshed.refreshed_from == newer.id
        page = await api.lists.changes_page(newer.id, since=older.id)
        assert page.summary.changed == 30
        found = [c async for c in api.lists.changes(newer.id, since=older.id, page_size=10)]
        assert len(found) == page.total == 38
