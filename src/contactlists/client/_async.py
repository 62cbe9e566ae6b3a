"""The asyncio client: `_sync.Client`'s API, awaited. Requests live in `_core`."""

from __future__ import annotations

import os
from asyncio import sleep
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, TypeVar, Unpack

import httpx
from tenacity import AsyncRetrying

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


async def _pause(seconds: float) -> None:
    await sleep(seconds)


class AsyncClient:
    """`AsyncClient(base_url, api_key)`: the Contact Lists API for asyncio code."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = core.DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            **core.http_options(base_url, api_key, timeout), transport=transport
        )
        self._retry = retry or RetryPolicy()
        self.lists = AsyncLists(self)
        self.contacts = AsyncContacts(self)
        self.credits = AsyncCreditsApi(self)
        self.connection = AsyncConnectionApi(self)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _attempt(self, operation: Operation[Any], stream: bool) -> httpx.Response:
        request = operation.build(self._http)
        with core.transport_errors(request):
            response = await self._http.send(request, stream=stream)
            if response.is_error:
                await response.aread()
                await response.aclose()
        core.raise_for_error(response)
        return response

    async def _send(self, operation: Operation[Any], *, stream: bool = False) -> httpx.Response:
        retrying = AsyncRetrying(sleep=_pause, **self._retry.tenacity_options(operation))
        response: httpx.Response = await retrying(self._attempt, operation, stream)
        return response

    async def _call(self, operation: Operation[T]) -> T:
        return operation.parse(await self._send(operation))

    async def _paginate(self, page: Callable[[int], Operation[Page[T]]]) -> AsyncIterator[T]:
        offset: int | None = 0
        while offset is not None:
            current = await self._call(page(offset))
            for item in current.items:
                yield item
            offset = current.next_offset


class AsyncLists:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def page(self, *, limit: int = 20, offset: int = 0) -> Page[ContactList]:
        return await self._client._call(core.list_lists(limit, offset))

    def iter(self, *, page_size: int = 100) -> AsyncIterator[ContactList]:
        """Every list, newest first, fetched a page at a time."""
        return self._client._paginate(lambda offset: core.list_lists(page_size, offset))

    async def create(self, **params: Unpack[CreateListParams]) -> ContactList:
        """Run a search and store its leads; retried safely under one `Idempotency-Key`."""
        return await self._client._call(core.create_list(params))

    async def refresh(self, list_id: str, *, idempotency_key: str | None = None) -> ContactList:
        """Run a list's search again into a new list; retried safely under one key."""
        return await self._client._call(core.refresh_list(list_id, idempotency_key))

    async def changes_page(
        self, list_id: str, *, since: str, limit: int = 25, offset: int = 0
    ) -> ChangePage:
        """A page of how `list_id` differs from `since`, with the summary."""
        return await self._client._call(core.list_changes(list_id, since, limit, offset))

    def changes(
        self, list_id: str, *, since: str, page_size: int = 100
    ) -> AsyncIterator[ContactChange]:
        """Every change of `list_id` since `since`, in the API's order, a page at a time."""
        return self._client._paginate(
            lambda offset: core.list_changes(list_id, since, page_size, offset)
        )

    async def get(self, list_id: str) -> ContactList:
        return await self._client._call(core.get_list(list_id))

    async def rename(self, list_id: str, name: str) -> ContactList:
        return await self._client._call(core.rename_list(list_id, name))

    async def delete(self, list_id: str) -> None:
        await self._client._call(core.delete_list(list_id))

    async def export(
        self,
        list_id: str,
        path: str | os.PathLike[str],
        *,
        format: ExportFormat = "csv",
        on_progress: Callable[[int], object] | None = None,
    ) -> core.Exported:
        """Stream the list to `path` (in a directory: under the server's file name);
        returns the number of contacts written, with the file as `.path`."""
        response = await self._client._send(core.export_list(list_id, format), stream=True)
        try:
            with (
                core.transport_errors(response.request),
                core.Download(
                    core.export_path(path, response.headers, f"{list_id}.{format}"),
                    format,
                    on_progress,
                ) as download,
            ):
                async for chunk in response.aiter_bytes():
                    download.write(chunk)
        finally:
            await response.aclose()
        return download.result()


class AsyncContacts:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def page(self, list_id: str, *, limit: int = 25, offset: int = 0) -> Page[Contact]:
        return await self._client._call(core.list_contacts(list_id, limit, offset))

    def iter(self, list_id: str, *, page_size: int = 100) -> AsyncIterator[Contact]:
        """Every contact of a list, in stored order, fetched a page at a time."""
        return self._client._paginate(lambda offset: core.list_contacts(list_id, page_size, offset))

    async def search(
        self, *, limit: int = 25, offset: int = 0, **filters: Unpack[SearchParams]
    ) -> SearchPage:
        """Preview the contacts a search finds, without creating a list (charged per page
        of 25 it covers on a limited account)."""
        return await self._client._call(core.search_contacts(filters, limit, offset))

    async def search_pages(
        self, *, page_size: int = 100, offset: int = 0, **filters: Unpack[SearchParams]
    ) -> AsyncIterator[SearchPage]:
        """Every page of a search from `offset`, ending at the last or at LinkedIn's
        2,500-result cap (each page charged as `search` is)."""
        window: tuple[int, int] | None = (min(page_size, core.SEARCH_CAP - offset), offset)
        while window is not None:
            page = await self._client._call(core.search_contacts(filters, *window))
            yield page
            window = core.next_search_window(page, page_size)


class AsyncCreditsApi:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self) -> Credits:
        return await self._client._call(core.get_credits())


class AsyncConnectionApi:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self) -> Connection:
        """The account's Sales Navigator connection: provider, state, member."""
        return await self._client._call(core.get_connection())
