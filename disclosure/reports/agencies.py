"""Registering third-party credit service agencies (信用服务机构), guideline part 18: the credit
office names the registered entities whose users may attach their own reports on other entities.

(Industry associations are registered in ``records.services.organisations``; agencies live here
because what they do on the portal — third-party reports — belongs to the reports module.)"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict, raise_errors
from credit_portal.text import invisible_error
from records.fields import Errors
from records.identifiers import normalise_uscc
from records.models import CreditServiceAgency, MarketEntity

_NUL = "\x00"

ALREADY_AGENCY = _("This entity is already registered as a credit service agency.")


@transaction.atomic
def agency_register(
    *, actor: Actor, code: Any, licence: Any, validate_only: bool = False
) -> CreditServiceAgency | None:
    """Register the entity with ``code`` as a credit service agency, with its filing or licence
    number. Raises ``ValidationError`` (unknown entity, missing licence, NUL bytes; already
    registered among them) or ``Conflict`` (already registered, the only error). ``validate_only``:
    check, write nothing, return None. Side effect: audit event."""
    actor.require(Cap.ORGANISATIONS_MANAGE)
    errors = Errors()
    text = normalise_uscc(code or "")
    entity = None
    if not text or _NUL in text:
        errors.add("code", _("Give the agency's unified social credit code."))
    else:
        entity = MarketEntity.objects.filter(code=text).first()
        if entity is None:
            errors.add("code", _("No entity is registered under this unified social credit code."))
    clean_licence = str(licence or "").strip()
    if not clean_licence:
        errors.add("licence", _("This field is required."))
    elif problem := invisible_error(clean_licence, single_line=True):
        errors.add("licence", problem)
    elif len(clean_licence) > 100:
        errors.add("licence", _("At most %(max)d characters.") % {"max": 100})
    taken = None
    if entity is not None and CreditServiceAgency.objects.filter(entity=entity).exists():
        taken = Conflict(ALREADY_AGENCY, field="code")
    raise_errors(errors, taken)
    if validate_only:
        return None
    try:
        with transaction.atomic():
            agency = CreditServiceAgency.objects.create(entity=entity, licence=clean_licence)
    except IntegrityError as exc:
        raise Conflict(ALREADY_AGENCY, field="code") from exc
    audit.log(
        actor=actor,
        action="disclosure.agency.registered",
        target=agency,
        after={"entity": entity.code, "licence": agency.licence},
    )
    return agency


@transaction.atomic
def agency_set_active(*, actor: Actor, agency_id: int, active: bool) -> CreditServiceAgency:
    """Suspend an agency (its reports leave the public pages) or reinstate it. Idempotent."""
    actor.require(Cap.ORGANISATIONS_MANAGE)
    agency = rows.locked_or_not_found(CreditServiceAgency.objects.select_related("entity"), pk=agency_id)
    if agency.is_active != active:
        agency.is_active = active
        agency.save(update_fields=["is_active"])
        audit.log(
            actor=actor,
            action="disclosure.agency.reinstated" if active else "disclosure.agency.suspended",
            target=agency,
            after={"entity": agency.entity.code, "is_active": active},
        )
    return agency
