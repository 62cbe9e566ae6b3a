"""`make bench`: the service against its baselines, measured side by side in one run.

Every figure is a ratio against something measured in the same run on the same
machine, so a busy or slow machine moves both sides alike. Servers run one at a
time (one uvicorn worker, uvloop + httptools) while wrk drives them on the
other core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

from bench.load import LoadResult, run_load
from bench.seed import Seeded, seed_postgres, seed_sqlite
from contactlists.accounts import service as accounts
from contactlists.connections import service as connections
from contactlists.core.auth import authenticate
from contactlists.core.db import Database
from contactlists.core.migrate import upgrade
from contactlists.core.readstore import open_read_store
from contactlists.core.settings import Settings
from contactlists.lists import create as lists_create
from contactlists.lists.schemas import ListCreate
from contactlists.providers.base import LeadQuery, run_search
from contactlists.providers.sandbox import SandboxProvider

FLATNESS_ROUNDS = 3
READ_ROUNDS = 3
MEMORY_ROUNDS = 3
Server = tuple[list[str], dict[str, str]]
NO_PAGE_CACHE = {"CONTACTLISTS_PAGE_CACHE_MB": "0"}
PARTS = ("reads", "creates", "flatness", "memory")
SECRET = "TRrSvWqwunktZRLk9RzxgNJw3xWndwcF9mtaGFWXLQuwOpPB"
POSTGRES_ADMIN = os.environ.get(
    "CONTACTLISTS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    """A process's resident size in KiB: all of it (`VmRSS`), or its anonymous
    (`RssAnon`: heap and stacks) or file-backed (`RssFile`: code) part."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on `port` (state 0A), from the kernel's tables."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def _listens_on(pid: int, port: int) -> bool:
    """Whether `pid` itself holds the socket listening on `port`, so a figure is
    never taken from a stray server that happened to have the port."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    fds = Path(f"/proc/{pid}/fd")
    return any(os.readlink(fd) in wanted for fd in fds.iterdir())


@contextmanager
def serving(command: list[str], env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Run a server process until the block ends; yields its base URL and pid."""
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        env={**os.environ, **SHARED_ENV, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server {command} did not start") from None
                time.sleep(0.1)
        if not _listens_on(process.pid, port):
            raise RuntimeError(f"port {port} is answered by another process than {command}")
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


# What every server of the bench shares: the launcher (`bench/serve.py`, the
# options of `contactlists serve`) and the logging. A test holds the commands
# to differ in the application alone (tests/test_bench_conditions.py).
SERVE = [sys.executable, "-m", "bench.serve"]
SHARED_ENV = {
    "CONTACTLISTS_ENV": "production",
    "CONTACTLISTS_SECRET_KEY": SECRET,
    "CONTACTLISTS_LOG_LEVEL": "warning",
}


def app_command() -> list[str]:
    return [*SERVE, "contactlists.app:create_app", "--factory"]


def baseline_command(app: str) -> list[str]:
    return [*SERVE, app]


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **SHARED_ENV,
        "CONTACTLISTS_DATABASE_URL": database_url,
        # The load is one account: measure reads, not the limiter's 429s.
        "CONTACTLISTS_RATE_LIMIT": "100000000/minute",
        "CONTACTLISTS_CREATE_RATE_LIMIT": "100000/minute",
        **extra,
    }


def _median_rps(runs: list[LoadResult]) -> str:
    return f"{statistics.median(run.rps for run in runs):,.0f}"


def _ratio(runs: dict[str, list[LoadResult]], of: str, to: str) -> str:
    """The median over rounds of the round's ratio."""
    return (
        f"{statistics.median(a.rps / b.rps for a, b in zip(runs[of], runs[to], strict=True)):.2f}×"
    )


def _errors(runs: list[LoadResult]) -> str:
    failed = [run.errors_shown for run in runs if run.errors]
    return "; ".join(failed) if failed else "0"


class Bench:
    def __init__(self, seconds: float, workdir: Path) -> None:
        self.seconds = seconds
        self.workdir = workdir
        self.lines: list[str] = []

    def say(self, line: str) -> None:
        print(line, flush=True)
        self.lines.append(line)

    def load(self, url: str, key: str, share: int = 1) -> LoadResult:
        """Load for `seconds / share` (2 s at least) after a 1 s warm-up."""
        headers = {"Authorization": f"Bearer {key}"}
        run_load(url, headers, seconds=1, connections=32)  # warm-up
        return run_load(url, headers, seconds=max(2, self.seconds / share), connections=32)

    def reads(
        self, label: str, database_url: str, seeded: Seeded, reference_env: dict[str, str]
    ) -> None:
        list_id = seeded.list_ids[len(seeded.list_ids) // 2]
        app = (app_command(), app_env(database_url))
        uncached = (app_command(), app_env(database_url, **NO_PAGE_CACHE))
        reference = (baseline_command("bench.apps:reference_app"), reference_env)
        for limit in (25, 100):
            path = f"/v1/contacts/lists/{list_id}/contacts?limit={limit}"
            static, size = self.static_copy(app, path, seeded.key, f"body-{limit}.json")
            runs = self.rounds(
                {"app": app, "cache off": uncached, "static": static, "reference": reference},
                path,
                seeded.key,
            )
            for variant, name in (("app", ""), ("cache off", ", page cache off")):
                self.say(
                    f"| {label} contacts page, limit {limit}{name} ({size / 1000:.1f} kB) "
                    f"| {_median_rps(runs[variant])} | {_median_rps(runs['static'])} "
                    f"| {_median_rps(runs['reference'])} | {_ratio(runs, variant, 'static')} "
                    f"| {_ratio(runs, variant, 'reference')} | {_errors(runs[variant])} |"
                )
        path = "/v1/contacts/lists?limit=20"
        static, size = self.static_copy(app, path, seeded.key, "body-lists.json")
        runs = self.rounds({"app": app, "static": static}, path, seeded.key)
        self.say(
            f"| {label} lists page, limit 20 ({size / 1000:.1f} kB) | {_median_rps(runs['app'])} "
            f"| {_median_rps(runs['static'])} | — | {_ratio(runs, 'app', 'static')} | — "
            f"| {_errors(runs['app'])} |"
        )

    def static_copy(self, app: Server, path: str, key: str, name: str) -> tuple[Server, int]:
        """The bare Starlette server, answering with the bytes the app answers `path` with."""
        with serving(*app) as (base, _):
            body = httpx.get(base + path, headers={"Authorization": f"Bearer {key}"}).content
        body_file = self.workdir / name
        body_file.write_bytes(body)
        static = (baseline_command("bench.apps:static_app"), {"BENCH_STATIC_BODY": str(body_file)})
        return static, len(body)

    def rounds(
        self, servers: dict[str, Server], path: str, key: str
    ) -> dict[str, list[LoadResult]]:
        """Each server in turn, `READ_ROUNDS` times over, a share of the time each:
        this machine's speed drifts by tens of per cent within a minute, and a
        ratio taken within one round shares the drift."""
        runs: dict[str, list[LoadResult]] = {name: [] for name in servers}
        for _ in range(READ_ROUNDS):
            for name, server in servers.items():
                with serving(*server) as (base, _):
                    runs[name].append(self.load(base + path, key, share=READ_ROUNDS))
        return runs

    def flatness(self, small: Seeded, small_url: str, large: Seeded, large_url: str) -> None:
        """Small and large alternate for `FLATNESS_ROUNDS` rounds and each round
        gives a ratio: this machine's speed drifts by tens of per cent over a
        minute, and a pair measured back to back shares the drift."""
        rounds: list[tuple[LoadResult, LoadResult]] = []
        for _ in range(FLATNESS_ROUNDS):
            pair = []
            for seeded, url in ((small, small_url), (large, large_url)):
                path = f"/v1/contacts/lists/{seeded.list_ids[len(seeded.list_ids) // 2]}/contacts"
                # Cache off, so each request seeks the (large or small) tables.
                with serving(app_command(), app_env(url, **NO_PAGE_CACHE)) as (base, _):
                    pair.append(self.load(base + path, seeded.key))
            rounds.append((pair[0], pair[1]))

        def median_of(pick: Callable[[tuple[LoadResult, LoadResult]], float]) -> float:
            return statistics.median(pick(pair) for pair in rounds)

        self.say(
            f"| p50 / p95, 1M vs 1k contacts (page cache off; medians of {FLATNESS_ROUNDS} "
            f"alternating rounds) | {median_of(lambda r: r[1].p50_ms):.2f} / "
            f"{median_of(lambda r: r[1].p95_ms):.2f} ms vs {median_of(lambda r: r[0].p50_ms):.2f} / "
            f"{median_of(lambda r: r[0].p95_ms):.2f} ms "
            f"| {median_of(lambda r: r[1].p50_ms / r[0].p50_ms):.2f}× p50 (rounds: "
            + ", ".join(f"{large.p50_ms / small.p50_ms:.2f}×" for small, large in rounds)
            + ") |"
        )

    def memory(self, database_url: str, seeded: Seeded) -> None:
        path = f"/v1/contacts/lists/{seeded.list_ids[0]}/contacts"
        headers = {"Authorization": f"Bearer {seeded.key}"}

        body_file = self.workdir / "body-memory.json"

        def measure(command: list[str], env: dict[str, str]) -> tuple[int, int, int, int]:
            with serving(command, env) as (base, pid):
                idle, idle_anonymous = _rss_kb(pid), _rss_kb(pid, "RssAnon")
                with httpx.Client(base_url=base, headers=headers) as client:
                    body_file.write_bytes(client.get(path).content)
                    for _ in range(999):
                        client.get(path)
                    after_1k = _rss_kb(pid)
                    for _ in range(9_000):
                        client.get(path)
                return idle, after_1k, _rss_kb(pid), idle_anonymous

        # The baselines answer with the page the app served (saved by the app's round).
        static_env = {"BENCH_STATIC_BODY": str(body_file)}
        servers = {
            "app": (app_command(), app_env(database_url)),
            "bare": (baseline_command("bench.apps:static_app"), static_env),
            "floor": (baseline_command("bench.floor:floor_app"), static_env),
        }
        # Alternating rounds, as for the reads: a process's resident size moves
        # by a MiB or two with the machine's state, in its anonymous memory as
        # well as in its code mapped from files (README "Idle memory"), and a
        # round shares that state.
        rounds = [
            {name: measure(*server) for name, server in servers.items()}
            for _ in range(MEMORY_ROUNDS)
        ]

        def median(name: str, index: int) -> float:
            return statistics.median(r[name][index] for r in rounds) / 1024

        over = [(r["app"][0] - r["floor"][0]) / 1024 for r in rounds]
        anonymous_over = median("app", 3) - median("floor", 3)
        app = [median("app", i) for i in range(3)]
        bare, floor = median("bare", 0), median("floor", 0)
        self.say(
            f"| RSS idle / after 1k / after 10k (medians of {MEMORY_ROUNDS} alternating rounds) "
            f"| app {app[0]:.0f} / {app[1]:.0f} / {app[2]:.0f} MiB; bare Starlette worker "
            f"{bare:.0f} MiB; FastAPI + SQLAlchemy floor {floor:.0f} MiB "
            f"| idle {app[0] / bare:.2f}× bare ({floor / bare:.2f}× for the floor), "
            f"{statistics.median(over):+.1f} MiB over the floor (rounds: "
            + ", ".join(f"{o:+.1f}" for o in over)
            + f"; anonymous memory {anonymous_over:+.1f} MiB, the rest code mapped from "
            f"files), growth 1k→10k {100 * (app[2] - app[1]) / app[1]:+.1f}% |"
        )

    def creates(self, database_url: str, latency_ms: int) -> None:
        env = app_env(database_url, CONTACTLISTS_SANDBOX_LATENCY_MS=str(latency_ms))
        keys = asyncio.run(charged_accounts(database_url, 8))
        body = {
            "name": "bench",
            "filters": {
                "companyLinkedInUrls": ["https://www.linkedin.com/company/sandbox-exact-125"],
                "jobTitles": ["Engineer"],
            },
        }
        ideal = 5 * latency_ms / 1000

        def create(client: httpx.Client, out: list[float]) -> None:
            """Time one create on a connected client: the service's time, not the
            client's set-up (a fresh httpx client costs milliseconds)."""
            started = time.perf_counter()
            response = client.post("/v1/contacts/lists", json=body)
            assert response.status_code == 201, response.text
            out.append(time.perf_counter() - started)

        def connected(base: str, key: str) -> httpx.Client:
            client = httpx.Client(
                base_url=base, timeout=60, headers={"Authorization": f"Bearer {key}"}
            )
            client.get("/v1/credits").raise_for_status()
            return client

        with serving(app_command(), env) as (base, _):
            clients = [connected(base, key) for key in keys]
            alone: list[float] = []
            for _ in range(5):
                create(clients[0], alone)
            concurrent: list[float] = []
            gate = threading.Barrier(len(clients))

            def create_together(client: httpx.Client) -> None:
                gate.wait()
                create(client, concurrent)

            threads = [threading.Thread(target=create_together, args=(c,)) for c in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for client in clients:
                client.close()
        with serving(app_command(), app_env(database_url)) as (base, _):
            overhead: list[float] = []
            client = connected(base, keys[0])
            for _ in range(10):
                create(client, overhead)
            client.close()
        self.say(
            f"| create, L = {latency_ms} ms, 125 leads | alone {statistics.median(alone):.3f} s, "
            f"8 concurrent max {max(concurrent):.3f} s vs 5 × L = {ideal:.3f} s "
            f"| {statistics.median(alone) / ideal:.3f}× alone, {max(concurrent) / ideal:.3f}× concurrent |"
        )
        self.say(
            f"| create with L = 0 (validation + write transaction of 125 items + response) "
            f"| median {1000 * statistics.median(overhead):.1f} ms | — |"
        )
        store = asyncio.run(write_transaction_times(database_url, keys[0], runs=20))
        self.say(
            f"| the create's write transaction alone (list + 125 people + 125 items, in-process) "
            f"| median {1000 * statistics.median(store):.1f} ms | — |"
        )


async def charged_accounts(database_url: str, count: int) -> list[str]:
    """Live keys of ordinary accounts, made as the operator CLI makes them: each
    is charged for its lists (a credit reservation per create) and has a
    sandbox connection."""
    settings = Settings(
        env="production", secret_key=SECRET, database_url=database_url, log_level="warning"
    )
    database = Database.from_settings(settings)
    try:
        keys = []
        for _ in range(count):
            name = f"create-{secrets.token_hex(4)}"
            account_id = await accounts.create_account(database, name, credits_granted=10**9)
            await connections.connect(database, account_id, "sandbox")
            keys.append((await accounts.create_key(database, account_id, "live"))[1])
        return keys
    finally:
        await database.dispose()


async def write_transaction_times(database_url: str, key: str, runs: int) -> list[float]:
    """Time the create flow's one write transaction (`lists.create._store`) on its own."""
    settings = Settings(
        env="production", secret_key=SECRET, database_url=database_url, log_level="warning"
    )
    database = Database.from_settings(settings)
    reads = await open_read_store(settings)
    try:
        principal, _ = await authenticate(database, reads, key)
        body = ListCreate.model_validate(
            {
                "name": "bench",
                "filters": {
                    "companyLinkedInUrls": ["https://www.linkedin.com/company/sandbox-exact-125"],
                    "jobTitles": ["Engineer"],
                },
            }
        )
        query = LeadQuery(
            company_urls=tuple(body.filters.company_linked_in_urls), job_titles=("Engineer",)
        )
        result = await run_search(SandboxProvider(), query, timeout_s=30)
        # The write transaction uses neither the HTTP client nor the rate limits.
        context = lists_create.CreateContext(
            database,
            principal,
            settings,
            http=None,
            limits=None,
            request_id="bench",
            spec=lists_create.ListSpec(body.name, body.filters),
        )
        context.provider_name = "sandbox"
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            await lists_create._store(context, result)
            times.append(time.perf_counter() - started)
        return times
    finally:
        await reads.close()
        await database.dispose()


def migrated_sqlite(workdir: Path, name: str) -> tuple[str, str]:
    path = workdir / f"{name}.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return str(path), url


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def seeded_postgres(lists: int) -> Iterator[tuple[str, Seeded]]:
    """A throw-away migrated and seeded PostgreSQL database: its SQLAlchemy URL and seed."""
    name = f"contactlists_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
        upgrade(url)
        yield url, asyncio.run(seed_postgres(url.replace("+asyncpg", ""), "bench", lists))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="load duration per measurement")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--no-million", action="store_true", help="skip the 1M-contact flatness run"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run just these parts (repeatable); default: all",
    )
    args = parser.parse_args()
    parts = set(args.only or PARTS)
    bench = Bench(args.seconds, Path(tempfile.mkdtemp(prefix="contactlists-bench-")))
    bench.say(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"load: wrk -t1 -c32 {args.seconds:g}s per figure"
    )
    shared = " ".join(f"{k}={v}" for k, v in SHARED_ENV.items() if k != "CONTACTLISTS_SECRET_KEY")
    bench.say(f"every server: {shared} <command> --port P")
    for name, command in (
        ("app", app_command()),
        ("static", baseline_command("bench.apps:static_app")),
        ("reference", baseline_command("bench.apps:reference_app")),
        ("floor", baseline_command("bench.floor:floor_app")),
    ):
        bench.say(f"  {name}: {shlex.join(command)}")
    bench.say(
        "| measurement | app req/s | static req/s | reference req/s | app ÷ static | app ÷ reference | errors |"
    )
    bench.say("|---|---|---|---|---|---|---|")
    path, url = migrated_sqlite(bench.workdir, "reads")
    seeded = seed_sqlite(path, "bench", 1_000)
    if "reads" in parts:
        bench.reads("SQLite", url, seeded, {"BENCH_SQLITE_PATH": path})
    if "reads" in parts and not args.no_postgres:
        with seeded_postgres(1_000) as (pg_url, pg_seeded):
            bench.reads(
                "PostgreSQL",
                pg_url,
                pg_seeded,
                {"BENCH_POSTGRES_DSN": pg_url.replace("+asyncpg", "")},
            )
    bench.say("")
    bench.say("| measurement | figures | ratio |")
    bench.say("|---|---|---|")
    if "creates" in parts:
        bench.creates(url, latency_ms=200)
    if "flatness" in parts and not args.no_million:
        small_path, small_url = migrated_sqlite(bench.workdir, "small")
        small = seed_sqlite(small_path, "bench", 8)
        large_path, large_url = migrated_sqlite(bench.workdir, "large")
        large = seed_sqlite(large_path, "bench", 8_000)
        os.sync()  # the seed's writes reach the disk before anything is timed
        bench.flatness(small, small_url, large, large_url)
    if "memory" in parts:
        bench.memory(url, seeded)


if __name__ == "__main__":
    main()
