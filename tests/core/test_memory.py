"""Freed C heap goes back to the system after start-up, where glibc can do it."""

from __future__ import annotations

import ctypes
import platform
import subprocess
import sys

import pytest

from contactlists.core.memory import release_free_memory

# Frees 32 MiB of 64 KiB blocks (under glibc's mmap threshold, so on its heap)
# while the last block stays, so glibc cannot shrink the heap's top by itself;
# prints the resident KiB before and after the release.
_PROBE = """
from contactlists.core.memory import release_free_memory

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

blocks = [bytes(64 * 1024) for _ in range(512)]
kept = blocks[-1]
del blocks
before = rss()
release_free_memory()
print(before, rss())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_heap_pages_leave_the_resident_set() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    before, after = map(int, result.stdout.split())
    assert before - after > 16 * 1024, (before, after)


def test_without_malloc_trim_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes, "CDLL", lambda _name: object())  # musl, macOS
    release_free_memory()
