"""The published patterns accept exactly what validation accepts.

The API fuzzer checks this through the server; these compare the two directly,
on many random strings built from the characters where they could differ
(white space at either end, controls, quotes, percent-escapes, non-ASCII).
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter, ValidationError

from contactlists.connections.schemas import ConnectionPut
from contactlists.core.textfields import INVISIBLE, SPACES, Trimmed
from contactlists.idempotency.service import KEY_PATTERN, parse_key
from contactlists.lists.schemas import COMPANY_URL_PATTERN, ListFilters

SAMPLES = 20_000
TEXT_ALPHABET = [*SPACES, *INVISIBLE, "\x00", "\x1c", "\x7f", "\x80", "\U000e0020", "a", "é", "😀"]
URL_PIECES = ["linkedin.com/company/", "a", "-", "%41", "%20", "%C3%A9", "%E0%A0", "%ED%A0%80",
              "%F0%9F%98%80", "%ff", "é", " ", "/", "?x", "\x85", "%2e", "%5F"]  # fmt: skip
KEY_ALPHABET = ['"', "a", "~", "!", " ", "\t", "é"]


def test_invisible_is_every_format_character_of_the_bmp() -> None:
    assert set(INVISIBLE) == {
        chr(code) for code in range(0x10000) if unicodedata.category(chr(code)) == "Cf"
    }


def _agree(pattern: str, accepts: Any, strings: list[str]) -> None:
    published = re.compile(pattern)
    outcomes = set()
    for value in strings:
        accepted = accepts(value)
        assert bool(published.fullmatch(value)) == accepted, repr(value)
        outcomes.add(accepted)
    assert outcomes == {True, False}  # the samples reach both sides


def _accepted_by(adapter: TypeAdapter[Any]) -> Any:
    def accepts(value: str) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return False
        return True

    return accepts


@pytest.mark.parametrize("min_length", [0, 1])
def test_trimmed_text(min_length: int) -> None:
    rng = random.Random(min_length)
    strings = ["".join(rng.choices(TEXT_ALPHABET, k=rng.randint(0, 7))) for _ in range(SAMPLES)]
    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[str, Trimmed(4, min_length=min_length)])
    _agree(adapter.json_schema()["pattern"], _accepted_by(adapter), strings)


def test_company_urls() -> None:
    rng = random.Random(1)
    strings = [
        "linkedin.com/company/" + "".join(rng.choices(URL_PIECES, k=rng.randint(0, 5)))
        for _ in range(SAMPLES)
    ]
    adapter: TypeAdapter[Any] = TypeAdapter(
        ListFilters.model_fields["company_linked_in_urls"].annotation
    )

    def accepts(value: str) -> bool:
        return _accepted_by(adapter)([value])

    _agree(COMPANY_URL_PATTERN, accepts, strings)


def test_cookies() -> None:
    rng = random.Random(2)
    strings = [
        "".join(rng.choices([*KEY_ALPHABET, ";", "\n"], k=rng.randint(0, 6)))
        for _ in range(SAMPLES)
    ]
    field = ConnectionPut.model_json_schema()["properties"]["liAt"]["anyOf"][0]

    def accepts(value: str) -> bool:
        try:
            ConnectionPut.model_validate({"provider": "linkedin", "liAt": value, "jsessionId": "x"})
        except ValidationError:
            return False
        return True

    _agree(field["pattern"], accepts, strings)


def test_idempotency_keys() -> None:
    rng = random.Random(3)
    strings = ["".join(rng.choices(KEY_ALPHABET, k=rng.randint(0, 5))) for _ in range(SAMPLES)]
    # HTTP servers strip white space around header values, so only trimmed ones arrive.
    strings = [value for value in strings if value == value.strip(" \t")]

    def accepts(value: str) -> bool:
        try:
            parse_key([value], {})
        except Exception:
            return False
        return True

    _agree(KEY_PATTERN, accepts, strings)
