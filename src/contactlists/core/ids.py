"""Opaque public ids."""

from __future__ import annotations

import os

_BASE32 = b"abcdefghijklmnopqrstuvwxyz234567"
# Byte b -> the base32 digit of its low 5 bits; 256 is a multiple of 32, so a
# uniformly random byte gives a uniformly random digit.
_DIGIT_OF_BYTE = bytes(_BASE32[byte & 31] for byte in range(256))


def new_id(prefix: str) -> str:
    """An opaque id with 130 random bits: 26 lower-case base32 digits, URL-safe.

    One C-level translate of 26 random bytes: a create makes hundreds of ids,
    and encoding a random integer digit by digit in Python is several times
    slower (`make profile` shows it on a create).
    """
    return prefix + "_" + os.urandom(26).translate(_DIGIT_OF_BYTE).decode()


def may_name_a_row(value: str) -> bool:
    """No id has a NUL, and PostgreSQL refuses one even as a parameter (a 500
    waiting to happen): a value with one names no row, on every backend alike."""
    return "\x00" not in value
