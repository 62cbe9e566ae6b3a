"""How many bits a configured secret carries, by a stated, conservative estimate.

The estimate (bits, never more than the truth for the failures it targets):

1. Known placeholders (`changeme`, `secret`, `password`, …) are removed,
   case-insensitively: a word anyone would guess carries nothing.
2. A character that repeats the one before it, or is its neighbour in code
   points (`aaaa`, `1234`, `abcd`), carries nothing.
3. Every other character carries log2 of the smaller of the alphabet its
   character classes span (lower 26, upper 26, digits 10, other 33) and the
   number of distinct characters the secret uses (low variety is a small
   alphabet whatever the classes say).
4. The total is capped by what the rest compresses to (zlib, 8 bits a byte
   over the empty stream's overhead): repeated blocks carry one block.

`secrets.token_urlsafe(32)` (43 characters) scores about 190 bits, 48 bytes
about 300; 16 random bytes in hex (32 characters) score about 110 and are
refused; a 32 × `a`,
or `changeme` padded with its own letters, scores under 30.
"""

from __future__ import annotations

import math
import re
import string
import zlib

MIN_SECRET_BITS = 128
PLACEHOLDERS = (
    "changeme",
    "change-me",
    "change_me",
    "password",
    "passwd",
    "secret",
    "development",
    "default",
    "example",
    "placeholder",
    "qwerty",
    "letmein",
    "admin",
)
_PLACEHOLDER = re.compile("|".join(map(re.escape, PLACEHOLDERS)), re.IGNORECASE)
_CLASSES = (
    (frozenset(string.ascii_lowercase), 26),
    (frozenset(string.ascii_uppercase), 26),
    (frozenset(string.digits), 10),
)
_OTHER_ALPHABET = 33
_ZLIB_OVERHEAD = len(zlib.compress(b"", 9))


def _alphabet(chars: set[str]) -> int:
    size = sum(n for members, n in _CLASSES if chars & members)
    if any(not any(c in members for members, _ in _CLASSES) for c in chars):
        size += _OTHER_ALPHABET
    return min(size, len(chars))


def estimated_bits(secret: str) -> float:
    rest = _PLACEHOLDER.sub("", secret)
    if not rest:
        return 0.0
    informative = sum(
        1
        for previous, current in zip(" " + rest, rest, strict=False)
        if abs(ord(current) - ord(previous)) > 1
    )
    per_char = math.log2(max(_alphabet(set(rest)), 1))
    compressed = 8 * (len(zlib.compress(rest.encode(), 9)) - _ZLIB_OVERHEAD)
    return min(informative * per_char, float(compressed))
