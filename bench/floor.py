"""The framework floor for the memory figure: the stack the architecture
prescribes (FastAPI, SQLAlchemy's async engine on aiosqlite), with one route
returning the same bytes and none of the service's own code.

Its idle RSS over the bare Starlette worker's is what the stack itself costs
before the service adds anything; `make bench` prints both ratios.
"""

from __future__ import annotations

import os

import aiosqlite  # noqa: F401 - the driver the engine loads, as the service's does
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.responses import Response

from bench.apps import static_body

engine = create_async_engine(os.environ.get("BENCH_FLOOR_URL", "sqlite+aiosqlite://"))
floor_app = FastAPI()
_BODY = static_body()


@floor_app.get("/{path:path}")
async def page(path: str) -> Response:
    del path
    return Response(_BODY, media_type="application/json")
