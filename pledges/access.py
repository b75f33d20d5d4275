"""Object-level access for the pledge doors (Zulip's ``access_*`` helpers).

The capability is checked first, before any look-up; then the object is returned, or ``NotFound``
(a 404 at every door) that does not reveal whether it exists. Staff read their own department's matters, applications and
pledges (the credit office reads every department's) and act only on their own department's:
a decision, a breach and its negative credit record are the overseeing department's own acts.
Self-service users see what belongs to the entities they act for."""

from __future__ import annotations

from django.db.models import QuerySet

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from pledges.models import Matter, PermitApplication, Pledge
from records.models import EntityMembership, IndustryAssociation


def member_entity_ids(actor: Actor) -> QuerySet:
    """The entities the self-service actor acts for (a subquery)."""
    actor.require(Cap.OWN_ENTITY)
    return EntityMembership.objects.filter(user=actor.user).values("entity_id")


def _for_department(actor: Actor, qs: QuerySet, field: str, *, write: bool) -> QuerySet:
    actor.require(Cap.PLEDGES_MANAGE)
    return rows.of_department(qs, actor, field=field, credit_office=not write)


def staff_matters(actor: Actor, *, write: bool = False) -> QuerySet[Matter]:
    return _for_department(actor, Matter.objects.all(), "department_id", write=write)


def staff_applications(actor: Actor, *, write: bool = False) -> QuerySet[PermitApplication]:
    return _for_department(actor, PermitApplication.objects.all(), "matter__department_id", write=write)


def staff_pledges(actor: Actor, *, write: bool = False) -> QuerySet[Pledge]:
    return _for_department(actor, Pledge.objects.all(), "department_id", write=write)


def application_for_staff(actor: Actor, number: str) -> PermitApplication:
    qs = staff_applications(actor).select_related("matter", "matter__department", "entity", "applicant")
    return rows.one_or_not_found(qs, number=number.upper())


def pledge_for_staff(actor: Actor, number: str) -> Pledge:
    qs = staff_pledges(actor).select_related(
        "entity", "department", "application", "application__matter", "template", "association__entity"
    )
    return rows.one_or_not_found(qs, number=number.upper())


def matter_for_staff(actor: Actor, pk: int) -> Matter:
    """A matter of the actor's own department (matters are edited only by their department)."""
    return rows.one_or_not_found(staff_matters(actor, write=True).select_related("department"), pk=pk)


def my_applications(actor: Actor) -> QuerySet[PermitApplication]:
    return PermitApplication.objects.filter(entity_id__in=member_entity_ids(actor))


def my_pledges(actor: Actor) -> QuerySet[Pledge]:
    return Pledge.objects.filter(entity_id__in=member_entity_ids(actor))


def application_for_member(actor: Actor, number: str) -> PermitApplication:
    qs = my_applications(actor).select_related("matter", "matter__department", "entity")
    return rows.one_or_not_found(qs, number=number.upper())


def pledge_for_member(actor: Actor, number: str) -> Pledge:
    qs = my_pledges(actor).select_related(
        "entity", "department", "application", "application__matter", "template", "association__entity"
    )
    return rows.one_or_not_found(qs, number=number.upper())


def my_associations(actor: Actor) -> QuerySet[IndustryAssociation]:
    """The industry associations whose entity the self-service actor acts for."""
    return IndustryAssociation.objects.filter(entity_id__in=member_entity_ids(actor)).select_related("entity")


def association_for_member(actor: Actor, association_id: int) -> IndustryAssociation:
    """An association the self-service actor acts for, or ``NotFound``."""
    return rows.one_or_not_found(my_associations(actor), pk=association_id)
