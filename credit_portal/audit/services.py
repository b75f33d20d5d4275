"""Writing the audit chain and anchoring its head. Verification: :mod:`credit_portal.audit.verification`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from credit_portal.audit import anchors as anchor_store
from credit_portal.audit import chain
from credit_portal.audit.chain import GENESIS_HASH
from credit_portal.audit.models import AuditAnchor, AuditEvent

if TYPE_CHECKING:
    from credit_portal.accounts.actors import Actor

__all__ = ["GENESIS_HASH", "anchor_head", "compute_hash", "log", "snapshot"]

# Any fixed 64-bit number: the key of the advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 0x43505F4155444954  # "CP_AUDIT"


def _normalise(value: Any) -> Any:
    """What the value will look like after a round trip through jsonb."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    """The hash ``event`` should carry after ``prev_hash``, under its own scheme and key."""
    if event.scheme == chain.SCHEME_SHA256:
        return chain.legacy_hash(prev_hash, event)
    return chain.keyed_hash(prev_hash, event, chain.known_keys()[event.key_id])


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
        # After the lock, in a statement of its own (whose snapshot sees every append committed
        # before it): the head, and the new row's id, which is part of what is signed and so is drawn
        # before the insert (under the lock: ids follow the chain's order).
        cursor.execute(
            "SELECT (SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1), "
            "nextval(pg_get_serial_sequence('audit_auditevent', 'id'))"
        )
        head_hash, event_id = cursor.fetchone()
    prev_hash = head_hash or GENESIS_HASH
    event = AuditEvent(
        id=event_id,
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
    event.hash = chain.seal(event, prev_hash)
    event.save(force_insert=True)
    return event


@transaction.atomic
def anchor_head() -> AuditAnchor:
    """Anchor the chain's head now: the id and hash of its newest row (event 0 and the genesis hash
    while it is empty). Side effects: a line appended to the anchor file outside the database
    (written, and flushed to disk, before the anchor row commits: a published anchor is always in
    the file too), and the anchor row that the public page and the API show.

    Not an audit event itself: the anchor row is its own record, and an event about it would leave
    every anchor one row behind the head it names."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, hash FROM audit_auditevent ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    sequence, head_hash = row if row else (0, GENESIS_HASH)
    anchor = AuditAnchor(anchored_at=timezone.now(), sequence=sequence, hash=head_hash)
    anchor_store.append(anchor.as_public())
    anchor.save(force_insert=True)
    return anchor


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The audited view of ``instance``: the named fields, foreign keys as ids."""
    out = {}
    for name in fields:
        f = instance._meta.get_field(name)
        out[name] = getattr(instance, f.attname)
    return _normalise(out)
