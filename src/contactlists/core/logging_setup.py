"""Logging for a served process: one configuration, and the one line per request.

`contactlists serve` hands `logging_config()` to uvicorn, which applies it once at
start-up in the supervisor and again in every worker it spawns (a spawned process
inherits no logging set-up). Everything, uvicorn's own lines included, goes to
stderr as JSON (`CONTACTLISTS_LOG_FORMAT=json`, the production default: one
object per line for a log shipper) or as readable text (the development
default). uvicorn's access log is off: `log_request` writes ours, which names
the route template, the request id and the account, and never a header, a key,
a cookie or a query string.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

from contactlists.core.settings import LogFormat, Settings

access_logger = logging.getLogger("contactlists.access")
# Context a record may carry (as `extra`) that the text format appends when present;
# JSON carries every extra field anyway.
TEXT_CONTEXT = ("request_id", "account_id")


def json_formatter() -> logging.Formatter:
    """`{"level", "logger", "pid", "message", ...extra, "time"}` per record, time in UTC;
    the pid tells a worker's lines from another's."""
    return OrjsonFormatter(
        ["levelname", "name", "process", "message"],
        rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
        timestamp="time",
        # uvicorn repeats its messages with terminal colours for its own formatter.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


class TextFormatter(logging.Formatter):
    """`2026-11-26 12:00:00,123 INFO contactlists.access: GET … 200 request_id=…`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(
            f"{name}={record.__dict__[name]}"
            for name in TEXT_CONTEXT
            if record.__dict__.get(name) is not None
        )
        if not context:
            return line
        # Keep a traceback, if any, after the context rather than splitting them.
        first, newline, rest = line.partition("\n")
        return f"{first} {context}{newline}{rest}"


def logging_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the API's processes."""
    formatter = (
        "contactlists.core.logging_setup.json_formatter"
        if settings.effective_log_format is LogFormat.JSON
        else "contactlists.core.logging_setup.TextFormatter"
    )
    level = settings.log_level.upper()
    return {
        "version": 1,
        # Loggers created at import time (every module's) must keep working.
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def log_request(
    request_id: str,
    account_id: str | None,
    route: str,
    method: str,
    status: int,
    seconds: float,
) -> None:
    """The request's one access line (INFO), when INFO is enabled."""
    if not access_logger.isEnabledFor(logging.INFO):
        return
    duration_ms = round(seconds * 1000, 1)
    context: dict[str, Any] = {"request_id": request_id}
    if account_id is not None:
        context["account_id"] = account_id
    context.update(route=route, method=method, status=status, duration_ms=duration_ms)
    access_logger.info("%s %s %d %.1f ms", method, route, status, duration_ms, extra=context)
