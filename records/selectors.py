"""Reads that more than one door needs. Scoping to an actor happens here, not in views."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Length

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.errors import NotFound
from credit_portal.numbers import normalise_reference
from records import search
from records.access import annotate_editable, department_grants
from records.models import (
    CatalogueItem,
    Complaint,
    CreditRecord,
    EntityClaim,
    EntityMembership,
    EntityPerson,
    MarketEntity,
    Objection,
    RecordChange,
)


def recordable_items(actor: Actor) -> QuerySet[CatalogueItem]:
    """Active catalogue items the actor's department may record through the form, a file or the
    API (an item without recording departments is open to every department), except those only
    their workflow writes."""
    return (
        CatalogueItem.objects.filter(is_active=True, workflow_only=False)
        .filter(Q(recording_departments__isnull=True) | Q(recording_departments=actor.department_id))
        .distinct()
        .order_by("sort_order", "code")
    )


def entity_search(
    text: str, *, division: str = "", qs: QuerySet[MarketEntity] | None = None
) -> QuerySet[MarketEntity]:
    """Entities matching a search box string: an exact unified social credit code, Chinese
    characters anywhere in the name (two are enough), or English words (prefixes match).
    Ordered by relevance, then by shorter (more exact) names."""
    qs = (qs if qs is not None else MarketEntity.objects.all()).select_related("division")
    if division:
        qs = qs.filter(Q(division_id=division) | Q(division__parent_id=division))
    parsed = search.parse(text)
    if parsed.is_empty:
        return qs.none() if text.strip() else qs.order_by("code")
    if parsed.code:
        exact = qs.filter(code=parsed.code)
        if not parsed.tsquery:
            return exact
    if parsed.needs_substring_scan:
        return qs.filter(Q(name_zh__contains=parsed.text) | Q(name_en__icontains=parsed.text)).order_by(
            Length("name_zh"), "code"
        )
    condition = search.matches(parsed) | Q(code=parsed.code) if parsed.code else search.matches(parsed)
    return (
        qs.filter(condition).annotate(rank=search.rank(parsed)).order_by("-rank", Length("name_zh"), "code")
    )


def entity_public_profile(code: str) -> MarketEntity | None:
    """An entity with its current persons (their numbers masked). The public pages print only their
    names and roles; staff and the entity's own members see the masked numbers."""
    current = EntityPerson.objects.filter(until__isnull=True).select_related("person").order_by("role", "id")
    return (
        MarketEntity.objects.select_related("division", "supervising_department", "registering_department")
        .prefetch_related(Prefetch("person_links", queryset=current, to_attr="current_persons"))
        .filter(code=code.upper())
        .first()
    )


def registry_for_staff(
    actor: Actor, text: str = "", *, mine: bool = False, division: str = ""
) -> QuerySet[MarketEntity]:
    """The entity registry as a staff member sees it, each row marked ``editable`` for them."""
    actor.require(Cap.ENTITIES_READ)
    qs = MarketEntity.objects.select_related("division", "registering_department")
    if mine and not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(pk__in=department_grants(actor).values("content_object_id"))
    qs = entity_search(text, division=division, qs=qs) if text.strip() else qs.order_by("-created_at", "-id")
    return annotate_editable(qs, actor)


def claims_for_review(actor: Actor, *, status: str = EntityClaim.Status.PENDING) -> QuerySet[EntityClaim]:
    actor.require(Cap.CLAIMS_REVIEW)
    qs = EntityClaim.objects.select_related("user", "entity", "decided_by").filter(status=status)
    if not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(entity_id__in=department_grants(actor).values("content_object_id"))
    return qs.order_by("submitted_at", "id")


def my_memberships(actor: Actor) -> QuerySet[EntityMembership]:
    actor.require(Cap.OWN_ENTITY)
    return EntityMembership.objects.filter(user=actor.user).select_related("entity", "entity__division")


def my_claims(actor: Actor) -> QuerySet[EntityClaim]:
    actor.require(Cap.OWN_ENTITY)
    return EntityClaim.objects.filter(user=actor.user).select_related("entity", "decided_by")


def records_for_staff(
    actor: Actor, *, q: str = "", item: str = "", status: str = "", disclosure: str = ""
) -> QuerySet[CreditRecord]:
    """The records of the actor's department (all departments for the credit office), newest first."""
    actor.require(Cap.RECORDS_READ)
    qs = CreditRecord.objects.select_related("entity", "item", "department")
    if not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(department_id=actor.department_id)
    if item:
        qs = qs.filter(item__code=item)
    if status:
        qs = qs.filter(status=status)
    if disclosure:
        qs = qs.filter(disclosure=disclosure)
    text = q.strip()
    if text:
        parsed = search.parse(text)
        condition = Q(decision_number=text)
        if parsed.tsquery:
            condition |= search.matches(parsed)
        qs = qs.filter(condition)
    return qs.order_by("-decision_date", "-id")


def record_for_staff(actor: Actor, record_id: int) -> CreditRecord:
    """A record as staff may see it: any department's public or shared record; an authorised-use
    record only by its department (and the credit office). ``NotFound`` otherwise."""
    actor.require(Cap.RECORDS_READ)
    record = (
        CreditRecord.objects.select_related("entity", "item", "department", "entity__division")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise NotFound
    own = actor.can(Cap.ALL_DEPARTMENTS) or record.department_id == actor.department_id
    if not own and record.item.use_scope == CatalogueItem.UseScope.AUTHORISED:
        raise NotFound
    return record


def record_history(record: CreditRecord) -> dict:
    from credit_portal.audit.models import AuditEvent

    return {
        "versions": list(record.versions.order_by("version")),
        "changes": list(record.changes.order_by("id")),
        "events": list(
            AuditEvent.objects.filter(target_type="records.creditrecord", target_id=str(record.pk)).order_by(
                "id"
            )
        ),
    }


def records_visible_to_agencies(actor: Actor) -> QuerySet[CreditRecord]:
    """What an agency (token) or staff member may read through the API: public and
    government-shared items of every department, authorised-use items of its own department only."""
    actor.require(Cap.RECORDS_READ)
    qs = CreditRecord.objects.select_related("entity", "item", "department").exclude(
        status=CreditRecord.Status.DRAFT
    )
    if not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(
            ~Q(item__use_scope=CatalogueItem.UseScope.AUTHORISED) | Q(department_id=actor.department_id)
        )
    return qs


# --- review ----------------------------------------------------------------------------------------


def _department_scope(actor: Actor, qs: QuerySet) -> QuerySet:
    return rows.of_department(qs, actor)


def review_queue(actor: Actor) -> dict:
    """What waits for a reviewer of the actor's department (every department for the credit
    office): drafts entered on the form, imported batches of drafts (one line per file), and
    proposed corrections and revocations. Three queries, bounded lists."""
    from django.db.models import Count

    from records.models import ImportJob, RecordProposal

    actor.require(Cap.RECORDS_CONFIRM)
    drafts = _department_scope(actor, CreditRecord.objects.filter(status=CreditRecord.Status.DRAFT))
    form_drafts = (
        drafts.filter(import_job__isnull=True)
        .select_related("item", "department")
        .defer("fields", "content", "legal_basis", "remarks")
        .order_by("disclosure_due_on", "id")
    )
    batches = (
        _department_scope(actor, ImportJob.objects.all())
        .filter(records__status=CreditRecord.Status.DRAFT)
        .annotate(drafts=Count("records"))
        .select_related("item", "department")
        .defer("report")
        .order_by("created_at", "id")
    )
    proposals = (
        _department_scope(actor, RecordProposal.objects.filter(status=RecordProposal.Status.PENDING))
        .select_related("record", "record__item", "department")
        .order_by("created_at", "id")
    )
    return {"drafts": form_drafts, "batches": batches, "proposals": proposals}


def review_counts(actor: Actor) -> dict[str, int]:
    """How many drafts (form and imported) and proposals wait for review: two queries."""
    from django.db.models import Count

    from records.models import RecordProposal

    actor.require(Cap.RECORDS_CONFIRM)
    drafts = _department_scope(
        actor, CreditRecord.objects.filter(status=CreditRecord.Status.DRAFT)
    ).aggregate(
        form=Count("pk", filter=Q(import_job__isnull=True)),
        imported=Count("pk", filter=Q(import_job__isnull=False)),
    )
    proposals = _department_scope(
        actor, RecordProposal.objects.filter(status=RecordProposal.Status.PENDING)
    ).count()
    return {**drafts, "proposals": proposals, "total": drafts["form"] + drafts["imported"] + proposals}


def pending_proposal(record: CreditRecord):
    from records.models import RecordProposal

    return record.proposals.filter(status=RecordProposal.Status.PENDING).first()


def proposal_record_id(actor: Actor, proposal_id: int) -> int:
    """The record a proposal of the actor's department is about; ``NotFound`` for any other."""
    from records.models import RecordProposal

    record_id = (
        _department_scope(actor, RecordProposal.objects.filter(pk=proposal_id))
        .values_list("record_id", flat=True)
        .first()
    )
    if record_id is None:
        raise NotFound
    return record_id


def change_feed(actor: Actor, *, after: int) -> QuerySet[RecordChange]:
    """The change-feed entries after id ``after`` of the records the actor may read through the API,
    in id (commit) order. Each carries its record's current status and department
    (``record_status``, ``record_department_id``), joined in the same statement, for
    ``records.visibility.content_withheld``: no query per entry."""
    visible = records_visible_to_agencies(actor).values("pk")
    return (
        RecordChange.objects.filter(id__gt=after, record_id__in=visible)
        .annotate(record_status=F("record__status"), record_department_id=F("record__department_id"))
        .order_by("id")
    )


def proposal_changes(proposal) -> list[tuple[str, str, str]]:
    """What a proposed correction changes, field by field, as (label, now, proposed) in the active
    language: the columns, the item, the entity and the structured fields (identity numbers masked)."""
    from records.fields import public_fields
    from records.models import RecordProposal

    if proposal.kind != RecordProposal.Kind.CORRECTION:
        return []
    record, values = proposal.record, proposal.values
    from django.utils.text import capfirst

    labels = {f.name: capfirst(str(f.verbose_name)) for f in CreditRecord._meta.fields}
    rows = []
    if values.get("item") != record.item.code:
        new_item = CatalogueItem.objects.filter(code=values.get("item")).first()
        rows.append((labels["item"], record.item.name, new_item.name if new_item else values.get("item")))
    if values.get("entity_id") != record.entity_id:
        rows.append((labels["entity"], f"{record.party_name} {record.entity.code}", values.get("code", "")))
    for name in (
        "party_name",
        "decision_date",
        "legal_basis",
        "severity",
        "content",
        "valid_from",
        "valid_to",
        "remarks",
        "disclosure_months",
    ):
        now = getattr(record, name)
        now = now.isoformat() if hasattr(now, "isoformat") else ("" if now is None else str(now))
        proposed = values.get(name)
        proposed = "" if proposed is None else str(proposed)
        if now != proposed:
            if name == "severity":
                from records.models import Severity

                now = Severity(now).label if now else ""
                proposed = Severity(proposed).label if proposed else ""
            rows.append((labels[name], str(now), str(proposed)))
    current = {key: value for key, _label, value in public_fields(record.item, record.fields)}
    for key, label, value in public_fields(record.item, values.get("fields") or {}):
        if str(current.get(key, "")) != str(value):
            rows.append((label, str(current.get(key, "")), str(value)))
    return rows


# --- objections and complaints ---------------------------------------------------------------------

# Records that can be objected to: those that stand and are not already contested.
OBJECTABLE = (CreditRecord.Status.EFFECTIVE, CreditRecord.Status.CORRECTED)


def parse_record_id(value: Any) -> int | None:
    """A record number as a person gives it (a form field, a query parameter); None for anything
    that cannot be one."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def member_records(actor: Actor) -> QuerySet[CreditRecord]:
    """Every record (all statuses) of the entities the self-service user acts for, each marked
    ``has_pending_objection``."""
    actor.require(Cap.OWN_ENTITY)
    entities = EntityMembership.objects.filter(user=actor.user).values("entity_id")
    pending = Objection.objects.filter(record=OuterRef("pk"), status=Objection.Status.PENDING)
    return (
        CreditRecord.objects.filter(entity_id__in=entities)
        .select_related("entity", "item", "department")
        .annotate(has_pending_objection=Exists(pending))
        .order_by("-decision_date", "-id")
    )


def member_record(actor: Actor, record_id: int) -> CreditRecord:
    """One record of an entity the user acts for, or ``NotFound`` (missing and not-yours look the
    same)."""
    return rows.one_or_not_found(member_records(actor), pk=record_id)


def public_record(record_id: Any) -> CreditRecord | None:
    """A published record, as the public may see it (None for anything else)."""
    pk = parse_record_id(record_id)
    if pk is None:
        return None
    return (
        CreditRecord.objects.select_related("entity", "item", "department")
        .filter(pk=pk, disclosure=CreditRecord.Disclosure.PUBLISHED)
        .first()
    )


def my_objections(actor: Actor) -> QuerySet[Objection]:
    """Objections made through ``/my/`` on records of the entities the user acts for."""
    actor.require(Cap.OWN_ENTITY)
    entities = EntityMembership.objects.filter(user=actor.user).values("entity_id")
    return (
        Objection.objects.filter(record__entity_id__in=entities, submitted_by__isnull=False)
        .select_related("record", "record__entity", "record__department", "submitted_by")
        .order_by("-submitted_at", "-id")
    )


def objections_for_department(actor: Actor, *, status: str = "") -> QuerySet[Objection]:
    """The department's queue (every department's for the credit office): pending first, the
    earliest due first."""
    actor.require(Cap.OBJECTIONS_ANSWER)
    qs = Objection.objects.select_related("record", "record__entity", "record__department")
    qs = rows.of_department(qs, actor, field="record__department_id")
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        pending_first=Case(
            When(status=Objection.Status.PENDING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("pending_first", "answer_due_on", "-submitted_at", "-id")


def objection_for_staff(actor: Actor, objection_id: int) -> Objection:
    return rows.one_or_not_found(
        objections_for_department(actor).select_related("record__item"), pk=objection_id
    )


def objection_by_reference(reference: Any) -> Objection | None:
    """For the public tracking page: the objection with this reference, if any."""
    text = normalise_reference(reference, Objection.REFERENCE_PREFIX)
    if len(text) != len(Objection.REFERENCE_PREFIX) + Objection.REFERENCE_LENGTH:
        return None
    return Objection.objects.filter(reference=text).first()


def active_departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("code")


def complaints_for_department(actor: Actor, *, status: str = "") -> QuerySet[Complaint]:
    """The department's queue (every department's for the credit office): open ones first, the
    earliest due first."""
    actor.require(Cap.COMPLAINTS_HANDLE)
    qs = rows.of_department(Complaint.objects.select_related("department", "entity"), actor)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        open_first=Case(
            When(status=Complaint.Status.RECEIVED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("open_first", "answer_due_on", "-submitted_at", "-id")


def complaint_for_staff(actor: Actor, complaint_id: int) -> Complaint:
    return rows.one_or_not_found(complaints_for_department(actor), pk=complaint_id)


def complaint_by_tracking_number(value: Any) -> Complaint | None:
    """For the public tracking page: the complaint with this tracking number, if any."""
    text = normalise_reference(value, Complaint.TRACKING_PREFIX)
    if len(text) != len(Complaint.TRACKING_PREFIX) + Complaint.TRACKING_LENGTH:
        return None
    return Complaint.objects.select_related("department").filter(tracking_number=text).first()


def complaint_for_hotline(actor: Actor, tracking_number: str) -> Complaint:
    """A complaint the actor's department submitted through the API, by tracking number; else
    ``NotFound``."""
    actor.require(Cap.COMPLAINTS_SUBMIT)
    complaint = (
        Complaint.objects.select_related("department", "entity")
        .filter(
            tracking_number=normalise_reference(tracking_number, Complaint.TRACKING_PREFIX),
            channel=Complaint.Channel.API,
        )
        .first()
    )
    department_id = actor.department_id
    if complaint is None or department_id is None or complaint.submitted_by_id != department_id:
        raise NotFound
    return complaint


def objection_received(objection_id: int | None) -> Objection | None:
    """For the result page of a public objection (its session only): the objection just made."""
    if objection_id is None:
        return None
    return Objection.objects.filter(pk=objection_id).first()


def complaint_received(complaint_id: int | None) -> Complaint | None:
    """For the result page of a public submission (its session only): the complaint just filed."""
    if complaint_id is None:
        return None
    return Complaint.objects.select_related("department").filter(pk=complaint_id).first()
