"""What the sync and async clients share: requests, parsing, retries, downloads.

Each API call is an `Operation`: a request to build and a parser for its
answer, with no I/O. The two clients differ only in how they send it.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Literal, NotRequired, Required, TypedDict, TypeVar
from urllib.parse import quote, unquote

import httpx
from pydantic import BaseModel
from tenacity import RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from contactlists.client.errors import ApiError, ConnectionFailed, error_from_response
from contactlists.client.models import (
    ChangePage,
    Connection,
    Contact,
    ContactList,
    Credits,
    Page,
    SearchPage,
)

T = TypeVar("T")
# Covariant: a page of changes (with its summary) is a page of changes.
T_co = TypeVar("T_co", covariant=True)
M = TypeVar("M", bound=BaseModel)
ExportFormat = Literal["csv", "ndjson"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Longer than the server's whole-search deadline (90 s by default), so a slow
# create is answered by the server (201 or 504), not cut off by the client.
DEFAULT_TIMEOUT_S = 120.0
LISTS_PATH = "/v1/contacts/lists"
_EXPORT_ACCEPT = {"csv": "text/csv", "ndjson": "application/x-ndjson"}


class CreateListParams(TypedDict, total=False):
    """Keyword arguments of `lists.create()` (the filters are flattened)."""

    name: Required[str]
    company_linkedin_urls: Required[Sequence[str]]
    job_titles: NotRequired[Sequence[str] | None]
    keywords: NotRequired[str | None]
    countries: NotRequired[Sequence[str] | None]
    departments: NotRequired[Sequence[str] | None]
    seniority_levels: NotRequired[Sequence[str] | None]
    idempotency_key: NotRequired[str | None]


class SearchParams(TypedDict, total=False):
    """Keyword arguments of `contacts.search()`: filters (at least one), then the window."""

    company_linkedin_urls: Sequence[str] | None
    first_name: str | None
    last_name: str | None
    job_titles: Sequence[str] | None
    keywords: str | None
    countries: Sequence[str] | None
    departments: Sequence[str] | None
    seniority_levels: Sequence[str] | None


@dataclass(frozen=True, slots=True)
class Operation(Generic[T_co]):
    """One API call, built once so every retry sends the same request."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T_co]
    params: Mapping[str, str | int] | None = None
    body: dict[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    retry: bool = True

    def build(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        return http.build_request(
            self.method, self.path, params=self.params, json=self.body, headers=self.headers
        )


def http_options(base_url: str, api_key: str, timeout: float) -> dict[str, Any]:
    return {
        "base_url": base_url.rstrip("/"),
        "headers": {"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
    }


@contextmanager
def transport_errors(request: httpx.Request) -> Iterator[None]:
    """Turn httpx's transport failures into `ConnectionFailed`."""
    try:
        yield
    except httpx.TransportError as exc:
        detail = str(exc) or type(exc).__name__
        raise ConnectionFailed(
            f"{request.method} {request.url} failed before an answer: {detail}"
        ) from exc


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to retry a call that may succeed if repeated.

    Network errors, 5xx, 429 and 409 `IDEMPOTENCY_IN_PROGRESS` are retried, up
    to `max_attempts` sends in all. A `Retry-After` (or the body's
    `retryAfter`) is waited exactly; one longer than `max_retry_after_s` is
    raised at once rather than blocking the caller for that long. Otherwise the
    wait is exponential with full jitter.
    """

    max_attempts: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0
    # Told (the failure, the seconds it will wait, the attempt that failed) before each wait.
    on_retry: Callable[[BaseException, float, int], object] | None = None

    def should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, ConnectionFailed):
            return True
        if not isinstance(exc, ApiError):
            return False
        retryable = (
            exc.status >= 500
            or exc.status == 429
            or (exc.status == 409 and exc.error_code == "IDEMPOTENCY_IN_PROGRESS")
        )
        return retryable and (exc.retry_after is None or exc.retry_after <= self.max_retry_after_s)

    def wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, ApiError) and failure.retry_after is not None:
            return failure.retry_after
        return wait_random_exponential(multiplier=self.backoff_s, max=self.max_backoff_s)(state)

    def tenacity_options(self, operation: Operation[Any]) -> dict[str, Any]:
        return {
            "stop": stop_after_attempt(self.max_attempts if operation.retry else 1),
            "wait": self.wait,
            "retry": retry_if_exception(self.should_retry),
            "reraise": True,
            "before_sleep": self._before_sleep,
        }

    def _before_sleep(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        if self.on_retry is not None and failure is not None and state.next_action is not None:
            self.on_retry(failure, state.next_action.sleep, state.attempt_number)


def raise_for_error(response: httpx.Response) -> None:
    if response.is_error:
        raise error_from_response(response)


def _model(model: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: model.model_validate_json(response.content)


def _nothing(_: httpx.Response) -> None:
    return None


def _list_path(list_id: str, suffix: str = "") -> str:
    return f"{LISTS_PATH}/{quote(list_id, safe='')}{suffix}"


def _strings(values: Sequence[str] | None) -> list[str]:
    if values is None:
        return []
    return [values] if isinstance(values, str) else list(values)


def list_lists(limit: int, offset: int) -> Operation[Page[ContactList]]:
    params = {"limit": limit, "offset": offset}
    return Operation("GET", LISTS_PATH, _model(Page[ContactList]), params=params)


def create_list(params: CreateListParams) -> Operation[ContactList]:
    """The create request, its `Idempotency-Key` fixed here for every retry."""
    filters = _filters(params)
    key = params.get("idempotency_key") or str(uuid.uuid4())
    return Operation(
        "POST",
        LISTS_PATH,
        _model(ContactList),
        body={"name": params["name"], "filters": filters},
        headers={"Idempotency-Key": key},
    )


# Each filter's keyword argument, its wire name, and whether it is a list.
_FILTERS = (
    ("company_linkedin_urls", "companyLinkedInUrls", True),
    ("first_name", "firstName", False),
    ("last_name", "lastName", False),
    ("job_titles", "jobTitles", True),
    ("keywords", "keywords", False),
    ("countries", "countries", True),
    ("departments", "departments", True),
    ("seniority_levels", "seniorityLevels", True),
)
# LinkedIn serves no search result past the 2,500th.
SEARCH_CAP = 2500


def _filters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The wire's filters from the keyword arguments; empty ones left out."""
    out: dict[str, Any] = {}
    for name, wire, many in _FILTERS:
        value = _strings(params.get(name)) if many else params.get(name)
        if value:
            out[wire] = value
    return out


def search_contacts(params: SearchParams, limit: int, offset: int) -> Operation[SearchPage]:
    # Not retried: a search is charged, and a repeat after a lost answer would be too.
    body = {**_filters(params), "limit": limit, "offset": offset}
    return Operation("POST", "/v1/contacts/search", _model(SearchPage), body=body, retry=False)


def next_search_window(page: SearchPage, page_size: int) -> tuple[int, int] | None:
    """The next page's (limit, offset), shortened to end at the cap; None after the last."""
    offset = page.offset + len(page.items)
    if not page.has_more or not page.items or offset >= SEARCH_CAP:
        return None
    return min(page_size, SEARCH_CAP - offset), offset


def refresh_list(list_id: str, idempotency_key: str | None) -> Operation[ContactList]:
    """The refresh request, its `Idempotency-Key` fixed here for every retry."""
    key = idempotency_key or str(uuid.uuid4())
    return Operation(
        "POST",
        _list_path(list_id, "/refresh"),
        _model(ContactList),
        headers={"Idempotency-Key": key},
    )


def list_changes(list_id: str, since: str, limit: int, offset: int) -> Operation[ChangePage]:
    params: dict[str, str | int] = {"since": since, "limit": limit, "offset": offset}
    return Operation("GET", _list_path(list_id, "/changes"), _model(ChangePage), params=params)


def get_list(list_id: str) -> Operation[ContactList]:
    return Operation("GET", _list_path(list_id), _model(ContactList))


def rename_list(list_id: str, name: str) -> Operation[ContactList]:
    return Operation("PUT", _list_path(list_id), _model(ContactList), body={"name": name})


def delete_list(list_id: str) -> Operation[None]:
    # Not retried: a repeat after a lost 204 would answer 404 for a deleted list.
    return Operation("DELETE", _list_path(list_id), _nothing, retry=False)


def list_contacts(list_id: str, limit: int, offset: int) -> Operation[Page[Contact]]:
    params = {"limit": limit, "offset": offset}
    return Operation("GET", _list_path(list_id, "/contacts"), _model(Page[Contact]), params=params)


def get_credits() -> Operation[Credits]:
    return Operation("GET", "/v1/credits", _model(Credits))


def get_connection() -> Operation[Connection]:
    return Operation("GET", "/v1/integrations/sales-navigator", _model(Connection))


def export_list(list_id: str, fmt: ExportFormat) -> Operation[None]:
    return Operation(
        "GET",
        _list_path(list_id, "/export"),
        _nothing,
        params={"format": fmt},
        headers={"Accept": f"{_EXPORT_ACCEPT[fmt]}, application/json;q=0.5"},
    )


class RecordCounter:
    """Counts the contacts in an export's bytes as they arrive.

    NDJSON has one per line. A CSV record ends at a line break outside quotes
    (a quoted cell may hold line breaks; `""` inside one toggles twice), and
    the first record is the header.
    """

    def __init__(self, fmt: ExportFormat) -> None:
        self._csv = fmt == "csv"
        self._in_quotes = False
        self._header_pending = self._csv

    def feed(self, chunk: bytes) -> int:
        if not self._csv:
            return chunk.count(b"\n")
        records = 0
        for index, segment in enumerate(chunk.split(b'"')):
            if index:
                self._in_quotes = not self._in_quotes
            if not self._in_quotes:
                records += segment.count(b"\n")
        if records and self._header_pending:
            records -= 1
            self._header_pending = False
        return records


class Exported(int):
    """How many contacts an export wrote (an int, as before), and `path`, the file."""

    path: Path


def export_path(path: str | os.PathLike[str], headers: httpx.Headers, fallback: str) -> Path:
    """`path`; or, when it is a directory, the file in it the server's Content-Disposition
    names (as `curl -OJ` saves it): its file name only, never a path."""
    target = Path(path)
    if not target.is_dir():
        return target
    disposition = headers.get("content-disposition", "")
    encoded = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition, re.IGNORECASE)
    plain = re.search(r'filename="([^"]*)"', disposition)
    name = unquote(encoded.group(1)) if encoded else plain.group(1) if plain else ""
    name = Path(name.replace("\\", "/")).name
    return target / (name if name not in {"", ".", ".."} else fallback)


class Download:
    """An export written beside its target and renamed into place when complete,
    so a failed download never leaves a file that looks finished."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        fmt: ExportFormat,
        on_progress: Callable[[int], object] | None,
    ) -> None:
        self.path = Path(path)
        self.records = 0
        self._partial = self.path.with_name(self.path.name + ".part")
        self._counter = RecordCounter(fmt)
        self._on_progress = on_progress
        self._file = self._partial.open("wb")

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        added = self._counter.feed(chunk)
        self.records += added
        if added and self._on_progress is not None:
            self._on_progress(added)

    def __enter__(self) -> Download:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()
        if exc_type is None:
            self._partial.replace(self.path)
        else:
            self._partial.unlink(missing_ok=True)

    def result(self) -> Exported:
        exported = Exported(self.records)
        exported.path = self.path
        return exported
