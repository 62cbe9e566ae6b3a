"""`python -m contactlists.web --host H --port P --workers N`: the API server alone.

`contactlists serve` checks what an operator can get wrong (settings, schema,
port) and then replaces its process with this one, so the server, and with
`--workers N` each worker uvicorn spawns, loads none of the CLI (typer and the
operator commands, ~1.4 MiB resident a process).
"""

from __future__ import annotations

import argparse
import signal
from types import FrameType
from typing import NoReturn

import uvicorn

from contactlists.core.metrics import multiprocess_directory
from contactlists.core.settings import get_settings
from contactlists.web.server import uvicorn_options


def _exit_cleanly(_signal: int, _frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)


def serve(host: str, port: int, workers: int) -> None:
    settings = get_settings()
    # uvicorn raises the SIGTERM it shut down for again once it is done, which
    # would end the process as killed; a finished graceful shutdown exits 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    with multiprocess_directory(workers):
        uvicorn.run(
            "contactlists.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            **uvicorn_options(settings),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    serve(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
