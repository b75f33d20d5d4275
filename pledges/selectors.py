"""Reads of the pledges app that more than one door needs, each scoped in the query (a market
entity sees its own, a department its own), with what the list pages show fetched up front."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, F, FloatField, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.aggregates import Aggregate
from django.utils import timezone

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.errors import NotFound
from pledges import access
from pledges.models import (
    BreachNotice,
    ComplianceMaterial,
    MaterialSubmission,
    Matter,
    MatterMaterial,
    PermitApplication,
    Pledge,
    PledgeTemplate,
    RemedyRule,
)
from records.catalogue_data import PERMIT_CATEGORIES
from records.identifiers import normalise_uscc
from records.models import CatalogueItem, DisclosurePeriodRule, EntityMembership, MarketEntity

PLEDGE_LIST_RELATED = (
    "entity",
    "department",
    "application",
    "application__matter",
    "association",
    "association__entity",
    "performance_record",
)
# The catalogue item of an administrative permit (``pledges.services.permits``).
PERMIT_ITEM = "admin_permit"
OPEN_APPLICATIONS = (
    PermitApplication.Status.SUBMITTED,
    PermitApplication.Status.ACCEPTED,
    PermitApplication.Status.ACCEPTED_PENDING_MATERIALS,
)


# --- matters ------------------------------------------------------------------------------------


def published_matters() -> QuerySet[Matter]:
    return (
        Matter.objects.filter(is_published=True, department__is_active=True)
        .select_related("department")
        .annotate(material_count=Count("materials", distinct=True))
        .order_by("department__code", "code")
    )


def published_matter(department_code: str, code: str) -> Matter:
    """A published matter with its materials, current template and education, or ``NotFound``."""
    matter = (
        Matter.objects.filter(
            is_published=True, department__is_active=True, department__code=department_code.upper(), code=code
        )
        .select_related("department")
        .prefetch_related(
            Prefetch("materials", queryset=MatterMaterial.objects.order_by("order", "id")),
            Prefetch("education", queryset=ComplianceMaterial.objects.order_by("order", "id")),
        )
        .first()
    )
    if matter is None:
        raise NotFound
    matter.template = matter.current_template()
    return matter


def staff_matter_list(actor: Actor) -> QuerySet[Matter]:
    return (
        access.staff_matters(actor)
        .select_related("department")
        .annotate(
            material_count=Count("materials", distinct=True),
            template_version=_max_template_version(),
            open_count=Count(
                "applications", filter=Q(applications__status__in=OPEN_APPLICATIONS), distinct=True
            ),
        )
        .order_by("department__code", "code")
    )


def _max_template_version():
    from django.db.models import OuterRef, Subquery

    return Subquery(
        PledgeTemplate.objects.filter(matter=OuterRef("pk")).order_by("-version").values("version")[:1]
    )


# --- pledges ------------------------------------------------------------------------------------


def public_pledges(code: str = "") -> QuerySet[Pledge]:
    """Every pledge, newest first (pledges and their performance are public credit information)."""
    qs = Pledge.objects.select_related(*PLEDGE_LIST_RELATED).order_by("-signed_at", "-id")
    if code:
        qs = qs.filter(entity__code=normalise_uscc(code))
    return qs


def public_pledge(number: str) -> Pledge:
    pledge = Pledge.objects.select_related(*PLEDGE_LIST_RELATED).filter(number=str(number).upper()).first()
    if pledge is None:
        raise NotFound
    return pledge


def staff_pledge_list(actor: Actor, *, status: str = "") -> QuerySet[Pledge]:
    qs = access.staff_pledges(actor).select_related(*PLEDGE_LIST_RELATED)
    if status:
        qs = qs.filter(status=status)
    # Those waiting for a person first (overdue, or under notice of a breach finding), then those
    # in force by due date, then the rest.
    rank = Case(
        When(status__in=[Pledge.Status.OVERDUE, Pledge.Status.NOTICED], then=Value(0)),
        When(status=Pledge.Status.ACTIVE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return qs.annotate(rank=rank).order_by(
        "rank", F("materials_due_on").asc(nulls_last=True), "-signed_at", "-id"
    )


def breach_notices(pledge: Pledge) -> list[BreachNotice]:
    """The pledge's notices of intended breach findings, newest first, with who acted on them.
    The caller has checked access to the pledge."""
    return list(
        BreachNotice.objects.filter(pledge=pledge)
        .select_related("served_by", "answered_by", "decided_by")
        .order_by("-served_at", "-id")
    )


def portal_users_count(pledge: Pledge) -> int:
    """How many active portal users act for the pledge's entity: who a notice served through the
    portal reaches."""
    return EntityMembership.objects.filter(entity_id=pledge.entity_id, user__is_active=True).count()


def my_pledge_list(actor: Actor) -> QuerySet[Pledge]:
    return access.my_pledges(actor).select_related(*PLEDGE_LIST_RELATED).order_by("-signed_at", "-id")


# --- applications -------------------------------------------------------------------------------


def entity_choices(actor: Actor) -> list[MarketEntity]:
    """The entities the actor may apply for, for a form's choices."""
    return list(MarketEntity.objects.filter(pk__in=access.member_entity_ids(actor)).order_by("code"))


def staff_application_queue(actor: Actor, *, status: str = "") -> QuerySet[PermitApplication]:
    qs = access.staff_applications(actor).select_related("matter", "matter__department", "entity", "pledge")
    if status == "open" or not status:
        qs = qs.filter(status__in=OPEN_APPLICATIONS).order_by("submitted_at", "id")
    else:
        qs = qs.filter(status=status).order_by("-submitted_at", "-id")
    return qs


def my_application_list(actor: Actor) -> QuerySet[PermitApplication]:
    return (
        access.my_applications(actor)
        .select_related("matter", "matter__department", "entity", "pledge")
        .order_by("-submitted_at", "-id")
    )


# --- the processing-time report -----------------------------------------------------------------


class Median(Aggregate):
    """``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)``: PostgreSQL's exact median, honouring
    ``filter=`` as a ``FILTER (WHERE ...)`` clause."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass(frozen=True)
class ReportRow:
    matter_id: int
    department_code: str
    code: str
    name_zh: str
    name_en: str
    with_count: int
    with_median: float | None
    without_count: int
    without_median: float | None

    @property
    def name(self) -> str:
        from pledges.models import _local

        return _local(self.name_zh, self.name_en)

    @property
    def days_saved(self) -> float | None:
        if self.with_median is None or self.without_median is None:
            return None
        return self.without_median - self.with_median


def processing_report(actor: Actor, *, start: date, end: date) -> list[ReportRow]:
    """Per matter of the actor's department (every department's for the credit office): the
    median working days from submission to decision, with and without a pledge, and how many
    applications each, for the applications decided from ``start`` to ``end`` (inclusive).
    One aggregate query."""
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    # Nothing is decided after today: a period ending later (even on 9999-12-31) stops there.
    until = timezone.make_aware(
        datetime.combine(min(end, timezone.localdate()) + timedelta(days=1), time.min), tz
    )
    pledged, unpledged = Q(pledge__isnull=False), Q(pledge__isnull=True)
    rows = (
        access.staff_applications(actor)
        .filter(decided_at__gte=since, decided_at__lt=until, processing_days__isnull=False)
        .values("matter_id", "matter__department__code", "matter__code", "matter__name_zh", "matter__name_en")
        .annotate(
            with_count=Count("id", filter=pledged),
            with_median=Median("processing_days", filter=pledged),
            without_count=Count("id", filter=unpledged),
            without_median=Median("processing_days", filter=unpledged),
        )
        .order_by("matter__department__code", "matter__code")
    )
    return [
        ReportRow(
            matter_id=r["matter_id"],
            department_code=r["matter__department__code"],
            code=r["matter__code"],
            name_zh=r["matter__name_zh"],
            name_en=r["matter__name_en"],
            with_count=r["with_count"],
            with_median=r["with_median"],
            without_count=r["without_count"],
            without_median=r["without_median"],
        )
        for r in rows
    ]


def pending_counts(actor: Actor) -> dict[str, int]:
    """For the dashboard panel: open applications and pledges awaiting a person's check."""
    if not actor.can(Cap.PLEDGES_MANAGE):
        return {"open": 0, "overdue": 0, "noticed": 0}
    return {
        "open": access.staff_applications(actor).filter(status__in=OPEN_APPLICATIONS).count(),
        "overdue": access.staff_pledges(actor).filter(status=Pledge.Status.OVERDUE).count(),
        "noticed": access.staff_pledges(actor).filter(status=Pledge.Status.NOTICED).count(),
    }


# --- what the services read ------------------------------------------------------------------


def permit_categories() -> list[list[str]]:
    """``[key, zh, en]`` of the permit categories, as the catalogue item defines them now (the
    catalogue is data the credit office edits); the national list when the item has none."""
    item = CatalogueItem.objects.filter(code=PERMIT_ITEM).only("fields").first()
    for definition in item.fields if item is not None else []:
        if definition.get("key") == "permit_category" and definition.get("choices"):
            return [list(c) for c in definition["choices"]]
    return [list(c) for c in PERMIT_CATEGORIES]


def materials_outcome(pledge: Pledge) -> tuple[bool, date | None]:
    """Whether every material the pledge stands in for has come in, and the day the last of them
    came (None while one is missing, or when the pledge stands in for none)."""
    application = pledge.application
    if application is None:
        return True, None
    missing = set(application.missing_materials.values_list("pk", flat=True))
    if not missing:
        return True, None
    supplied = dict(
        MaterialSubmission.objects.filter(application=application, material_id__in=missing).values_list(
            "material_id", "submitted_at"
        )
    )
    if set(supplied) < missing:
        return False, None
    return True, max(timezone.localdate(at) for at in supplied.values())


def remedy_rules_in_force(on: date) -> dict[str, RemedyRule]:
    """The remedy rule of each kind in force on ``on`` (the latest ``effective_from`` not after it)."""
    found: dict[str, RemedyRule] = {}
    for rule in RemedyRule.objects.filter(effective_from__lte=on).order_by("kind", "-effective_from"):
        found.setdefault(rule.kind, rule)
    return found


def period_rule(severity: str, on: date) -> DisclosurePeriodRule | None:
    """The disclosure-period rule for ``severity`` in force on ``on``."""
    return (
        DisclosurePeriodRule.objects.filter(severity=severity, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )
