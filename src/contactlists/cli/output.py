"""Tables both command-line applications print: ids whole, scripts served plainly.

On a terminal a Rich table whose id columns never shrink (the others fold);
through a pipe or into a file, a header line and one tab-separated line a row,
which `cut -f1` and `awk -F'\t'` read; `--json` prints the objects instead.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def print_rows(
    columns: Sequence[str], rows: Iterable[Sequence[str]], ids: Sequence[str] = ("id",)
) -> None:
    """A table on a terminal, tab-separated lines elsewhere; the `ids` columns are never cut."""
    rows = [tuple(row) for row in rows]
    if not sys.stdout.isatty():
        for line in (tuple(columns), *rows):
            print("\t".join(" ".join(cell.split()) for cell in line))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    widths = {
        name: max((len(row[index]) for row in rows), default=len(name))
        for index, name in enumerate(columns)
    }
    # Ids whole, the other columns at least a few characters wide, plus the borders.
    needed = sum(widths[name] if name in ids else 6 for name in columns) + 3 * len(columns) + 1
    if needed > console.width:
        # Too narrow for a table that keeps the ids whole: one block of lines a row.
        label = max(map(len, columns))
        for row in rows:
            for name, cell in zip(columns, row, strict=True):
                console.print(Text(f"{name:>{label}}  {cell}"), soft_wrap=name in ids)
            console.print()
        return
    table = Table(*columns)
    for name, column in zip(columns, table.columns, strict=True):
        if name in ids:
            column.no_wrap = True
            column.min_width = widths[name]
        else:
            column.overflow = "fold"
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
