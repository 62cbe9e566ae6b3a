"""How uvicorn serves an application: the one set of server options.

`contactlists serve` runs the API with them, and `make bench` runs every
baseline with them too (`bench/serve.py`), so a ratio against a baseline
compares applications, never server settings or logging.
"""

from __future__ import annotations

import math
from typing import Any

from contactlists.core.logging_setup import logging_config
from contactlists.core.settings import Settings

# Beyond the longest a create can run, for its write and its response.
SHUTDOWN_GRACE_S = 30


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Everything but the application, the address and the worker count."""
    from contactlists.web.server_protocol import GuardedHttpToolsProtocol

    # On SIGTERM, requests in flight get as long as the longest create can take.
    grace_s = settings.search_lock_wait_s + settings.search_timeout_s + SHUTDOWN_GRACE_S
    return {
        "loop": "uvloop",
        # httptools with a header deadline and a connection cap (server_protocol.py).
        "http": GuardedHttpToolsProtocol,
        "timeout_keep_alive": settings.keep_alive_s,
        "log_level": settings.log_level.lower(),
        "log_config": logging_config(settings),
        # Ours (contactlists.access) names the route and account; one line per request.
        "access_log": False,
        "timeout_graceful_shutdown": math.ceil(grace_s),
        "proxy_headers": False,
        "server_header": False,
    }
