"""Writing and verifying the audit chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from credit_portal.audit.models import AuditEvent

if TYPE_CHECKING:
    from credit_portal.accounts.actors import Actor

GENESIS_HASH = "0" * 64
# Any fixed 64-bit number: the key of the advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x43505F4155444954  # "CP_AUDIT"


def _normalise(value: Any) -> Any:
    """What the value will look like after a round trip through jsonb."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def _content(event: AuditEvent) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_kind": event.actor_kind,
        "actor_label": event.actor_label,
        "actor_user_id": event.actor_user_id,
        "actor_token_id": event.actor_token_id,
        "actor_department_id": event.actor_department_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "before": event.before,
        "after": event.after,
        "data": event.data,
    }


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    canonical = json.dumps(_content(event), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _target_fields(target: models.Model | None) -> dict[str, str]:
    if target is None:
        return {"target_type": "", "target_id": "", "target_repr": ""}
    return {
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "target_repr": str(target)[:300],
    }


def log(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    data: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Appends are serialised by a transaction-level advisory lock held until the caller commits, so
    the chain has exactly one order, the order of commit. Call this as late in a transaction as
    you can: it makes other audited writers wait."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.log() must run inside the transaction of the change it records")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        cursor.execute("SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    prev_hash = row[0] if row else GENESIS_HASH
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor_kind=actor.kind,
        actor_label=actor.label[:200],
        actor_user_id=actor.user.pk if actor.user is not None else None,
        actor_token_id=actor.token.pk if actor.token is not None else None,
        actor_department_id=actor.department_id,
        action=action,
        before=_normalise(before),
        after=_normalise(after),
        data=_normalise(data),
        prev_hash=prev_hash,
        **_target_fields(target),
    )
    # jsonb and timestamptz keep microseconds; hash what will be read back.
    event.hash = compute_hash(prev_hash, event)
    event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def _events_in_order(batch_size: int = 5000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk


def verify_chain() -> tuple[int, ChainBreak | None]:
    """Walk the chain in order. Return (rows checked, the first row that does not fit or None)."""
    checked = 0
    prev_hash = GENESIS_HASH
    for event in _events_in_order():
        checked += 1
        if event.prev_hash != prev_hash:
            return checked, ChainBreak(
                event.pk, "its link to the previous row does not match (a row was removed)"
            )
        if compute_hash(prev_hash, event) != event.hash:
            return checked, ChainBreak(event.pk, "its content does not match its hash (the row was altered)")
        prev_hash = event.hash
    return checked, None


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The audited view of ``instance``: the named fields, foreign keys as ids."""
    out = {}
    for name in fields:
        f = instance._meta.get_field(name)
        out[name] = getattr(instance, f.attname)
    return _normalise(out)
