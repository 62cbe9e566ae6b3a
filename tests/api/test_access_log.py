"""One access line per request: who, what route, what answer, how long; never a secret."""

from __future__ import annotations

import logging

import httpx
import orjson
import pytest

from contactlists.core.logging_setup import TextFormatter, json_formatter
from tests.api.helpers import create_body
from tests.conftest import AccountKeys

LISTS = "/v1/contacts/lists"
COOKIE_SECRET = "li_at-cookie-value-that-must-not-leak"


@pytest.fixture
def access(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="contactlists.access")
    return caplog


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "contactlists.access"]


async def test_one_line_per_request_with_its_context(
    client: httpx.AsyncClient, acct: AccountKeys, access: pytest.LogCaptureFixture
) -> None:
    created = await client.post(
        LISTS, json=create_body("sandbox-exact-3"), headers={**acct.live, "X-Request-Id": "req-1"}
    )
    list_id = created.json()["id"]
    responses = [
        created,
        await client.get(f"{LISTS}/{list_id}/contacts", headers=acct.test),
        await client.get(LISTS),
        await client.get("/nowhere"),
    ]
    records = access_records(access)
    assert len(records) == len(responses)
    expected = [
        (acct.id, "POST", LISTS, 201),
        (acct.id, "GET", f"{LISTS}/{{listId}}/contacts", 404),  # a test key sees no live list
        (None, "GET", LISTS, 401),
        (None, "GET", "unmatched", 404),
    ]
    for record, response, (account_id, method, route, status) in zip(
        records, responses, expected, strict=True
    ):
        assert record.levelno == logging.INFO
        assert record.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
        assert getattr(record, "account_id", None) == account_id
        assert (record.method, record.route, record.status) == (method, route, status)  # type: ignore[attr-defined]
        assert record.duration_ms >= 0  # type: ignore[attr-defined]
        assert record.getMessage().startswith(f"{method} {route} {status} ")
    assert records[0].request_id == "req-1"  # type: ignore[attr-defined]


async def test_json_and_text_lines(
    client: httpx.AsyncClient, acct: AccountKeys, access: pytest.LogCaptureFixture
) -> None:
    response = await client.get(LISTS, headers=acct.live)
    (record,) = access_records(access)
    line = orjson.loads(json_formatter().format(record))
    assert line["level"] == "INFO"
    assert line["logger"] == "contactlists.access"
    assert line["time"].endswith("+00:00")
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["account_id"] == acct.id
    assert (line["method"], line["route"], line["status"]) == ("GET", LISTS, 200)
    assert isinstance(line["duration_ms"], float)
    text = TextFormatter().format(record)
    assert f" INFO contactlists.access: GET {LISTS} 200 " in text
    assert text.endswith(f" request_id={line['request_id']} account_id={acct.id}")


async def test_no_key_cookie_or_authorization_header_is_logged(
    client: httpx.AsyncClient, acct: AccountKeys, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = (acct.live_key, acct.test_key, COOKIE_SECRET)
    cookie = {"Cookie": f"li_at={COOKIE_SECRET}; JSESSIONID=ajax:1"}
    await client.get(LISTS, headers={**acct.live, **cookie})
    await client.get(f"{LISTS}?key={acct.live_key}", headers=acct.test)
    await client.get(f"/v1/{acct.live_key}", headers=cookie)
    await client.get(LISTS, headers={"Authorization": f"Bearer {acct.live_key[:-1]}x"})
    await client.get(LISTS, headers={"Authorization": f"Basic {acct.test_key}"})
    await client.put(
        "/v1/integrations/sales-navigator",
        json={"provider": "sandbox", "liAt": COOKIE_SECRET},
        headers=acct.live,
    )
    assert len(access_records(caplog)) == 6
    formatters = (json_formatter(), TextFormatter())
    # httpx's records are this test's client logging its own requests.
    served = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    lines = [f.format(record) for record in served for f in formatters]
    for line in lines:
        assert "authorization" not in line.lower()
        assert "bearer" not in line.lower()
        for secret in secrets:
            assert secret not in line
            assert secret[8:20] not in line
