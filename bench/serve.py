"""`python -m bench.serve APP --port P [--factory]`: any ASGI app, served exactly
as `contactlists serve` serves the API.

Every server `make bench` compares runs through here, with the options of
`contactlists.web.server.uvicorn_options` built from the same environment, so
the app and its baselines differ only in the application: same event loop,
HTTP parser and protocol, logging and access log.
"""

from __future__ import annotations

import argparse

import uvicorn

from contactlists.core.settings import Settings
from contactlists.web.server import uvicorn_options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", help="module:attribute of the ASGI app (or factory)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--factory", action="store_true", help="the attribute builds the app")
    args = parser.parse_args()
    uvicorn.run(
        args.app,
        factory=args.factory,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        **uvicorn_options(Settings()),
    )


if __name__ == "__main__":
    main()
