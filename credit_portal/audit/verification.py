"""Checking the audit chain: each row against its link and its (keyed) hash, and the whole trail
against every anchor kept outside the table.

The chain alone shows a row altered in place or removed from the middle. What it cannot show is a
trail cut short (newest rows deleted, or the table truncated) or rewritten from some row on by
someone holding the key: that takes an anchor, a head (id and hash) recorded elsewhere earlier.
The walk streams the table in id order, a batch at a time, so its memory does not grow with the
trail; anchors are few (one a day and those taken on demand) and are held in memory.
"""

from __future__ import annotations

import hmac
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from credit_portal.audit import anchors as anchor_store
from credit_portal.audit import chain
from credit_portal.audit.anchors import Anchor, utc_text
from credit_portal.audit.chain import GENESIS_HASH
from credit_portal.audit.models import AuditAnchor, AuditEvent

BATCH_SIZE = 2000
PUBLISHED = "published in the database"


@dataclass(frozen=True)
class Problem:
    """What is wrong, and at which event (None: not one row)."""

    event_id: int | None
    message: str


@dataclass
class Verification:
    checked: int = 0
    unkeyed: int = 0
    head_id: int = 0
    head_hash: str = GENESIS_HASH
    anchors_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def broken_at(self) -> int | None:
        """The first event named by a problem."""
        ids = [p.event_id for p in self.problems if p.event_id is not None]
        return min(ids) if ids else None


def _events_in_order(batch_size: int) -> Iterator[AuditEvent]:
    """Every event by id, a batch at a time (keyset pagination: constant memory, no server-side
    cursor, so it also works through a transaction-pooling PgBouncer)."""
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        yield from batch
        last_id = batch[-1].pk


def _row_problem(event: AuditEvent, prev_hash: str, keys: dict[str, bytes], keyed_since: int | None) -> str:
    if event.prev_hash != prev_hash:
        return "its link to the previous row does not match (a row was removed or inserted before it)"
    if event.scheme == chain.SCHEME_SHA256:
        if keyed_since is not None:
            return (
                f"it claims the unkeyed hash of the rows written before the chain was keyed, yet "
                f"comes after keyed event #{keyed_since} (it was rewritten without the key)"
            )
        if chain.legacy_hash(prev_hash, event) != event.hash:
            return "its content does not match its hash (the row was altered)"
        return ""
    if event.scheme == chain.SCHEME_HMAC_SHA256:
        key = keys.get(event.key_id)
        if key is None:
            return (
                f"it was signed with key {event.key_id!r}, which is neither AUDIT_CHAIN_KEY nor one of "
                "AUDIT_CHAIN_RETIRED_KEYS"
            )
        if not hmac.compare_digest(chain.keyed_hash(prev_hash, event, key), event.hash):
            return (
                "its content does not match its keyed hash (the row was altered, or re-hashed "
                "without the key)"
            )
        return ""
    return f"it names an unknown hashing scheme ({event.scheme})"


def verify(anchors: Iterable[Anchor] = (), *, batch_size: int = BATCH_SIZE) -> Verification:
    """Walk the chain in order and hold it against ``anchors``. Every problem found is listed: the
    first row that does not fit its chain (rows after it are not judged again: one rewrite makes
    every later hash wrong), and every anchor the trail contradicts."""
    result = Verification()
    unique: dict[tuple[int, str, str], Anchor] = {}
    for anchor in anchors:  # the same anchor from two sources is checked once, under the first
        unique.setdefault((anchor.sequence, anchor.hash, anchor.anchored_at), anchor)
    pending = deque(sorted(unique.values(), key=lambda a: (a.sequence, a.anchored_at)))
    keys = chain.known_keys()
    prev_hash = GENESIS_HASH
    keyed_since: int | None = None
    chain_broken = False
    while pending and pending[0].sequence == 0:
        anchor = pending.popleft()
        result.anchors_checked += 1
        if anchor.hash != GENESIS_HASH:
            result.problems.append(
                Problem(None, f"{anchor.describe()} names an empty trail but not the genesis hash")
            )
    for event in _events_in_order(batch_size):
        result.checked += 1
        while pending and pending[0].sequence < event.pk:
            anchor = pending.popleft()
            result.anchors_checked += 1
            result.problems.append(
                Problem(
                    anchor.sequence,
                    f"event #{anchor.sequence}, named by {anchor.describe()}, is missing: rows were "
                    "removed from the trail",
                )
            )
        if not chain_broken:
            reason = _row_problem(event, prev_hash, keys, keyed_since)
            if reason:
                chain_broken = True
                result.problems.append(Problem(event.pk, f"event #{event.pk}: {reason}"))
        if event.scheme == chain.SCHEME_HMAC_SHA256 and keyed_since is None:
            keyed_since = event.pk
        if event.scheme == chain.SCHEME_SHA256:
            result.unkeyed += 1
        while pending and pending[0].sequence == event.pk:
            anchor = pending.popleft()
            result.anchors_checked += 1
            if anchor.hash != event.hash:
                result.problems.append(
                    Problem(
                        event.pk,
                        f"event #{event.pk} does not match {anchor.describe()}: its hash is "
                        f"{event.hash[:16]}…, the anchor says {anchor.hash[:16]}… (the trail was "
                        "rewritten from there on)",
                    )
                )
        prev_hash = event.hash
        result.head_id, result.head_hash = event.pk, event.hash
    if pending:
        result.anchors_checked += len(pending)
        newest = pending[-1]
        older = len(pending) - 1
        also = f" (and {older} older anchor{'s' if older != 1 else ''} beyond it)" if older else ""
        if result.checked == 0:
            message = (
                f"truncated: the trail is empty, but {newest.describe()} names event #{newest.sequence}{also}"
            )
        else:
            message = (
                f"missing tail: the trail ends at event #{result.head_id}, but {newest.describe()} "
                f"names event #{newest.sequence}{also}: the rows after #{result.head_id} were deleted"
            )
        result.problems.append(Problem(pending[0].sequence, message))
    return result


def published_anchors() -> list[Anchor]:
    return [
        Anchor(sequence=a.sequence, hash=a.hash, anchored_at=utc_text(a.anchored_at), source=PUBLISHED)
        for a in AuditAnchor.objects.order_by("sequence", "id")
    ]


def verify_with_anchors(sources: list[str] | None = None) -> Verification:
    """The chain against the anchors of ``sources`` (paths or URLs; by default this portal's anchor
    store, ``AUDIT_ANCHOR_DIR``) and against those published in the database. With the default
    store, every published anchor must also be in the store: one missing there means the store was
    altered or lost, or that the anchors are written somewhere the check does not look.

    Raises AnchorSourceError when a source cannot be read."""
    given = anchor_store.read(sources) if sources else anchor_store.read_store()
    published = published_anchors()
    result = verify([*given, *published])
    if not sources:
        stored = {(a.sequence, a.hash) for a in given}
        lacking = [a for a in published if (a.sequence, a.hash) not in stored]
        if lacking:
            result.problems.append(
                Problem(
                    None,
                    f"the anchor store {anchor_store.anchor_dir()} lacks {len(lacking)} of the "
                    f"{len(published)} anchors published in the database (the first: event "
                    f"#{lacking[0].sequence} anchored {lacking[0].anchored_at})",
                )
            )
    return result
