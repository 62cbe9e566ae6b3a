"""The interactive docs, served with assets from an installed package.

FastAPI's own `/docs` and `/redoc` pages load Swagger UI and ReDoc from a CDN:
blank on an offline machine, and third-party script without integrity checks
in production. `fastapi-offline` ships the same bundles (Swagger UI 5, which
reads OpenAPI 3.1, and ReDoc 2) as package data; these routes serve them from
this process, so the pages reference nothing but this server.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
# URL → (file in the package's static directory, media type).
ASSETS = {
    f"{DOCS_PATH}/swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript"),
    f"{DOCS_PATH}/swagger-ui.css": ("swagger-ui.css", "text/css"),
    f"{DOCS_PATH}/favicon.png": ("favicon.png", "image/png"),
    f"{REDOC_PATH}/redoc.standalone.js": ("redoc.standalone.js", "text/javascript"),
}


def _static_directory() -> Path:
    # Located, not imported: only its data is used.
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("fastapi-offline is not installed; it carries the docs' assets")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """`/docs` (Swagger UI), `/redoc` and their assets, all from this server."""
    static = _static_directory()
    title = f"{app.title} — docs"

    async def swagger_ui(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{DOCS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_PATH}/favicon.png",
            # Swagger UI would otherwise send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    async def redoc(_: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{REDOC_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_PATH}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route(DOCS_PATH, swagger_ui, include_in_schema=False)
    app.add_route(REDOC_PATH, redoc, include_in_schema=False)
    for url, (name, media_type) in ASSETS.items():
        path = static / name

        async def asset(_: Request, path: Path = path, media_type: str = media_type) -> Response:
            return FileResponse(path, media_type=media_type)

        app.add_route(url, asset, include_in_schema=False)
