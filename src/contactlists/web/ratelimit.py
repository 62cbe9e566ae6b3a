"""Rate limits: per account (every key of the account shares them), and per client
address for requests that fail authentication.

Budgets are moving windows, so `X-RateLimit-Remaining` is exact and
`X-RateLimit-Reset` is when the oldest request in the window stops counting.
They live in Redis (the `limits` package's moving window) when
`CONTACTLISTS_REDIS_URL` is set, so that every worker and host shares one
budget, else in this process's memory (`MemoryWindows`). When Redis
stops answering, limits fail open to this process's memory with a logged
warning, and Redis is tried again every few seconds: an outage of the limiter
must not become an outage of the API.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import math
import time
from collections import deque
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from contactlists.core.errors import RateLimited
from contactlists.core.settings import IPNetwork, Settings

if TYPE_CHECKING:
    import coredis

logger = logging.getLogger("contactlists.ratelimit")
REDIS_RETRY_S = 5.0
# How often the in-memory windows forget identifiers that stopped calling.
SWEEP_INTERVAL_S = 60.0
_REDIS_TIMEOUT_S = 0.5


class Budget(enum.Enum):
    """Each budget and the setting that sizes it."""

    REQUESTS = "rate_limit"
    CREATES = "create_rate_limit"
    SEARCHES = "search_rate_limit"
    CONNECTS = "connect_rate_limit"
    UNAUTHENTICATED = "unauthenticated_rate_limit"


# Each budget's setting and name, read without the enum's descriptors.
_BUDGET_NAMES = {budget: (budget.value, budget.name) for budget in Budget}


class Usage(NamedTuple):
    """One budget as a request left it (a named tuple: one is made per request)."""

    limit: int
    remaining: int
    reset_at: float  # seconds since the epoch
    description: str  # e.g. "600 per 1 minute"

    def seconds_to_reset(self) -> int:
        return max(0, math.ceil(self.reset_at - time.time()))


class Window(NamedTuple):
    """A parsed budget, with what each hit needs of it computed once."""

    item: RateLimitItem
    amount: int
    expiry: int
    description: str


@lru_cache(maxsize=64)
def window_of(notation: str) -> Window:
    item = parse(notation)
    return Window(item, item.amount, item.get_expiry(), str(item))


class MemoryWindows:
    """Moving windows in this process's memory, one deque of hit times per budget.

    The `limits` package's memory storage inserts each hit at the front of a
    list — a copy of the whole window per request — and takes two awaited,
    locked calls to hit and then read a window; on the hot read path that was
    a tenth of a cached page's time (`make profile`). A hit here is an append
    and a trim from the left, with no await between the check and the record,
    so one event loop cannot interleave two hits of one budget. The decision
    and the statistics are the same as the package's moving window: a hit is
    refused while `limit` hits lie within the last `expiry` seconds, and the
    window resets when its oldest hit leaves it.
    """

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, int, int], deque[float]] = {}
        self._sweep_at = time.time() + SWEEP_INTERVAL_S

    def hit(self, window: Window, budget: str, identifier: str) -> tuple[bool, Usage]:
        now = time.time()
        amount, expiry = window.amount, window.expiry
        if now >= self._sweep_at:
            self._sweep(now)
        key = (budget, identifier, amount, expiry)
        hits = self._windows.get(key)
        if hits is None:
            hits = self._windows[key] = deque()
        horizon = now - expiry
        while hits and hits[0] <= horizon:
            hits.popleft()
        allowed = len(hits) < amount
        if allowed:
            hits.append(now)
        reset_at = (hits[0] if hits else now) + expiry
        return allowed, Usage(amount, amount - len(hits), reset_at, window.description)

    def _sweep(self, now: float) -> None:
        """Forget windows whose newest hit has left them."""
        self._sweep_at = now + SWEEP_INTERVAL_S
        idle = [key for key, hits in self._windows.items() if not hits or hits[-1] <= now - key[3]]
        for key in idle:
            del self._windows[key]

    def __len__(self) -> int:
        return len(self._windows)


class Limiter:
    """Spends budgets in Redis, or in memory when there is no Redis or it is down."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.memory = MemoryWindows()
        self._pool: coredis.ConnectionPool | None = None
        self._redis: MovingWindowRateLimiter | None = None
        self._redis_retry_at = 0.0
        self._failing_open = False
        if settings.redis_url:
            # Imported only here: coredis is ~12 MiB resident, and without Redis
            # nothing uses it.
            import coredis
            from limits.aio.storage import RedisStorage

            self._pool = coredis.ConnectionPool.from_url(
                settings.redis_url,
                connect_timeout=_REDIS_TIMEOUT_S,
                stream_timeout=_REDIS_TIMEOUT_S,
            )
            storage = RedisStorage(
                f"async+{settings.redis_url}",
                wrap_exceptions=True,
                key_prefix=settings.redis_key_prefix,
                # limits types its pass-through options narrowly; coredis takes a pool.
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
            self._redis = MovingWindowRateLimiter(storage)

    async def spend(self, budget: Budget, identifier: str) -> tuple[bool, Usage]:
        """Count one request against the budget; (allowed, the budget after it)."""
        setting, name = _BUDGET_NAMES[budget]
        window = window_of(getattr(self._settings, setting))
        if self._redis is not None and time.monotonic() >= self._redis_retry_at:
            try:
                spent = await self._spend_in_redis(self._redis, window, budget, identifier)
            except (StorageError, OSError) as exc:
                self._redis_retry_at = time.monotonic() + REDIS_RETRY_S
                if not self._failing_open:
                    self._failing_open = True
                    logger.warning(
                        "Redis is unavailable for rate limits (%s); each process limits "
                        "on its own, in memory, until Redis answers again",
                        exc,
                    )
            else:
                if self._failing_open:
                    self._failing_open = False
                    logger.warning("Redis answers again; rate limits are shared again")
                return spent
        return self.memory.hit(window, name, identifier)

    @staticmethod
    async def _spend_in_redis(
        strategy: MovingWindowRateLimiter, window: Window, budget: Budget, identifier: str
    ) -> tuple[bool, Usage]:
        identifiers = (budget.name.lower(), identifier)
        allowed = await strategy.hit(window.item, *identifiers)
        stats = await strategy.get_window_stats(window.item, *identifiers)
        return allowed, Usage(
            window.amount, max(0, stats.remaining), stats.reset_time, window.description
        )

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.disconnect()


class RequestLimits:
    """The budgets one request has spent, for its `X-RateLimit-*` headers."""

    def __init__(self, limiter: Limiter) -> None:
        self._limiter = limiter
        self._usages: list[Usage] = []

    async def spend(self, budget: Budget, identifier: str) -> None:
        """Spend one request of the budget, or raise 429."""
        allowed, usage = await self._limiter.spend(budget, identifier)
        self._usages.append(usage)
        if not allowed:
            wait = max(1, usage.seconds_to_reset())
            raise RateLimited(
                f"Rate limit exceeded ({usage.description}); retry in {wait} s.",
                retry_after_s=wait,
            )

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The tighter budget that applied: fewest requests left, then the later reset."""
        usages = self._usages
        if len(usages) <= 1:
            if not usages:
                return []
            usage = usages[0]
        else:
            usage = min(usages, key=lambda u: (u.remaining, -u.reset_at))
        return [
            (b"x-ratelimit-limit", b"%d" % usage.limit),
            (b"x-ratelimit-remaining", b"%d" % usage.remaining),
            (b"x-ratelimit-reset", b"%d" % usage.seconds_to_reset()),
        ]


def _is_trusted(address: str, trusted: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy.

    Behind trusted proxies, `X-Forwarded-For` is read from the right (each proxy
    appends the address it saw) and the first hop that is not itself a trusted
    proxy is the client; anything left of it could have been forged.
    """
    address = peer or "unknown"
    if not _is_trusted(address, trusted):
        return address
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = hop
        if not _is_trusted(hop, trusted):
            break
    return address
