"""The ends of a record's public life that a stage app's procedure decides, beside those of the
hub itself (a revocation, ``record_revoke``; a disclosure period over, the sweep's ``end_due``):
credit restored (``record_restore``, the restoration procedure) and a designation ended
(``record_end``, the listing procedure: removal from the list, or its term over).

Each follows the revocation's pattern: the record of the actor's department, locked (``NotFound``
for another's); a second call changes nothing and writes nothing; the record leaves public view as
its rule says; audit event and change-feed entry in the same transaction."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from records.catalogue_data import DESIGNATION_ITEMS
from records.models import CatalogueItem, CreditRecord, RecordChange
from records.services.credit import EndingTexts, _emit, _record_for_department, _withdraw, validate_ending

Status = CreditRecord.Status
Disclosure = CreditRecord.Disclosure

# Restored: a record that stands, or whose disclosure period has ended (it is still in reports,
# labelled, and restoration labels it restored instead). Not a draft (it never stood), a revoked
# record (it no longer does), nor one under objection (the objection is answered first).
RESTORABLE = (Status.EFFECTIVE, Status.CORRECTED, Status.EXPIRED)


RESTORATION_TEXTS = EndingTexts(
    reason_required=_("Say why credit is restored."),
    future=_("The date cannot be in the future."),
    before_decision=_("The date cannot be before the decision (%(date)s)."),
    before_rule=_("Dates before %(date)s cannot be recorded: no withdrawal deadline rule covers them."),
)
ENDING_TEXTS = EndingTexts(
    reason_required=_("Say why the designation ends."),
    future=RESTORATION_TEXTS.future,
    before_decision=RESTORATION_TEXTS.before_decision,
    before_rule=RESTORATION_TEXTS.before_rule,
)


@transaction.atomic
def record_restore(
    *,
    actor: Actor,
    record_id: int,
    reason: str,
    restored_on: date | None = None,
    audit_data: dict | None = None,
) -> CreditRecord:
    """Credit restored (信用修复) for a record of negative information: it leaves public view at
    once (``withdrawal_due_on`` keeps the rule's deadline for the board, as for a revocation), is
    no longer shared with other departments nor used (``records.visibility``), and the change feed
    tells every system that received it (``restored``). The restoration procedure decides, for the
    department that recorded it (or the credit office); this is what the decision does to the
    record. Restoring a restored record changes nothing and writes nothing. Raises ``NotFound``
    for another department's record, ``ValidationError`` for a record that cannot be restored.
    Side effects: audit event, feed entry."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_WRITE)
    if record.status == Status.RESTORED:
        return record
    if record.item.polarity != CatalogueItem.Polarity.NEGATIVE:
        raise ValidationError({"item": [str(_("Only negative information is restored."))]})
    if record.status not in RESTORABLE:
        raise ValidationError(
            {
                "status": [
                    str(
                        _(
                            "Only a record that stands, or whose disclosure period has ended, is restored: "
                            "not a draft, a revoked record or a record under objection."
                        )
                    )
                ]
            }
        )
    reason, restored_on = validate_ending(
        record, reason, restored_on, date_field="restored_on", texts=RESTORATION_TEXTS
    )
    return _withdraw(
        actor,
        record,
        Status.RESTORED,
        reason,
        restored_on,
        RecordChange.Kind.RESTORED,
        "records.record.restored",
        audit_data,
    )


@transaction.atomic
def record_end(
    *,
    actor: Actor,
    record_id: int,
    reason: str,
    ended_on: date | None = None,
    audit_data: dict | None = None,
) -> CreditRecord:
    """A designation (a list entry: ``DESIGNATION_ITEMS``) ends — the entity is removed from the
    list, or the designation's term is over. Its record stands until then, whatever the
    disclosure rules say (its item's period is "until removed"); now its disclosure period ends on
    ``ended_on``: it becomes expired, a published record leaves public view at once and one not
    yet published is never published (as when the disclosure sweep ends a period), and the change
    feed says so (``expired``). Ending an ended designation changes nothing and writes nothing.
    Raises ``NotFound`` for another department's record, ``ValidationError`` for a record that is
    not a standing designation. Side effects: audit event, feed entry."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_WRITE)
    if record.item.code not in DESIGNATION_ITEMS:
        raise ValidationError(
            {
                "item": [
                    str(
                        _(
                            "Only a designation (a list entry) ends this way; other records end with "
                            "their disclosure period or are revoked."
                        )
                    )
                ]
            }
        )
    if record.status == Status.EXPIRED:
        return record
    if record.status not in CreditRecord.LIVE_STATUSES:
        raise ValidationError(
            {
                "status": [
                    str(_("A draft, revoked or restored designation does not stand, so it does not end."))
                ]
            }
        )
    reason, ended_on = validate_ending(
        record, reason, ended_on, date_field="ended_on", texts=ENDING_TEXTS, withdrawal_rule=False
    )
    before = {
        "status": record.status,
        "disclosure": record.disclosure,
        "disclosure_ends_on": record.disclosure_ends_on,
    }
    record.status = Status.EXPIRED
    record.disclosure_ends_on = ended_on
    if record.disclosure == Disclosure.PUBLISHED:
        record.disclosure = Disclosure.ENDED
        record.withdrawn_at = timezone.now()
    elif record.disclosure == Disclosure.PENDING:
        record.disclosure = Disclosure.ENDED
    record.save(update_fields=["status", "disclosure", "disclosure_ends_on", "withdrawn_at", "updated_at"])
    audit.log(
        actor=actor,
        action="records.record.ended",
        target=record,
        before=before,
        after={
            "status": record.status,
            "disclosure": record.disclosure,
            "disclosure_ends_on": record.disclosure_ends_on,
            "reason": reason,
            **(audit_data or {}),
        },
    )
    _emit([record], RecordChange.Kind.EXPIRED)
    return record
