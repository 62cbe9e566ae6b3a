"""The two baselines the service is measured against, as ASGI apps for uvicorn.

- `static_app`: a bare Starlette endpoint returning pre-serialised bytes — the
  ceiling of the server stack itself.
- `reference_app`: hand-written code doing what the service must do for a
  contacts page (key lookup by hash, the list's existence for this account and
  mode, the page of items) with the raw driver and orjson: sync `sqlite3`, or
  an asyncpg pool on PostgreSQL.

Both read their configuration from `BENCH_*` environment variables because
uvicorn imports them by name in a fresh process.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    import asyncpg

_KEY_SQL = (
    "SELECT k.account_id, k.mode, k.revoked_at FROM api_keys k "
    "JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = {0}"
)
_LIST_SQL = (
    "SELECT contact_count FROM contact_lists WHERE id = {0} AND account_id = {1} AND mode = {2}"
)
_ITEMS_SQL = (
    "SELECT id, list_id, base_contact_id, first_name, last_name, full_name, role, company_name, "
    "location, seniority, sales_navigator_lead, headline, linkedin_profile_url, created_at "
    "FROM contact_list_items WHERE list_id = {0} AND position >= {1} AND position < {2} "
    "ORDER BY position"
)
_HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


def static_body() -> bytes:
    """The bytes `BENCH_STATIC_BODY` names, or `{}`."""
    if "BENCH_STATIC_BODY" not in os.environ:
        return b"{}"
    with open(os.environ["BENCH_STATIC_BODY"], "rb") as body:
        return body.read()


_BODY = static_body()


async def _static(_: Request) -> Response:
    return Response(_BODY, media_type="application/json", headers=_HEADERS)


static_app = Starlette(routes=[Route("/{path:path}", _static)])


def _stamp(value: Any) -> str:
    text = value if isinstance(value, str) else value.isoformat(" ")
    return text[:10] + "T" + text[11:19] + "Z"


def _page(list_id: str, total: int, rows: list[Any], limit: int, offset: int) -> bytes:
    items = [
        {
            "id": r[0],
            "listId": r[1],
            "baseContactId": r[2],
            "firstName": r[3],
            "lastName": r[4],
            "fullName": r[5],
            "role": r[6],
            "companyName": r[7],
            "location": r[8],
            "seniority": orjson.loads(r[9]) if isinstance(r[9], str) else r[9],
            "linkedInSalesNavigatorProfileUrl": "https://www.linkedin.com/sales/lead/" + r[10],
            "headline": r[11],
            "linkedInProfileUrl": r[12],
            "createdAt": _stamp(r[13]),
        }
        for r in rows
    ]
    del list_id
    return orjson.dumps(
        {
            "items": items,
            "total": total,
            "limit": limit,
            "offset": offset,
            "hasMore": offset + len(items) < total,
        }
    )


def _unauthorised() -> Response:
    return Response(b'{"error":"unauthorised"}', status_code=401, media_type="application/json")


def _not_found() -> Response:
    return Response(b'{"error":"not found"}', status_code=404, media_type="application/json")


def _paging(request: Request) -> tuple[int, int]:
    return int(request.query_params.get("limit", "25")), int(
        request.query_params.get("offset", "0")
    )


# Only the SQLite reference opens it: the bare worker is Starlette and uvicorn alone.
_sqlite = (
    sqlite3.connect(os.environ["BENCH_SQLITE_PATH"], check_same_thread=False)
    if "BENCH_SQLITE_PATH" in os.environ
    else None
)


async def _contacts_sqlite(request: Request) -> Response:
    assert _sqlite is not None
    token = request.headers.get("authorization", "")[7:]
    key = _sqlite.execute(
        _KEY_SQL.format("?"), (hashlib.sha256(token.encode()).hexdigest(),)
    ).fetchone()
    if key is None or key[2] is not None:
        return _unauthorised()
    list_id = request.path_params["list_id"]
    found = _sqlite.execute(_LIST_SQL.format("?", "?", "?"), (list_id, key[0], key[1])).fetchone()
    if found is None:
        return _not_found()
    limit, offset = _paging(request)
    rows = _sqlite.execute(
        _ITEMS_SQL.format("?", "?", "?"), (list_id, offset, offset + limit)
    ).fetchall()
    return Response(
        _page(list_id, found[0], rows, limit, offset),
        media_type="application/json",
        headers=_HEADERS,
    )


_pool: asyncpg.Pool | None = None


@asynccontextmanager
async def _lifespan(_: Starlette) -> AsyncIterator[None]:
    global _pool
    if "BENCH_POSTGRES_DSN" in os.environ:
        # Imported only here, so the bare worker is Starlette and uvicorn alone.
        import asyncpg

        _pool = await asyncpg.create_pool(os.environ["BENCH_POSTGRES_DSN"], min_size=4, max_size=10)
    yield
    if _pool is not None:
        await _pool.close()


async def _contacts_postgres(request: Request) -> Response:
    assert _pool is not None
    token = request.headers.get("authorization", "")[7:]
    async with _pool.acquire() as conn:
        key = await conn.fetchrow(_KEY_SQL.format("$1"), hashlib.sha256(token.encode()).hexdigest())
        if key is None or key[2] is not None:
            return _unauthorised()
        list_id = request.path_params["list_id"]
        total = await conn.fetchval(_LIST_SQL.format("$1", "$2", "$3"), list_id, key[0], key[1])
        if total is None:
            return _not_found()
        limit, offset = _paging(request)
        rows = await conn.fetch(
            _ITEMS_SQL.format("$1", "$2", "$3"), list_id, offset, offset + limit
        )
    return Response(
        _page(list_id, total, rows, limit, offset), media_type="application/json", headers=_HEADERS
    )


_CONTACTS = "/v1/contacts/lists/{list_id}/contacts"
reference_app = Starlette(
    routes=[
        Route(
            _CONTACTS,
            _contacts_postgres if "BENCH_POSTGRES_DSN" in os.environ else _contacts_sqlite,
        )
    ],
    lifespan=_lifespan,
)
