"""How a row of the audit chain is hashed, and with which key.

Rows written since the chain was keyed carry an HMAC-SHA256 under ``AUDIT_CHAIN_KEY``, a secret kept
outside the database like ``PERSONAL_DATA_KEY``: whoever can rewrite the table but does not hold the
key cannot recompute the chain. Each row names its key by a fingerprint (``key_id``), so that after a
rotation the rows signed with the retired key (``AUDIT_CHAIN_RETIRED_KEYS``) still verify.
See docs/adr/0009-keyed-audit-chain-anchors-and-database-roles.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENESIS_HASH = "0" * 64
SCHEME_SHA256 = 1
SCHEME_HMAC_SHA256 = 2


class ChainRow(Protocol):
    """What hashing reads from a row (an AuditEvent, or the historical model in a migration)."""

    id: int
    occurred_at: Any
    actor_kind: str
    actor_label: str
    actor_user_id: int | None
    actor_token_id: int | None
    actor_department_id: int | None
    action: str
    target_type: str
    target_id: str
    target_repr: str
    before: Any
    after: Any
    data: Any
    scheme: int
    key_id: str


@lru_cache(maxsize=16)
def _derive(secret: str) -> tuple[str, bytes]:
    """The id and the HMAC key of a configured secret. The id is a fingerprint, so that a key can be
    told from another without being revealed (and cannot be mislabelled)."""
    key_id = hashlib.sha256(b"credit-portal/audit-chain/key-id/" + secret.encode()).hexdigest()[:16]
    key = hashlib.sha256(b"credit-portal/audit-chain/hmac/" + secret.encode()).digest()
    return key_id, key


def current_key() -> tuple[str, bytes]:
    """(key id, key) that signs new rows."""
    secret = settings.AUDIT_CHAIN_KEY
    if not secret:
        raise ImproperlyConfigured("AUDIT_CHAIN_KEY is not set (see .env.example).")
    return _derive(secret)


def known_keys() -> dict[str, bytes]:
    """Every key a row may have been signed with: the current one and the retired ones."""
    secrets = [s for s in (settings.AUDIT_CHAIN_KEY, *settings.AUDIT_CHAIN_RETIRED_KEYS) if s]
    return dict(_derive(secret) for secret in secrets)


def _content(row: ChainRow) -> dict[str, Any]:
    return {
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "actor_kind": row.actor_kind,
        "actor_label": row.actor_label,
        "actor_user_id": row.actor_user_id,
        "actor_token_id": row.actor_token_id,
        "actor_department_id": row.actor_department_id,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "target_repr": row.target_repr,
        "before": row.before,
        "after": row.after,
        "data": row.data,
    }


def _canonical(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def legacy_hash(prev_hash: str, row: ChainRow) -> str:
    """Scheme 1, the rows written before the chain was keyed: anyone can recompute it."""
    return hashlib.sha256(prev_hash.encode() + _canonical(_content(row))).hexdigest()


def keyed_hash(prev_hash: str, row: ChainRow, key: bytes) -> str:
    """Scheme 2: the row's id, its link, its scheme and key id and its content, under the key."""
    message = {
        "id": row.id,
        "prev_hash": prev_hash,
        "scheme": SCHEME_HMAC_SHA256,
        "key_id": row.key_id,
        **_content(row),
    }
    return hmac.new(key, _canonical(message), hashlib.sha256).hexdigest()


def seal(row: ChainRow, prev_hash: str) -> str:
    """Sign a new row with the current key: sets its scheme and key id, returns its hash."""
    key_id, key = current_key()
    row.scheme = SCHEME_HMAC_SHA256
    row.key_id = key_id
    return keyed_hash(prev_hash, row, key)
