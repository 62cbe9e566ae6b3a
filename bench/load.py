"""Load generation: wrk when installed, else a small asyncio HTTP/1.1 keep-alive client."""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPORT_SCRIPT = Path(__file__).with_name("report.lua")


@dataclass(frozen=True)
class LoadResult:
    rps: float
    p50_ms: float
    p95_ms: float
    errors: int
    tool: str
    error_kinds: str = ""

    @property
    def errors_shown(self) -> str:
        """`0`, or the count with its kinds (`2 (timeout 1, non2xx 1)`)."""
        return f"{self.errors} ({self.error_kinds})" if self.errors else "0"


def run_load(url: str, headers: dict[str, str], *, seconds: float, connections: int) -> LoadResult:
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, connections)
    return asyncio.run(_asyncio_load(url, headers, seconds, connections))


def _wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> LoadResult:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "-s",
        str(REPORT_SCRIPT),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    report = json.loads(output.strip().splitlines()[-1])
    kinds = {kind: report[kind] for kind in ("connect", "read", "write", "timeout", "non2xx")}
    return LoadResult(
        rps=report["requests"] / (report["duration_us"] / 1e6),
        p50_ms=report["p50_us"] / 1000,
        p95_ms=report["p95_us"] / 1000,
        errors=sum(kinds.values()),
        tool="wrk",
        error_kinds=", ".join(f"{kind} {count}" for kind, count in kinds.items() if count),
    )


async def _asyncio_load(
    url: str, headers: dict[str, str], seconds: float, connections: int
) -> LoadResult:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + "\r\n"
    )
    request = head.encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if not status_line.startswith(b"HTTP/1.1 2"):
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return LoadResult(
        rps=len(latencies) / elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p95_ms=ordered[int(len(ordered) * 0.95)] * 1000,
        errors=errors,
        tool="asyncio",
        error_kinds="non-2xx",
    )
