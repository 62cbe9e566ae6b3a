"""A deadline on each request's body, in the envelope.

The server (`server_protocol.py`) bounds how long headers may take; once they
are in, the application is called, and a body that has not arrived when
`CONTACTLISTS_BODY_TIMEOUT_S` has passed since then is a 408 `REQUEST_TIMEOUT`
in the contract's envelope, answered with `Connection: close` (what is left of
such a body is never read).
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contactlists.core.errors import RequestTimeout


class BodyDeadline:
    def __init__(self, app: ASGIApp, *, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        body_done = False

        async def receive_in_time() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(
                    f"The request body did not arrive within {self.timeout_s:g} s.",
                    headers={"Connection": "close"},
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, receive_in_time, send)
