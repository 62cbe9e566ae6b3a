"""The OpenAPI document: FastAPI's, with the contract's security scheme, the
error envelope on every authenticated operation, and links between operations."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from contactlists.core.errors import (
    InternalError,
    NotAcceptable,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
    Unauthenticated,
    error_responses,
)

# Every authenticated operation can answer these, whatever its own errors are
# (a request of any method may send a body, and be too slow sending it).
_COMMON_ERRORS = error_responses(
    Unauthenticated, NotAcceptable, RequestTimeout, RateLimited, InternalError, ServiceUnavailable
)

# OpenAPI links: where a list's id comes from in each list operation's success,
# and the operations it feeds (clients and the fuzzer's stateful phase follow them).
_LIST_ID_SOURCES = {
    "createContactList": ("201", "$response.body#/id"),
    "refreshContactList": ("201", "$response.body#/id"),
    "getContactList": ("200", "$response.body#/id"),
    "renameContactList": ("200", "$response.body#/id"),
    "listContacts": ("200", "$request.path.listId"),
    "exportContacts": ("200", "$request.path.listId"),
    "deleteContactList": ("204", "$request.path.listId"),
}
_LIST_ID_TARGETS = tuple(name for name in _LIST_ID_SOURCES if name != "createContactList")
# These compare two lists: a list with itself is the simplest valid pair.
_LIST_PAIR_TARGETS = ("listContactChanges", "exportContactChanges")


def _add_links(schema: dict[str, Any]) -> None:
    for operations in schema["paths"].values():
        for operation in operations.values():
            source = _LIST_ID_SOURCES.get(operation.get("operationId", ""))
            if source is None:
                continue
            status, expression = source
            links = {
                target: {"operationId": target, "parameters": {"listId": expression}}
                for target in _LIST_ID_TARGETS
            }
            for target in _LIST_PAIR_TARGETS:
                pair = {"listId": expression, "since": expression}
                links[target] = {"operationId": target, "parameters": pair}
            operation["responses"][status]["links"] = links


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema.setdefault("components", {})["securitySchemes"] = {
        "ApiKeyAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "`sk_live_` or `sk_test_` followed by 43 URL-safe characters.",
        }
    }
    envelope_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            # FastAPI's default 422 describes its own validation errors; ours are 400s.
            if "HTTPValidationError" in str(operation["responses"].get("422")):
                del operation["responses"]["422"]
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            operation["security"] = [{"ApiKeyAuth": []}]
            for status, spec in _COMMON_ERRORS.items():
                operation["responses"].setdefault(
                    str(status),
                    {
                        "description": spec["description"],
                        "content": {"application/json": {"schema": envelope_ref}},
                    },
                )
    _add_links(schema)
    app.openapi_schema = schema
    return schema
