"""Reading one request header straight from the ASGI scope.

Starlette's `request.headers` builds a `Headers` object and lower-cases the
name on every lookup; the hot read path asks for three headers per request,
and the scope's list (lower-case names, as ASGI requires) answers each in a
short loop.
"""

from __future__ import annotations

from starlette.types import Scope


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lower case), as Starlette decodes it."""
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None
