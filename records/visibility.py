"""What a reader may see of a credit record beyond whether it exists.

Stop sharing, not only stop publishing: a record that no longer stands — revoked, its disclosure
period ended (expired), or its credit restored — must no longer be shared or used (DOMAIN:
restoration means "stop publishing, stop sharing and using the information"). Other departments,
through their tokens or their staff, still learn that the record exists and what became of it:
its status, identifiers and dates, and the change feed's events. Its content (legal basis,
severity, content, remarks, structured fields) stays with the recording department and the credit
office, which keep full access. The feed follows the record's current status, so the content of
its older "created" and "corrected" entries is withheld too.

And the public never sees the identity numbers of the persons behind an entity or a record, not
even masked: a name and a role identify them enough."""

from __future__ import annotations

from typing import Any

from credit_portal.accounts.actors import Actor
from records.models import CatalogueItem, CreditRecord

# Statuses in which a record's content is no longer shared with other departments.
WITHHELD_STATUSES = frozenset(
    {CreditRecord.Status.REVOKED, CreditRecord.Status.EXPIRED, CreditRecord.Status.RESTORED}
)
# The keys of a record's API representation and change-feed payload that are its content.
WITHHELD_FIELDS = ("legal_basis", "severity", "content", "remarks", "fields")
# The keys still shared: who and what it was about, its identifiers, dates and status. Any other key
# is withheld as well, so a field added to the representation later is not shared by mistake.
SHARED_FIELDS = frozenset(
    {
        "id", "item", "entity", "department", "party_name", "decision_number", "decision_date",
        "valid_from", "valid_to", "status", "content_withheld", "version", "provenance", "disclosure",
        "disclosure_due_on", "disclosure_due_on_provisional", "disclosure_ends_on", "published_at",
        "published_late_days", "withdrawn_at", "created_at", "updated_at",
    }
)  # fmt: skip


def content_withheld(actor: Actor | None, *, status: str, department_id: int | None) -> bool:
    """Whether ``actor`` may not read the content of a record in ``status`` recorded by
    ``department_id`` (no actor: withheld, so a caller that forgot to say who reads shares nothing)."""
    if status not in WITHHELD_STATUSES:
        return False
    return actor is None or not actor.acts_for_department(department_id)


def withhold(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a record's representation (API or change-feed payload) with every key but the
    shared ones null (the content keys always present, null)."""
    withheld = {key: (value if key in SHARED_FIELDS else None) for key, value in data.items()}
    return {**withheld, **dict.fromkeys(WITHHELD_FIELDS)}


def identity_keys(item: CatalogueItem) -> frozenset[str]:
    """The keys of the item's structured fields about a person's identity document: the number
    (masked or not) and the kind of document it belongs to."""
    keys = set()
    for definition in item.fields:
        if definition.get("type") == "identity":
            keys.add(definition["key"])
            keys.add(definition["key"].removesuffix("_number") + "_type")
    return frozenset(keys)


def without_identity(item: CatalogueItem, values: dict[str, Any]) -> dict[str, Any]:
    """A record's structured field values as the public may read them: no identity numbers."""
    hidden = identity_keys(item)
    return {key: value for key, value in values.items() if key not in hidden}
