"""Registering industry associations (行业协会) and their members (guideline part 18).

The credit office registers an entity of the registry as an industry association, with the
association's own pledge system, and keeps its member list. The association's users (members of
the association's entity in ``/my/``) may then register their members' pledges (``pledges``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict, raise_errors
from records.fields import Errors, clean_text
from records.identifiers import normalise_uscc
from records.models import IndustryAssociation, MarketEntity

_NO_ENTITY = _("No entity is registered under this unified social credit code.")


def _texts(errors: Errors, pledge_system_zh, pledge_system_en) -> tuple[str, str]:
    out = []
    for key, value, required in (
        ("pledge_system_zh", pledge_system_zh, True),
        ("pledge_system_en", pledge_system_en, False),
    ):
        try:
            out.append(clean_text(value, max_length=8000, required=required))
        except ValidationError as exc:
            for message in exc.messages:
                errors.add(key, message)
            out.append("")
    return out[0], out[1]


def _association(actor: Actor, association_id: int) -> IndustryAssociation:
    actor.require(Cap.ORGANISATIONS_MANAGE)
    return rows.locked_or_not_found(IndustryAssociation.objects.select_related("entity"), pk=association_id)


ALREADY_ASSOCIATION = _("This entity is already registered as an industry association.")


@transaction.atomic
def association_register(
    *, actor: Actor, code: str, pledge_system_zh: str, pledge_system_en: str = "", validate_only: bool = False
) -> IndustryAssociation | None:
    """Register the entity with ``code`` as an industry association with its pledge system.
    Raises ``ValidationError`` per field (an entity registered already among them), ``Conflict``
    when that is the only error. ``validate_only``: check, write nothing, return None. Side
    effect: audit event."""
    actor.require(Cap.ORGANISATIONS_MANAGE)
    errors = Errors()
    entity = MarketEntity.objects.filter(code=normalise_uscc(code or "")).first()
    if entity is None:
        errors.add("code", _NO_ENTITY)
    zh, en = _texts(errors, pledge_system_zh, pledge_system_en)
    taken = None
    if entity is not None and IndustryAssociation.objects.filter(entity=entity).exists():
        taken = Conflict(ALREADY_ASSOCIATION, field="code")
    raise_errors(errors, taken)
    if validate_only:
        return None
    try:
        with transaction.atomic():
            association = IndustryAssociation.objects.create(
                entity=entity, pledge_system_zh=zh, pledge_system_en=en
            )
    except IntegrityError as exc:
        raise Conflict(ALREADY_ASSOCIATION, field="code") from exc
    audit.log(
        actor=actor,
        action="records.association.registered",
        target=association,
        after={"entity": entity.code, "pledge_system_zh": zh, "pledge_system_en": en},
    )
    return association


@transaction.atomic
def association_update(
    *,
    actor: Actor,
    association_id: int,
    pledge_system_zh: str,
    pledge_system_en: str = "",
    validate_only: bool = False,
) -> IndustryAssociation | None:
    """Change the association's pledge system. ``validate_only``: check, write nothing, return
    None. Side effect: audit event with the text before."""
    association = _association(actor, association_id)
    errors = Errors()
    zh, en = _texts(errors, pledge_system_zh, pledge_system_en)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    before = {
        "pledge_system_zh": association.pledge_system_zh,
        "pledge_system_en": association.pledge_system_en,
    }
    if before == {"pledge_system_zh": zh, "pledge_system_en": en}:
        return association
    association.pledge_system_zh, association.pledge_system_en = zh, en
    association.save(update_fields=["pledge_system_zh", "pledge_system_en"])
    audit.log(
        actor=actor,
        action="records.association.updated",
        target=association,
        before=before,
        after={"pledge_system_zh": zh, "pledge_system_en": en},
    )
    return association


@transaction.atomic
def association_member_add(*, actor: Actor, association_id: int, code: str) -> MarketEntity:
    """Add the entity with ``code`` to the association's members. Adding a member twice is
    harmless. Side effect: audit event."""
    association = _association(actor, association_id)
    member = MarketEntity.objects.filter(code=normalise_uscc(code or "")).first()
    if member is None:
        raise ValidationError({"code": [str(_NO_ENTITY)]})
    if member.pk == association.entity_id:
        raise ValidationError({"code": [str(_("An association is not a member of itself."))]})
    if association.members.filter(pk=member.pk).exists():
        return member
    association.members.add(member)
    audit.log(
        actor=actor,
        action="records.association.member_added",
        target=association,
        after={"member": member.code},
    )
    return member


@transaction.atomic
def association_member_remove(*, actor: Actor, association_id: int, code: str) -> None:
    """Remove a member. Pledges it made under the association's system stay on record. Removing
    a non-member is harmless. Side effect: audit event."""
    association = _association(actor, association_id)
    member = association.members.filter(code=normalise_uscc(code or "")).first()
    if member is None:
        return
    association.members.remove(member)
    audit.log(
        actor=actor,
        action="records.association.member_removed",
        target=association,
        before={"member": member.code},
    )
