"""A bounded in-process cache of serialised pages, each with a strong ETag.

A list's contacts never change after it is created (a rename touches only the
list; a delete removes everything), so a page — list id, limit, offset — has
one body forever. A lists page changes with every create, rename and delete,
so it is keyed by the account's `lists_version` as well, which each of those
writes bumps in its own transaction and the key's query reads on every
request: a change made by any worker keys the next request in every worker to
a new page, and pages of older versions age out. The cache never decides who
may see a page: every request still authenticates and checks in the database
that the list exists for its account and mode (for a lists page, reads the
version) before a cached body is served, which is also why a delete in another
worker can never be followed by a cached page.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from xxhash import xxh3_128_hexdigest

# What a page is of, then its limit and offset: a list id (its contacts),
# "changes <list id> <since>", or "lists", account id, mode and lists version.
PageKey = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class CachedPage:
    body: bytes
    etag: str
    # A 200's header pairs, encoded once with the page (`web.deps.PreparedResponse`).
    raw_headers: tuple[tuple[bytes, bytes], ...]


def page_of(body: bytes) -> CachedPage:
    """A page's body with its ETag and its headers, in the order Starlette writes them."""
    etag = etag_of(body)
    return CachedPage(
        body,
        etag,
        (
            (b"etag", etag.encode("latin-1")),
            (b"content-length", b"%d" % len(body)),
            (b"content-type", b"application/json"),
        ),
    )


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """`If-None-Match` against our strong ETag (weak comparison, as RFC 9110 says)."""
    if not if_none_match:
        return False
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return any(tag in ("*", etag) for tag in candidates)


def etag_of(body: bytes) -> str:
    """The body's 128-bit XXH3. An ETag tells versions of one resource apart
    and guards nothing, so it needs no cryptographic hash: XXH3 hashes a
    58.6 kB page in 1.2 µs, SHA-256 (with the CPU's SHA instructions) in 34 µs,
    a tenth of an uncached page's whole cost."""
    return '"' + xxh3_128_hexdigest(body) + '"'


# What an entry costs a worker besides its body, as resident memory: its key,
# ETag, record and the dict's slot are about 400 bytes of Python objects
# (tracemalloc), but measured as RSS a flood of distinct tiny pages grew a
# worker by about 4.3 kB an entry (37,500 past-the-end pages of 63 bytes:
# +164 MB): the small objects that outlive their request pin the allocator's
# pools. So every entry is charged this much on top of its body.
ENTRY_OVERHEAD = 4608


def entry_cost(body: bytes) -> int:
    return len(body) + ENTRY_OVERHEAD


class PageCache:
    """Least-recently-used pages, up to `max_bytes` of resident memory (bodies
    plus `ENTRY_OVERHEAD` each) and at most `max_entries` pages."""

    def __init__(self, max_bytes: int, max_entries: int) -> None:
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._bytes = 0
        self._pages: OrderedDict[PageKey, CachedPage] = OrderedDict()

    def get(self, key: PageKey) -> CachedPage | None:
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def put(self, key: PageKey, body: bytes, *, has_items: bool = True) -> CachedPage:
        """The page of `body`, kept unless it has no items: a page past the end
        (or of nothing) is cheap to answer again, and keeping it would let
        2^31 offsets each take a place in the cache."""
        page = page_of(body)
        if not has_items or entry_cost(body) > self._max_bytes or not self._max_entries:
            return page
        previous = self._pages.pop(key, None)
        if previous is not None:
            self._bytes -= entry_cost(previous.body)
        self._pages[key] = page
        self._bytes += entry_cost(body)
        while self._bytes > self._max_bytes or len(self._pages) > self._max_entries:
            _, evicted = self._pages.popitem(last=False)
            self._bytes -= entry_cost(evicted.body)
        return page

    @property
    def resident_bytes(self) -> int:
        """What the entries are charged: bodies plus `ENTRY_OVERHEAD` each."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._pages)
