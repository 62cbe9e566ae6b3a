"""The export endpoint through HTTP: CSV and NDJSON against the JSON pages."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI

from contactlists.lists.export import ExportInterrupted
from tests.api.helpers import assert_error, create_body
from tests.conftest import AccountKeys, MakeAccount

LISTS = "/v1/contacts/lists"
BOM = "\ufeff".encode()
# The contract's contact fields, in its order, then the additive ones.
CSV_HEADER = [
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
    "headline",
    "linkedInProfileUrl",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
DISPOSITION = re.compile(
    r'attachment; filename="(?P<plain>[ -~]*)"; '
    r"filename\*=UTF-8''(?P<encoded>[A-Za-z0-9!#$&+.^_`|~%-]+)"
)


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], vanity: str, **options: Any
) -> str:
    response = await client.post(LISTS, json=create_body(vanity, **options), headers=headers)
    assert response.status_code == 201, response.text
    list_id: str = response.json()["id"]
    return list_id


async def _pages(
    client: httpx.AsyncClient, headers: dict[str, str], list_id: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        response = await client.get(
            f"{LISTS}/{list_id}/contacts",
            params={"limit": 40, "offset": len(items)},
            headers=headers,
        )
        page = response.json()
        items += page["items"]
        if not page["hasMore"]:
            return items


async def _export(
    client: httpx.AsyncClient, headers: dict[str, str], list_id: str, query: str = ""
) -> httpx.Response:
    return await client.get(f"{LISTS}/{list_id}/export{query}", headers=headers)


def _read_csv(body: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    """Back to contacts: the documented escape undone, empty cells as null."""
    assert body.startswith(BOM)
    header, *records = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    contacts = []
    for record in records:
        contact: dict[str, Any] = {}
        for name, cell in zip(header, record, strict=True):
            if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
                cell = cell[1:]
            if name == "seniority":
                contact[name] = cell.split(";") if cell else []
            else:
                contact[name] = cell or None
        contacts.append(contact)
    return header, contacts


def _filenames(response: httpx.Response) -> tuple[str, str]:
    """(the ASCII `filename`, the decoded RFC 8187 `filename*`)."""
    header = response.headers["content-disposition"]
    match = DISPOSITION.fullmatch(header)
    assert match, header
    return match["plain"], unquote(match["encoded"], errors="strict")


class TestCsv:
    async def test_125_contacts_read_back_to_the_json_pages(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        list_id = await _create(client, acct.live, "sandbox-exact-125")
        response = await _export(client, acct.live, list_id)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        header, contacts = _read_csv(response.content)
        pages = await _pages(client, acct.live, list_id)
        assert len(pages) == 125
        assert header == CSV_HEADER
        assert set(header) == set(pages[0])
        assert contacts == [{k: v if v != "" else None for k, v in c.items()} for c in pages]
        assert response.content.endswith(b"\r\n")

    @pytest.mark.parametrize(
        "title", ["=SUM(A1)", "+1 555 0100", "-10", "@cmd", "＝SUM(A1)", "＋1", "－10", "＠cmd"]
    )
    async def test_formula_cells_start_with_an_apostrophe(
        self, client: httpx.AsyncClient, acct: AccountKeys, title: str
    ) -> None:
        list_id = await _create(client, acct.test, "sandbox-exact-3", job_titles=[title])
        response = await _export(client, acct.test, list_id, "?format=csv")
        records = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(records) == 3
        assert {record["role"] for record in records} == {"'" + title}
        assert all(record["headline"].startswith("'" + title) for record in records)
        ndjson = await _export(client, acct.test, list_id, "?format=ndjson")
        assert {json.loads(line)["role"] for line in ndjson.text.splitlines()} == {title}

    async def test_empty_list_is_the_header_alone(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        list_id = await _create(client, acct.test, "sandbox-exact-0")
        response = await _export(client, acct.test, list_id)
        assert response.content == BOM + (",".join(CSV_HEADER) + "\r\n").encode()
        ndjson = await _export(client, acct.test, list_id, "?format=ndjson")
        assert ndjson.status_code == 200
        assert ndjson.content == b""


class TestNdjson:
    async def test_lines_are_the_json_pages_exactly(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        list_id = await _create(client, acct.live, "sandbox-exact-125")
        response = await _export(client, acct.live, list_id, "?format=ndjson")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.content.endswith(b"\n")
        lines = [json.loads(line) for line in response.content.split(b"\n")[:-1]]
        pages = await _pages(client, acct.live, list_id)
        assert lines == pages
        assert [list(line) for line in lines] == [list(item) for item in pages]


class TestFilename:
    @pytest.mark.parametrize(
        ("name", "fmt", "plain", "utf8"),
        [
            ("Engineers at Stripe", "csv", "Engineers at Stripe.csv", "Engineers at Stripe.csv"),
            (
                "Ingénieurs à Zürich — 2026",
                "ndjson",
                "Ingenieurs a Zurich 2026.ndjson",
                "Ingénieurs à Zürich — 2026.ndjson",
            ),
            ('Sales "EU" / Q1', "csv", "Sales _EU_ _ Q1.csv", "Sales _EU_ _ Q1.csv"),
            ("日本のエンジニア", "csv", "contact-list-{id}.csv", "日本のエンジニア.csv"),
            ("!!! ???", "csv", "contact-list-{id}.csv", "contact-list-{id}.csv"),
            # A right-to-left override would show `Invoice\u202excs.exe` as `Invoiceexe.scv`.
            ("Invoice\u202excs.exe", "csv", "Invoicexcs.exe.csv", "Invoicexcs.exe.csv"),
            ("a\u200bb\u2066c\u2069\ufeffd", "csv", "abcd.csv", "abcd.csv"),
        ],
    )
    async def test_from_the_list_name_with_an_ascii_fallback(
        self,
        client: httpx.AsyncClient,
        acct: AccountKeys,
        name: str,
        fmt: str,
        plain: str,
        utf8: str,
    ) -> None:
        list_id = await _create(client, acct.test, "sandbox-exact-1", name=name)
        response = await _export(client, acct.test, list_id, f"?format={fmt}")
        assert response.headers["content-disposition"].isascii()
        assert _filenames(response) == (plain.format(id=list_id), utf8.format(id=list_id))


class TestErrors:
    async def test_unknown_other_accounts_and_other_modes_lists_are_404(
        self, client: httpx.AsyncClient, acct: AccountKeys, make_account: MakeAccount
    ) -> None:
        list_id = await _create(client, acct.live, "sandbox-exact-2")
        other = await make_account()
        for headers, target in (
            (acct.live, "cl_doesnotexist"),
            (acct.test, list_id),
            (other.live, list_id),
        ):
            for query in ("", "?format=ndjson"):
                response = await _export(client, headers, target, query)
                assert_error(response, 404, "LIST_NOT_FOUND")

    async def test_missing_or_bad_key_is_401(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        list_id = await _create(client, acct.live, "sandbox-exact-2")
        assert_error(await _export(client, {}, list_id), 401, "MISSING_API_KEY")
        bad = {"Authorization": "Bearer sk_live_" + "A" * 43}
        assert_error(await _export(client, bad, list_id), 401, "INVALID_API_KEY")

    @pytest.mark.parametrize(
        "query", ["?format=xml", "?format=CSV", "?format=", "?format=csv&format=csv"]
    )
    async def test_bad_format_is_400_before_the_lookup(
        self, client: httpx.AsyncClient, acct: AccountKeys, query: str
    ) -> None:
        for list_id in (await _create(client, acct.test, "sandbox-exact-1"), "cl_doesnotexist"):
            response = await _export(client, acct.test, list_id, query)
            assert_error(response, 400, "INVALID_QUERY_PARAMETER", field="format")

    async def test_accept_may_name_the_export_types_but_not_others(
        self, client: httpx.AsyncClient, acct: AccountKeys
    ) -> None:
        list_id = await _create(client, acct.test, "sandbox-exact-1")
        for accept, query in (
            ("text/csv", ""),
            ("text/*", ""),
            ("application/x-ndjson", "?format=ndjson"),
            ("application/json", ""),
        ):
            response = await _export(client, {**acct.test, "Accept": accept}, list_id, query)
            assert response.status_code == 200, accept
        refused = await _export(client, {**acct.test, "Accept": "text/html"}, list_id)
        assert_error(refused, 406, "NOT_ACCEPTABLE")
        json_only = await client.get(LISTS, headers={**acct.test, "Accept": "text/csv"})
        assert_error(json_only, 406, "NOT_ACCEPTABLE")


async def test_openapi_declares_both_media_types(client: httpx.AsyncClient) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"][f"{LISTS}/{{listId}}/export"]
    export = operation["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv", "application/x-ndjson"}
    assert "Content-Disposition" in export["responses"]["200"]["headers"]
    (format_parameter,) = [p for p in export["parameters"] if p["name"] == "format"]
    assert format_parameter["schema"]["enum"] == ["csv", "ndjson"]
    assert {"400", "401", "404", "406"} <= set(export["responses"])


async def test_a_list_deleted_mid_export_cuts_the_stream(
    app: FastAPI, client: httpx.AsyncClient, acct: AccountKeys
) -> None:
    """Driven at the ASGI level: the list goes between the header chunk and the rows."""
    list_id = await _create(client, acct.test, "sandbox-exact-3")
    bodies: list[bytes] = []
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            bodies.append(message.get("body", b""))
            if len(bodies) == 1:
                deleted = await client.delete(f"{LISTS}/{list_id}", headers=acct.test)
                assert deleted.status_code == 204

    path = f"{LISTS}/{list_id}/export"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", acct.test["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    with pytest.raises(ExportInterrupted):
        await app(scope, receive, send)
    assert bodies == [BOM + (",".join(CSV_HEADER) + "\r\n").encode()]
