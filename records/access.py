"""Object-level access to entities: who may edit an entity, who may act for it.

Capabilities (``actor.require``) are checked first, for every kind of actor, before any look-up;
then these helpers decide on the object and raise ``NotFound`` (a 404 at every door) for both
"missing" and "not yours", so a refusal never reveals whether something exists."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.errors import NotFound
from records.models import EntityMembership, MarketEntity, MarketEntityGroupObjectPermission

CHANGE_ENTITY = "change_marketentity"


def department_grants(actor: Actor) -> QuerySet[MarketEntityGroupObjectPermission]:
    """The guardian grants of the actor's department to change entities."""
    if actor.department is None:
        return MarketEntityGroupObjectPermission.objects.none()
    return MarketEntityGroupObjectPermission.objects.filter(
        group_id=actor.department.group_id, permission__codename=CHANGE_ENTITY
    )


def can_edit_entity(actor: Actor, entity: MarketEntity) -> bool:
    if not actor.can(Cap.ENTITIES_WRITE):
        return False
    if actor.can(Cap.ALL_DEPARTMENTS):
        return True
    return department_grants(actor).filter(content_object_id=entity.pk).exists()


def annotate_editable(qs: QuerySet[MarketEntity], actor: Actor) -> QuerySet[MarketEntity]:
    """Add ``editable`` to every row in the same query (no query per row on list pages)."""
    from django.db.models import BooleanField, Value

    if not actor.can(Cap.ENTITIES_WRITE):
        return qs.annotate(editable=Value(False, output_field=BooleanField()))
    if actor.can(Cap.ALL_DEPARTMENTS):
        return qs.annotate(editable=Value(True, output_field=BooleanField()))
    return qs.annotate(editable=Exists(department_grants(actor).filter(content_object_id=OuterRef("pk"))))


def entity_for_edit(actor: Actor, code: str) -> MarketEntity:
    """The entity ``actor`` may edit, or ``NotFound`` (missing and not-yours look the same)."""
    actor.require(Cap.ENTITIES_WRITE)
    entity = MarketEntity.objects.filter(code=code.upper()).first()
    if entity is None or not can_edit_entity(actor, entity):
        raise NotFound
    return entity


def entity_for_member(actor: Actor, code: str) -> tuple[MarketEntity, EntityMembership]:
    """An entity the self-service user is a member of, or ``NotFound``."""
    actor.require(Cap.OWN_ENTITY)
    membership = (
        EntityMembership.objects.select_related("entity", "entity__division")
        .filter(user=actor.user, entity__code=code.upper())
        .first()
    )
    if membership is None:
        raise NotFound
    return membership.entity, membership
