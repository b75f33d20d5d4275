"""Report numbers: ``CR`` + the request date (YYYYMMDD) + 10 random characters + 1 check character,
e.g. ``CR20261127K3M9QX2A7B4``.

The random part (31^10, about 2^49) makes numbers unguessable, so the public verification page
cannot be used to enumerate reports. The check character (a weighted sum modulo 31, weights 1..20:
every single-character substitution and every swap of neighbours changes it) lets the verification
page refuse a mistyped or tampered number without looking it up."""

from __future__ import annotations

import re
import secrets
from datetime import date

# The alphabet of the unified social credit code: no I, O, S, V, Z, which are easily misread.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PREFIX = "CR"
RANDOM_LENGTH = 10
LENGTH = len(PREFIX) + 8 + RANDOM_LENGTH + 1
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_SHAPE = re.compile(rf"^{PREFIX}(\d{{8}})[{ALPHABET}]{{{RANDOM_LENGTH + 1}}}\Z")


def check_character(body: str) -> str:
    total = sum(weight * _VALUE[c] for weight, c in enumerate(body, start=1))
    return ALPHABET[total % len(ALPHABET)]


def new_number(day: date) -> str:
    body = PREFIX + day.strftime("%Y%m%d") + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_character(body)


def normalise(value: object) -> str:
    """A number as a person types or scans it: any case, with spaces or hyphens."""
    return re.sub(r"[\s\-]", "", str(value or "")).upper()[: LENGTH + 8]


def is_well_formed(number: str) -> bool:
    """Shape, a real date and the check character; says nothing about whether the report exists."""
    match = _SHAPE.match(number)
    if match is None:
        return False
    try:
        date(int(match[1][:4]), int(match[1][4:6]), int(match[1][6:]))
    except ValueError:
        return False
    return check_character(number[:-1]) == number[-1]
