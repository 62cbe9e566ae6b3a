"""The blocking client. Requests and parsing live in `_core`; this module sends."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from time import sleep
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx
from tenacity import Retrying

from contactlists.client import _core as core
from contactlists.client._core import (
    CreateListParams,
    ExportFormat,
    Operation,
    RetryPolicy,
    SearchParams,
)
from contactlists.client.models import (
    ChangePage,
    Connection,
    Contact,
    ContactChange,
    ContactList,
    Credits,
    Page,
    SearchPage,
)

T = TypeVar("T")


def _pause(seconds: float) -> None:
    sleep(seconds)


class Client:
    """`Client(base_url, api_key)`: the Contact Lists API, one blocking call at a time."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = core.DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            **core.http_options(base_url, api_key, timeout), transport=transport
        )
        self._retry = retry or RetryPolicy()
        self.lists = Lists(self)
        self.contacts = Contacts(self)
        self.credits = CreditsApi(self)
        self.connection = ConnectionApi(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _attempt(self, operation: Operation[Any], stream: bool) -> httpx.Response:
        request = operation.build(self._http)
        with core.transport_errors(request):
            response = self._http.send(request, stream=stream)
            if response.is_error:
                response.read()
                response.close()
        core.raise_for_error(response)
        return response

    def _send(self, operation: Operation[Any], *, stream: bool = False) -> httpx.Response:
        retrying = Retrying(sleep=_pause, **self._retry.tenacity_options(operation))
        return retrying(self._attempt, operation, stream)

    def _call(self, operation: Operation[T]) -> T:
        return operation.parse(self._send(operation))

    def _paginate(self, page: Callable[[int], Operation[Page[T]]]) -> Iterator[T]:
        offset: int | None = 0
        while offset is not None:
            current = self._call(page(offset))
            yield from current.items
            offset = current.next_offset


class Lists:
    def __init__(self, client: Client) -> None:
        self._client = client

    def page(self, *, limit: int = 20, offset: int = 0) -> Page[ContactList]:
        return self._client._call(core.list_lists(limit, offset))

    def iter(self, *, page_size: int = 100) -> Iterator[ContactList]:
        """Every list, newest first, fetched a page at a time."""
        return self._client._paginate(lambda offset: core.list_lists(page_size, offset))

    def create(self, **params: Unpack[CreateListParams]) -> ContactList:
        """Run a search and store its leads; retried safely under one `Idempotency-Key`."""
        return self._client._call(core.create_list(params))

    def refresh(self, list_id: str, *, idempotency_key: str | None = None) -> ContactList:
        """Run a list's search again into a new list; retried safely under one key."""
        return self._client._call(core.refresh_list(list_id, idempotency_key))

    def changes_page(
        self, list_id: str, *, since: str, limit: int = 25, offset: int = 0
    ) -> ChangePage:
        """A page of how `list_id` differs from `since`, with the summary."""
        return self._client._call(core.list_changes(list_id, since, limit, offset))

    def changes(self, list_id: str, *, since: str, page_size: int = 100) -> Iterator[ContactChange]:
        """Every change of `list_id` since `since`, in the API's order, a page at a time."""
        return self._client._paginate(
            lambda offset: core.list_changes(list_id, since, page_size, offset)
        )

    def get(self, list_id: str) -> ContactList:
        return self._client._call(core.get_list(list_id))

    def rename(self, list_id: str, name: str) -> ContactList:
        return self._client._call(core.rename_list(list_id, name))

    def delete(self, list_id: str) -> None:
        self._client._call(core.delete_list(list_id))

    def export(
        self,
        list_id: str,
        path: str | os.PathLike[str],
        *,
        format: ExportFormat = "csv",
        on_progress: Callable[[int], object] | None = None,
    ) -> core.Exported:
        """Stream the list to `path` (in a directory: under the server's file name);
        returns the number of contacts written, with the file as `.path`."""
        response = self._client._send(core.export_list(list_id, format), stream=True)
        try:
            with (
                core.transport_errors(response.request),
                core.Download(
                    core.export_path(path, response.headers, f"{list_id}.{format}"),
                    format,
                    on_progress,
                ) as download,
            ):
                for chunk in response.iter_bytes():
                    download.write(chunk)
        finally:
            response.close()
        return download.result()


class Contacts:
    def __init__(self, client: Client) -> None:
        self._client = client

    def page(self, list_id: str, *, limit: int = 25, offset: int = 0) -> Page[Contact]:
        return self._client._call(core.list_contacts(list_id, limit, offset))

    def iter(self, list_id: str, *, page_size: int = 100) -> Iterator[Contact]:
        """Every contact of a list, in stored order, fetched a page at a time."""
        return self._client._paginate(lambda offset: core.list_contacts(list_id, page_size, offset))

    def search(
        self, *, limit: int = 25, offset: int = 0, **filters: Unpack[SearchParams]
    ) -> SearchPage:
        """Preview the contacts a search finds, without creating a list (charged per page
        of 25 it covers on a limited account)."""
        return self._client._call(core.search_contacts(filters, limit, offset))

    def search_pages(
        self, *, page_size: int = 100, offset: int = 0, **filters: Unpack[SearchParams]
    ) -> Iterator[SearchPage]:
        """Every page of a search from `offset`, ending at the last or at LinkedIn's
        2,500-result cap (each page charged as `search` is)."""
        window: tuple[int, int] | None = (min(page_size, core.SEARCH_CAP - offset), offset)
        while window is not None:
            page = self._client._call(core.search_contacts(filters, *window))
            yield page
            window = core.next_search_window(page, page_size)


class CreditsApi:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self) -> Credits:
        return self._client._call(core.get_credits())


class ConnectionApi:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self) -> Connection:
        """The account's Sales Navigator connection: provider, state, member."""
        return self._client._call(core.get_connection())
