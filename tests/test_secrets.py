"""No raw API key or LinkedIn cookie in the database, the logs or any response.

A real server at log level debug (its whole output captured) goes through what
touches secrets: keys good, test-mode, malformed and well-formed but unknown;
cookies refused and accepted; searches that succeed and fail upstream (in debug
mode, whose error bodies carry the cause). Then every response, the log and
every row of every table are searched for each secret. The keys are stored as
hashes and the cookies encrypted, so none may appear anywhere.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from contactlists.core.db import Database
from contactlists.core.models import Base
from tests.api.sales_navigator import INTEGRATION, LINKEDIN_PUT, MANAGERS_AT_STRIPE
from tests.fakes.linkedin_server import JSESSIONID, LI_AT, FakeLinkedIn
from tests.live_server import fresh_database_url, provisioned_server

LISTS = "/v1/contacts/lists"


async def _every_row(database_url: str) -> str:
    database = Database(database_url)
    try:
        async with database.transaction() as conn:
            rows = [
                repr(tuple(row))
                for table in Base.metadata.sorted_tables
                for row in (await conn.execute(sa.select(table))).all()
            ]
    finally:
        await database.dispose()
    return "\n".join(rows)


async def test_no_secret_anywhere(
    backend: str, request: pytest.FixtureRequest, fake_linkedin: FakeLinkedIn, tmp_path: Path
) -> None:
    fake_linkedin.add_company("stripe", "2135371", 30, title="Engineering Manager")
    database_url = fresh_database_url(backend, request, tmp_path)
    log = tmp_path / "server.log"
    settings = {
        "CONTACTLISTS_LOG_LEVEL": "debug",
        # Debug mode is refused in production; it is where secrets could leak most.
        "CONTACTLISTS_ENV": "development",
        "CONTACTLISTS_DEBUG": "true",
        "CONTACTLISTS_LINKEDIN_BASE_URL": fake_linkedin.base_url,
        "CONTACTLISTS_LINKEDIN_PAGE_DELAY_MS": "0",
        "CONTACTLISTS_LINKEDIN_RETRY_BACKOFF_MS": "0",
    }
    with provisioned_server(database_url, tmp_path, log, **settings) as server:
        unknown_key = server.live[:-4] + ("AAAA" if not server.live.endswith("AAAA") else "BBBB")
        live = {"Authorization": f"Bearer {server.live}"}
        with httpx.Client(base_url=server.base) as client:
            responses = [
                client.get(LISTS, headers={"Authorization": f"Bearer {unknown_key}"}),
                client.get(LISTS, headers={"Authorization": f"Bearer {server.live}x"}),
                client.get(LISTS, headers={"Authorization": f"Basic {server.live}"}),
                client.get(f"{LISTS}?key={server.live}", headers=live),
                client.get(LISTS, headers={"Authorization": f"Bearer {server.test}"}),
                client.put(INTEGRATION, json={**LINKEDIN_PUT, "liAt": LI_AT + "x"}, headers=live),
                client.put(INTEGRATION, json=LINKEDIN_PUT, headers=live),
                client.get(INTEGRATION, headers=live),
                client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=live),
            ]
            fake_linkedin.fail("wrong-shape", page=1)
            responses.append(client.post(LISTS, json=MANAGERS_AT_STRIPE, headers=live))
            fake_linkedin.fail("csrf", page=1, path="/voyager/api/organization/companies")
            body = {**MANAGERS_AT_STRIPE, "filters": {
                "companyLinkedInUrls": ["https://www.linkedin.com/company/unknown"],
                "jobTitles": ["x"],
            }}  # fmt: skip
            responses.append(client.post(LISTS, json=body, headers=live))
            responses.append(client.get(INTEGRATION, headers=live))
    statuses = [response.status_code for response in responses]
    assert statuses == [401, 401, 401, 200, 200, 422, 200, 200, 201, 502, 422, 200]
    assert "debug" in responses[9].json()["error"]
    secrets = {
        "live key": server.live,
        "test key": server.test,
        "unknown key": unknown_key,
        "li_at": LI_AT,
        "JSESSIONID": JSESSIONID.removeprefix("ajax:"),
    }
    output = log.read_text()
    assert "DEBUG" in output.upper()  # the capture is at debug level
    stored = await _every_row(database_url)
    assert "gAAAAA" in stored  # the cookies, as a Fernet token
    for name, secret in secrets.items():
        for response in responses:
            assert secret not in response.text, name
            assert secret not in str(response.headers), name
        assert secret not in output, f"{name} in the server's output"
        assert secret not in stored, f"{name} in the database"
