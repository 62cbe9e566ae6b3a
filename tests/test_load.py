"""`make load`'s script, briefly: a few seconds of mixed traffic on SQLite, no 5xx,
no lost write (the two-minute runs on both backends are `make load`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_mixed_load_holds() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.mixed", "--seconds", "3", "--concurrency", "4"],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert " 0 5xx, 0 lost writes" in run.stdout
