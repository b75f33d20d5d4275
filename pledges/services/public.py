"""Pledges made outside an application: an entity's voluntary pledge to the public (主动公开承诺),
and a pledge an industry association registers for one of its members under its own pledge
system (行业自律承诺). Both are public credit information: each writes a neutral record of the
pledge item, in the name of the department that registered the entity (which oversees it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.audit import services as audit
from credit_portal.links import Route
from credit_portal.notices import services as notices
from pledges.access import association_for_member
from pledges.models import Pledge
from pledges.services.common import (
    PLEDGE_ITEM,
    PLEDGE_PREFIX,
    Signature,
    department_writer,
    insert_numbered,
    one_line,
    signature_into,
    text_into,
)
from records import services as record_services
from records.access import entity_for_member
from records.fields import Errors, parse_date
from records.identifiers import normalise_uscc
from records.models import EntityMembership, IndustryAssociation, MarketEntity

MAX_TEXT = 4000
MAX_YEARS = 10


def _valid_until(errors: Errors, value: Any, today: date) -> date | None:
    try:
        day = parse_date(value)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("valid_until", message)
        return None
    if day is not None and day <= today:
        errors.add("valid_until", _("Give a date after today, or leave it empty for a pledge without end."))
    elif day is not None and day.year > today.year + MAX_YEARS:
        errors.add("valid_until", _("At most %(n)d years ahead.") % {"n": MAX_YEARS})
    return day


def _create(
    *,
    actor: Actor,
    kind: str,
    entity: MarketEntity,
    text: str,
    valid_until: date | None,
    signer_name: str,
    association: IndustryAssociation | None = None,
) -> Pledge:
    department = entity.registering_department
    pledge = insert_numbered(
        Pledge(
            kind=kind,
            entity=entity,
            association=association,
            department=department,
            text_signed=text,
            signer=actor.user,
            signer_name=signer_name,
            signed_at=timezone.now(),
            valid_until=valid_until,
        ),
        PLEDGE_PREFIX,
    )
    if association is not None:
        head_zh = (
            f"{entity.name_zh}在{association.entity.name_zh}的信用承诺制度下作出信用承诺（{pledge.number}）："
        )
    else:
        head_zh = f"{entity.name_zh}向社会公开作出信用承诺（{pledge.number}）："
    # The record is Chinese data and its content says it all: no remarks.
    pledge.record = record_services.workflow_record_create(
        actor=department_writer(department),
        item=PLEDGE_ITEM,
        entity_code=entity.code,
        decision_number=pledge.number,
        content=head_zh + text,
        valid_from=timezone.localdate(pledge.signed_at),
        valid_to=valid_until,
    )
    pledge.save(update_fields=["record"])
    audit.log(
        actor=actor,
        action="pledges.pledge.published",
        target=pledge,
        after={
            "kind": kind,
            "entity": entity.code,
            "association": association.entity.code if association else None,
            "valid_until": valid_until,
            "signer_name": signer_name,
            "text": text,
            "record": pledge.record_id,
        },
    )
    return pledge


@transaction.atomic
def public_pledge_publish(
    *,
    actor: Actor,
    entity_code: str,
    text: str,
    signature: Signature,
    valid_until: Any = None,
    validate_only: bool = False,
) -> Pledge | None:
    """Publish a voluntary pledge of one of the actor's entities. Raises ``ValidationError`` with
    every error at once. Side effects: pledge, its neutral credit record, audit event.
    ``validate_only``: check, write nothing, return None."""
    entity, _membership = entity_for_member(actor, entity_code)
    errors = Errors()
    text = text_into(errors, "text", text, max_length=MAX_TEXT, required=True)
    until = _valid_until(errors, valid_until, timezone.localdate())
    signer_name = signature_into(errors, actor, signature)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    return _create(
        actor=actor,
        kind=Pledge.Kind.PUBLIC,
        entity=entity,
        text=text,
        valid_until=until,
        signer_name=signer_name,
    )


@transaction.atomic
def association_pledge_register(
    *,
    actor: Actor,
    association_id: int,
    member_code: str,
    text: str,
    signature: Signature,
    valid_until: Any = None,
    validate_only: bool = False,
) -> Pledge | None:
    """An association's user registers a member's pledge under the association's pledge system.
    The member must be on the association's member list (kept by the credit office). Side
    effects: pledge, its neutral credit record, audit event, a notice to the member's users.
    ``validate_only``: check, write nothing, return None."""
    association = association_for_member(actor, association_id)
    errors = Errors()
    member = association.members.filter(code=normalise_uscc(member_code or "")).first()
    if member is None:
        errors.add("member", _("This entity is not a registered member of the association."))
    text = text_into(errors, "text", text, max_length=MAX_TEXT, required=True)
    until = _valid_until(errors, valid_until, timezone.localdate())
    signer_name = signature_into(errors, actor, signature)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    pledge = _create(
        actor=actor,
        kind=Pledge.Kind.ASSOCIATION,
        entity=member,
        text=text,
        valid_until=until,
        signer_name=signer_name,
        association=association,
    )
    link = Route("my:pledge_my_detail", pledge.number)
    for membership in (
        EntityMembership.objects.select_related("user").filter(entity=member).order_by("user_id")
    ):
        notices.notify_user(
            actor=actor,
            user=membership.user,
            kind="pledges.association_registered",
            subject_zh=one_line(f"{association.entity.name_zh}登记了贵单位的信用承诺 {pledge.number}"),
            subject_en=one_line(
                f"{association.entity.name_en or association.entity.name_zh} registered pledge {pledge.number} for you"
            ),
            body_zh=text,
            body_en=text,
            link=link,
            dedupe_key=f"pledges.association:{pledge.pk}",
        )
    return pledge
