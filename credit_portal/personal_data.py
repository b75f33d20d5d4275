"""Protection of personal identifiers (resident identity numbers and the like).

An identifier is never stored in clear: the database keeps a keyed hash (to find a person by number
without being able to read numbers back) and an encrypted copy (for the staff roles entitled to see
it). Both keys derive from ``PERSONAL_DATA_KEY``, kept apart from ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, Fernet]:
    lookup_key = hashlib.sha256(b"credit-portal/lookup/" + secret.encode()).digest()
    cipher_key = base64.urlsafe_b64encode(hashlib.sha256(b"credit-portal/cipher/" + secret.encode()).digest())
    return lookup_key, Fernet(cipher_key)


def lookup_hash(value: str) -> str:
    """Deterministic keyed hash: equal numbers give equal hashes; without the key nothing can be learned."""
    lookup_key, _ = _keys(settings.PERSONAL_DATA_KEY)
    return hmac.new(lookup_key, value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    _, fernet = _keys(settings.PERSONAL_DATA_KEY)
    return fernet.encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    _, fernet = _keys(settings.PERSONAL_DATA_KEY)
    return fernet.decrypt(token.encode("ascii")).decode()
