"""Trimmed text fields whose published schema says exactly what validation accepts.

Names, titles, keywords and cookies are trimmed — of white space and of the
invisible format characters (bidi controls, zero-width spaces and joiners, the
BOM), so a name of only those is blank — before their length is counted
(the contract), so `minLength`/`maxLength` on the raw string would be wrong both
ways: `"  a  "` is valid though 5 long, and `"   "` is not though 3 long. Such a
field therefore publishes one pattern instead — white space, the trimmed value,
white space — built from the same characters `trim` removes, so the schema and
the code cannot disagree (the API fuzzer holds them to it). The patterns stay
within what ECMA-262 and Python's `re` share, with `\\uXXXX` escapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

# Unicode's White_Space characters: what a trimmed field loses at either end.
SPACES = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def _character_class(chars: str) -> str:
    """The inside of a `[...]` matching exactly `chars`, consecutive runs as ranges."""
    codes = sorted(map(ord, chars))
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][-1] + 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    return "".join(
        f"\\u{run[0]:04x}" + (f"-\\u{run[-1]:04x}" if len(run) > 1 else "") for run in runs
    )


# Unicode's format characters (category Cf) of the Basic Multilingual Plane,
# as Python 3.11's Unicode 14 lists them (a test holds the two equal): they
# show nothing, so an edge made of them is trimmed like white space.
INVISIBLE = (
    "\xad\u0600\u0601\u0602\u0603\u0604\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064"
    + "".join(map(chr, range(0x2066, 0x2070)))
    + "\ufeff\ufff9\ufffa\ufffb"
)
TRIMMED = SPACES + INVISIBLE
SPACE_CLASS = _character_class(SPACES)
TRIMMED_CLASS = _character_class(TRIMMED)
# C0 controls and DEL: never meaningful in text, and NUL cannot be stored in PostgreSQL.
CONTROL_CLASS = "\\u0000-\\u001f\\u007f"
NO_CONTROLS = f"^[^{CONTROL_CLASS}]*$"


def trim(value: Any) -> Any:
    return value.strip(TRIMMED) if isinstance(value, str) else value


def trimmed_pattern(core: str) -> str:
    """Any amount of white space or invisible characters around a value matching `core`."""
    return f"^[{TRIMMED_CLASS}]*(?:{core})[{TRIMMED_CLASS}]*$"


def visible_text(max_length: int) -> str:
    """1 to `max_length` characters without controls, neither end white space or invisible."""
    edge = f"[^{TRIMMED_CLASS}{CONTROL_CLASS}]"
    return f"{edge}(?:[^{CONTROL_CLASS}]{{0,{max_length - 2}}}{edge})?"


@dataclass(frozen=True, slots=True)
class Trimmed:
    """`Annotated[str, Trimmed(200)]`: trimmed of `TRIMMED`, then 1-200 characters
    (Unicode code points, `min_length=0` allows empty), no control characters."""

    max_length: int
    min_length: int = 1

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(
            trim,
            core_schema.str_schema(
                min_length=self.min_length, max_length=self.max_length, pattern=NO_CONTROLS
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        core = visible_text(self.max_length)
        length = f"{self.min_length}-{self.max_length}"
        if not self.min_length:
            core, length = f"(?:{core})?", f"at most {self.max_length}"
        return {
            "type": "string",
            "pattern": trimmed_pattern(core),
            "description": (
                f"Trimmed of white space and invisible format characters, then {length} "
                "characters, no controls."
            ),
        }
