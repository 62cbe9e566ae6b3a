"""Handing the C heap's free pages back to the system once the app has started.

Importing and starting the app allocates and frees megabytes (module loading,
statement compilation, the schema check on its SQLite thread), and glibc keeps
most freed pages resident until the process asks for memory again; an idle
worker never does. `malloc_trim(0)` returns them: about 0.7 MiB of an idle
worker's RSS (README "Idle memory"). On a C library without it (musl, macOS)
this does nothing.
"""

from __future__ import annotations

import ctypes


def release_free_memory() -> None:
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    malloc_trim(0)
