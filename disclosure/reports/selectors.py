"""Reads for credit reports: what a report on an entity contains, and who may see which report.

Scoping to the actor happens here, not in the views: a report that is not the actor's is
``NotFound`` (a 404 at every door), which does not say whether the number exists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.errors import NotFound
from credit_portal.outbox import selectors as outbox_selectors
from disclosure import search
from disclosure.models import CreditReport, ThirdPartyReport
from disclosure.reports import numbers
from records import selectors as record_selectors
from records.models import (
    CatalogueItem,
    Complaint,
    CreditRecord,
    CreditServiceAgency,
    DisclosurePeriodRule,
    EntityMembership,
    MarketEntity,
    RecordChange,
)

Status = CreditRecord.Status
RENDER_TASK = "disclosure.tasks.render_credit_report"

# What a report shows: the record has been (or is due to be) disclosed, was not revoked, and is
# not a draft. Restored and expired records stay in the report, labelled, over the chosen period.
REPORTED_STATUSES = (*CreditRecord.LIVE_STATUSES, Status.EXPIRED, Status.RESTORED)


@dataclass(frozen=True)
class Period:
    """Local dates, both included."""

    since: date
    until: date


def entity_for_report(code: str) -> MarketEntity | None:
    """The entity with what the public may see of the persons behind it (masked numbers only)."""
    return record_selectors.entity_public_profile(code)


def _reported(entity: MarketEntity, item_codes: tuple[str, ...]) -> QuerySet[CreditRecord]:
    return (
        CreditRecord.objects.filter(
            entity=entity,
            item__code__in=item_codes,
            item__use_scope=CatalogueItem.UseScope.PUBLIC,
            status__in=REPORTED_STATUSES,
        )
        .exclude(disclosure=CreditRecord.Disclosure.NOT_DISCLOSED)
        .select_related("item", "department")
        .order_by("-decision_date", "-id")
    )


def records_decided_in(
    entity: MarketEntity, item_codes: tuple[str, ...], period: Period
) -> list[CreditRecord]:
    """Decisions taken in the period (punishments, pledges, voluntary information)."""
    return list(
        _reported(entity, item_codes).filter(decision_date__gte=period.since, decision_date__lte=period.until)
    )


def records_valid_in(entity: MarketEntity, item_codes: tuple[str, ...], period: Period) -> list[CreditRecord]:
    """Decisions in force at some time in the period: decided by its end and valid after its start
    (permits)."""
    return list(
        _reported(entity, item_codes).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=period.since), decision_date__lte=period.until
        )
    )


def records_standing_in(
    entity: MarketEntity, item_codes: tuple[str, ...], period: Period
) -> list[CreditRecord]:
    """Decided in the period, or decided earlier and still standing (list entries)."""
    return list(
        _reported(entity, item_codes).filter(
            Q(decision_date__gte=period.since) | Q(status__in=CreditRecord.LIVE_STATUSES),
            decision_date__lte=period.until,
        )
    )


_COMPLAINT_COLUMNS = (
    "id", "kind", "submitted_at", "answered_at", "department__code", "department__name_zh", "department__name_en",
)  # fmt: skip


def answered_complaints(entity: MarketEntity, period: Period) -> list[Complaint]:
    """Complaints and tip-offs about the entity submitted in the period and answered. Only what the
    report shows is read: never the complainant, the contact or the description."""
    return list(
        Complaint.objects.filter(
            entity=entity,
            status=Complaint.Status.ANSWERED,
            submitted_at__date__gte=period.since,
            submitted_at__date__lte=period.until,
        )
        .select_related("department")
        .only(
            "id",
            "kind",
            "submitted_at",
            "answered_at",
            "department__code",
            "department__name_zh",
            "department__name_en",
        )
        .order_by("-submitted_at", "-id")
    )


def period_rules() -> list[DisclosurePeriodRule]:
    return list(DisclosurePeriodRule.objects.order_by("-effective_from"))


# --- who sees which report ------------------------------------------------------------------------


def reports_for_actor(actor: Actor) -> QuerySet[CreditReport]:
    """Reports the actor may see: an entity user, the self-service reports of the entities they act
    for; staff and agency tokens, their department's (the credit office, every report)."""
    qs = CreditReport.objects.select_related("entity")
    if actor.kind == "entity":
        actor.require(Cap.OWN_ENTITY)
        entity_ids = EntityMembership.objects.filter(user=actor.user).values("entity_id")
        return qs.filter(channel=CreditReport.Channel.SELF_SERVICE, entity_id__in=entity_ids)
    actor.require(Cap.REPORTS_REQUEST)
    if actor.kind == "staff" and actor.can(Cap.ALL_DEPARTMENTS):
        return qs
    if actor.department_id is None:
        return qs.none()
    return qs.filter(requested_by_department_id=actor.department_id).exclude(
        channel=CreditReport.Channel.SELF_SERVICE
    )


def report_for_actor(actor: Actor, number: str) -> CreditReport:
    number = numbers.normalise(number)
    if not numbers.is_well_formed(number):
        raise NotFound
    report = reports_for_actor(actor).filter(number=number).first()
    if report is None:
        raise NotFound
    return report


# --- verification ---------------------------------------------------------------------------------


def issued_report(number: str) -> CreditReport | None:
    """The issued (ready) report with this number, for the public verification page; None for a
    malformed, unknown or not yet issued number alike."""
    number = numbers.normalise(number)
    if not numbers.is_well_formed(number):
        return None
    return (
        CreditReport.objects.select_related("entity")
        .filter(number=number, status=CreditReport.Status.READY)
        .first()
    )


def records_in_public_view(entity: MarketEntity, ids) -> set[int]:
    """Which of the entity's records with these ids the public site shows now (published and
    standing: ``disclosure.search.published``)."""
    if not ids:
        return set()
    return set(search.published().filter(entity=entity, pk__in=list(ids)).values_list("pk", flat=True))


def records_changed_since(
    entity: MarketEntity, as_issued: dict[int, tuple[str, int]], moment: datetime
) -> set[int]:
    """Which of the entity's records changed after ``moment``: a change-feed entry after it, or a
    status or version other than ``as_issued`` (id -> (status, version)) says."""
    if not as_issued:
        return set()
    rows = (
        CreditRecord.objects.filter(entity=entity, pk__in=list(as_issued))
        .annotate(
            changed_after=Exists(RecordChange.objects.filter(record=OuterRef("pk"), occurred_at__gt=moment))
        )
        .values_list("pk", "status", "version", "changed_after")
    )
    return {
        pk
        for pk, status, version, changed_after in rows
        if changed_after or as_issued[pk] != (status, version)
    }


def changed_since(entity: MarketEntity, moment: datetime) -> bool:
    """Whether the entity's record changed after ``moment``: a change-feed entry of any of its
    records (created, corrected, revoked, expired, restored, status), or its registry data updated."""
    if MarketEntity.objects.filter(pk=entity.pk, updated_at__gt=moment).exists():
        return True
    return RecordChange.objects.filter(record__entity=entity, occurred_at__gt=moment).exists()


# --- third-party reports ----------------------------------------------------------------------------


def third_party_reports_shown(entity: MarketEntity) -> QuerySet[ThirdPartyReport]:
    """What anyone may see: reports not withdrawn, by agencies still registered and active."""
    return (
        ThirdPartyReport.objects.filter(entity=entity, withdrawn_at__isnull=True, agency__is_active=True)
        .select_related("agency__entity")
        .order_by("-issued_on", "-id")
    )


def third_party_reports_for_staff(entity: MarketEntity) -> QuerySet[ThirdPartyReport]:
    """Staff see every report on the entity, withdrawn ones included (marked)."""
    return (
        ThirdPartyReport.objects.filter(entity=entity)
        .select_related("agency__entity")
        .order_by("-issued_on", "-id")
    )


def agencies_of(actor: Actor) -> list[CreditServiceAgency]:
    """The active credit service agencies the self-service user acts for."""
    if actor.kind != "entity" or not actor.can(Cap.OWN_ENTITY):
        return []
    entity_ids = EntityMembership.objects.filter(user=actor.user).values("entity_id")
    return list(
        CreditServiceAgency.objects.filter(entity_id__in=entity_ids, is_active=True)
        .select_related("entity")
        .order_by("entity__code")
    )


def third_party_reports_of_agencies(agencies: list[CreditServiceAgency]) -> QuerySet[ThirdPartyReport]:
    return (
        ThirdPartyReport.objects.filter(agency__in=agencies)
        .select_related("agency__entity", "entity")
        .order_by("-uploaded_at", "-id")
    )


def local_today() -> date:
    return timezone.localdate()


# --- reports waiting for the broker ---------------------------------------------------------------


def waits_for_broker(report: CreditReport) -> bool:
    """Whether the report's render is accepted but not yet handed to the broker (it was down)."""
    return report.status == CreditReport.Status.QUEUED and outbox_selectors.is_waiting(RENDER_TASK, report.pk)


def reports_waiting_for_broker(reports) -> set[int]:
    """The ids among ``reports`` whose render waits for the broker. One query."""
    queued = [r.pk for r in reports if r.status == CreditReport.Status.QUEUED]
    return outbox_selectors.waiting_among(RENDER_TASK, queued)
