"""`contactlists lists ...` as a user runs it: subprocesses against a real server."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from contactlists.client import Client
from tests.api.helpers import company
from tests.live_server import LiveServer, free_port, run_server
from tests.test_cli import Cli, last_line

ERROR_LINE = re.compile(r"error: (?P<message>.+) \((?P<code>[A-Z_]+), request (?P<request>\S+)\)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_server(tmp_path_factory.mktemp("client-cli")) as live:
        yield live


class Lists(Cli):
    """`contactlists lists ...` with the server's URL and key in the environment."""

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return super().__call__("lists", *args, ok=ok)

    def search(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        """`contactlists contacts search ...`, in the same environment."""
        return super().__call__("contacts", "search", *args, ok=ok)


@pytest.fixture
def lists(server: LiveServer, tmp_path: Path) -> Lists:
    runner = Lists(tmp_path)
    runner.env.update(
        CONTACTLISTS_API_URL=server.base, CONTACTLISTS_API_KEY=server.test, COLUMNS="250"
    )
    return runner


def _create(server: LiveServer, vanity: str = "sandbox-exact-30") -> str:
    """A list made through the client: these tests are about the other commands."""
    with Client(server.base, server.test) as client:
        created = client.lists.create(
            name="CLI leads", company_linkedin_urls=[company(vanity)], job_titles=["Engineer"]
        )
    return created.id


def test_create_then_read_it_back(lists: Lists, server: LiveServer) -> None:
    result = lists(
        "create",
        "--name",
        "Engineers at Stripe",
        "--company-linkedin",
        company("sandbox-exact-30"),
        "--company-linkedin",
        company("sandbox-exact-3"),
        "--title",
        "Engineer",
        "--title",
        "Manager",
        "--keyword",
        "engineer",
        "--country",
        "us",
    )
    list_id = last_line(result)
    assert re.fullmatch(r"cl_[a-z2-7]{26}", list_id)
    assert "Engineers at Stripe" in result.stdout
    with Client(server.base, server.test) as client:
        created = client.lists.get(list_id)
    assert created.filters.job_titles == ["Engineer", "Manager"]
    assert created.filters.keywords == "engineer"
    assert created.filters.countries == ["US"]
    shown = lists("get", list_id).stdout
    assert list_id in shown
    assert str(created.contact_count) in shown
    assert json.loads(lists("get", list_id, "--json").stdout) == created.model_dump(
        mode="json", by_alias=True
    )
    assert list_id in lists("list").stdout


def test_contacts_table_and_json(lists: Lists, server: LiveServer) -> None:
    list_id = _create(server)
    with Client(server.base, server.test) as client:
        contacts = list(client.contacts.iter(list_id))
    table = lists("contacts", list_id).stdout
    assert all(contact.full_name and contact.full_name in table for contact in contacts)
    raw = json.loads(lists("contacts", list_id, "--json").stdout)
    assert raw == [contact.model_dump(mode="json", by_alias=True) for contact in contacts]


def test_rename_and_delete(lists: Lists, server: LiveServer) -> None:
    list_id = _create(server)
    assert "New [/name]" in lists("rename", list_id, "--name", "New [/name]").stdout
    with Client(server.base, server.test) as client:
        assert client.lists.get(list_id).name == "New [/name]"
    lists("delete", list_id)
    missing = lists("get", list_id, ok=False)
    assert missing.returncode == 1
    line = ERROR_LINE.fullmatch(missing.stderr.strip())
    assert line, missing.stderr
    assert line["code"] == "LIST_NOT_FOUND"
    assert list_id in line["message"]


def test_export_writes_csv_and_ndjson(lists: Lists, server: LiveServer, tmp_path: Path) -> None:
    list_id = _create(server, "sandbox-exact-125")
    for fmt in ("csv", "ndjson"):
        target = tmp_path / f"out.{fmt}"
        result = lists("export", list_id, "--format", fmt, "-o", str(target))
        assert last_line(result) == str(target)
        assert "125 contacts" in result.stdout
        assert "125/125" in result.stderr
    csv_body = (tmp_path / "out.csv").read_bytes()
    assert csv_body.startswith("\ufeffid,listId,".encode())
    assert csv_body.count(b"\r\n") == 126
    lines = (tmp_path / "out.ndjson").read_bytes().splitlines()
    assert [json.loads(line)["listId"] for line in lines] == [list_id] * 125


def test_validation_errors_name_code_and_request(lists: Lists) -> None:
    result = lists("create", "--name", "x", "--company-linkedin", "https://example.com/x", ok=False)
    line = ERROR_LINE.fullmatch(result.stderr.strip())
    assert line, result.stderr
    assert line["code"] == "INVALID_COMPANY_URL"


def test_flags_override_the_environment(lists: Lists, server: LiveServer) -> None:
    lists.env["CONTACTLISTS_API_URL"] = f"http://127.0.0.1:{free_port()}"
    lists.env["CONTACTLISTS_API_KEY"] = "sk_test_" + "A" * 43
    result = lists("list", "--api-url", server.base, "--api-key", server.test)
    assert "id" in result.stdout
    denied = lists("list", "--api-url", server.base, ok=False)
    line = ERROR_LINE.fullmatch(denied.stderr.strip())
    assert line, denied.stderr
    assert line["code"] == "INVALID_API_KEY"


def test_missing_key_is_a_clear_error(lists: Lists) -> None:
    del lists.env["CONTACTLISTS_API_KEY"]
    result = lists("list", ok=False)
    assert "CONTACTLISTS_API_KEY" in result.stderr


def test_contacts_search_takes_the_originals_flags(lists: Lists, server: LiveServer) -> None:
    flags = [
        "--company-linkedin", company("sandbox-exact-60"), "--title", "Engineer",
        "--keyword", "engineer", "--country", "us", "--department", "engineering",
        "--seniority", "senior", "--first-name", "", "--last-name", "",
        "--limit", "10", "--offset", "5",
    ]  # fmt: skip
    raw = json.loads(lists.search(*flags, "--json").stdout)
    assert (raw["limit"], raw["offset"], raw["salesNavConnected"]) == (10, 5, True)
    with Client(server.base, server.test) as client:
        page = client.contacts.search(
            company_linkedin_urls=[company("sandbox-exact-60")],
            job_titles=["Engineer"],
            keywords="engineer",
            countries=["US"],
            departments=["Engineering"],
            seniority_levels=["SENIOR"],
            limit=10,
            offset=5,
        )
    assert raw == page.model_dump(mode="json", by_alias=True)
    table = lists.search("--company-linkedin", company("sandbox-exact-30")).stdout
    assert "Showing 1-25 of 30 matches." in table
    bad = lists.search("--department", "Engineering Ops", ok=False)
    line = ERROR_LINE.fullmatch(bad.stderr.strip())
    assert line, bad.stderr
    assert line["message"] == "validation failed for 'departments': invalid value: Engineering Ops"


def test_refresh_then_changes(lists: Lists, server: LiveServer) -> None:
    with Client(server.base, server.test) as client:
        older = client.lists.create(
            name="before",
            company_linkedin_urls=[company("sandbox-exact-30"), company("sandbox-exact-3")],
            job_titles=["CTO"],
        )
        newer = client.lists.create(
            name="after",
            company_linkedin_urls=[company("sandbox-exact-30"), company("sandbox-exact-5")],
            job_titles=["VP"],
        )
    result = lists("refresh", older.id)
    refreshed = last_line(result)
    assert refreshed != older.id
    assert older.id in result.stdout  # "refreshed from"
    raw = json.loads(lists("refresh", older.id, "--json").stdout)
    assert raw["refreshedFrom"] == older.id
    table = lists("changes", newer.id, "--since", older.id).stdout
    assert "5 added, 3 removed, 30 changed, 0 unchanged." in table
    assert "CTO at Sandbox Exact 30" in table
    found = json.loads(lists("changes", newer.id, "--since", older.id, "--json").stdout)
    assert found["summary"] == {"added": 5, "removed": 3, "changed": 30, "unchanged": 0}
    assert len(found["items"]) == 38
    assert found["items"][0]["after"]["listId"] == newer.id
    missing = lists("changes", newer.id, "--since", "cl_missing", ok=False)
    line = ERROR_LINE.fullmatch(missing.stderr.strip())
    assert line, missing.stderr
    assert line["code"] == "LIST_NOT_FOUND"
