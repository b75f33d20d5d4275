"""Self-service users claiming an entity, and staff reviewers deciding the claims."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict, raise_errors
from credit_portal.text import refuse_invisible
from records.access import department_grants
from records.identifiers import normalise_uscc
from records.models import EntityClaim, EntityMembership, MarketEntity

PENDING_CLAIM = _("You already have a claim on this entity awaiting review.")


@transaction.atomic
def claim_submit(
    *, actor: Actor, code: str, role: str, statement: str = "", validate_only: bool = False
) -> EntityClaim | None:
    """Ask to act for the entity with ``code``: every error at once, the user already acting for
    the entity or awaiting a decision on it among them (``Conflict`` when that is the only one).
    ``validate_only``: check, write nothing, return None. Side effect: audit event."""
    actor.require(Cap.OWN_ENTITY)
    errors: dict[str, list[str]] = {}
    entity = MarketEntity.objects.filter(code=normalise_uscc(code)).first()
    if entity is None:
        errors["code"] = [str(_("No entity is registered under this unified social credit code."))]
    if role not in EntityMembership.Role.values:
        errors["role"] = [str(_("Choose legal representative or authorised agent."))]
    statement = (statement or "").strip()
    try:
        refuse_invisible(statement)
    except ValidationError as exc:
        errors["statement"] = exc.messages
    if len(statement) > 2000:
        errors["statement"] = [str(_("At most 2000 characters."))]
    conflict = None
    if entity is not None and EntityMembership.objects.filter(user=actor.user, entity=entity).exists():
        conflict = Conflict(_("You can already act for this entity."), field="code")
    elif (
        entity is not None
        and EntityClaim.objects.filter(
            user=actor.user, entity=entity, status=EntityClaim.Status.PENDING
        ).exists()
    ):
        conflict = Conflict(PENDING_CLAIM, field="code")
    raise_errors(errors, conflict)
    if validate_only:
        return None
    try:
        with transaction.atomic():
            claim = EntityClaim.objects.create(user=actor.user, entity=entity, role=role, statement=statement)
    except IntegrityError as exc:
        raise Conflict(PENDING_CLAIM, field="code") from exc
    audit.log(
        actor=actor,
        action="records.claim.submitted",
        target=claim,
        after={"entity": entity.code, "role": role},
    )
    return claim


def _reviewable(actor: Actor, claim_id: int) -> EntityClaim:
    """The claim, locked, if it is on an entity the actor's department maintains (any, for the
    credit office); else ``NotFound``."""
    actor.require(Cap.CLAIMS_REVIEW)
    qs = EntityClaim.objects.all()
    if not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(entity_id__in=department_grants(actor).values("content_object_id"))
    return rows.locked_or_not_found(qs, pk=claim_id)


@transaction.atomic
def claim_decide(
    *, actor: Actor, claim_id: int, approve: bool, reason: str = "", validate_only: bool = False
) -> EntityClaim | None:
    """Approve (the user becomes a member of the entity) or reject (with a reason) a pending claim.

    Only reviewers of a department maintaining the entity, or the credit office, may decide.
    Deciding again the same way is harmless. ``validate_only``: check, write nothing, return None.
    Side effects: membership, audit event."""
    claim = _reviewable(actor, claim_id)
    target = EntityClaim.Status.APPROVED if approve else EntityClaim.Status.REJECTED
    if claim.status == target:
        return None if validate_only else claim
    if claim.status != EntityClaim.Status.PENDING:
        raise ValidationError({"status": [str(_("This claim has already been decided or withdrawn."))]})
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": [str(_("Give the reason for rejecting the claim."))]})
    try:
        refuse_invisible(reason)
    except ValidationError as exc:
        raise ValidationError({"reason": exc.messages}) from None
    if validate_only:
        return None
    claim.status = target
    claim.decided_at = timezone.now()
    claim.decided_by = actor.user
    claim.decision_reason = reason
    claim.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    if approve:
        EntityMembership.objects.get_or_create(
            user=claim.user, entity=claim.entity, defaults={"role": claim.role}
        )
    audit.log(
        actor=actor,
        action="records.claim.approved" if approve else "records.claim.rejected",
        target=claim,
        before={"status": EntityClaim.Status.PENDING},
        after={"status": target, "reason": reason, "entity": claim.entity.code, "user": claim.user.username},
    )
    return claim


@transaction.atomic
def claim_withdraw(*, actor: Actor, claim_id: int) -> EntityClaim:
    actor.require(Cap.OWN_ENTITY)
    claim = rows.locked_or_not_found(EntityClaim.objects.all(), pk=claim_id, user=actor.user)
    if claim.status == EntityClaim.Status.WITHDRAWN:
        return claim
    if claim.status != EntityClaim.Status.PENDING:
        raise ValidationError({"status": [str(_("Only a claim awaiting review can be withdrawn."))]})
    claim.status = EntityClaim.Status.WITHDRAWN
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decided_at"])
    audit.log(actor=actor, action="records.claim.withdrawn", target=claim, after={"status": claim.status})
    return claim
