"""Writing credit records: one at a time (staff form, API) or a file's rows at once (set-based),
reviewing drafts, correcting and revoking. Every write has its version row, its audit event and,
where other systems must follow, its change-feed entry."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict
from credit_portal.workdays import services as workdays
from records.fields import CleanRecord, RecordInput, RecordValidator, public_field_values
from records.identifiers import normalise_uscc
from records.models import CatalogueItem, CreditRecord, MarketEntity, RecordChange, RecordVersion

Status = CreditRecord.Status
Disclosure = CreditRecord.Disclosure

CONTENT_FIELDS = [
    "party_name", "decision_number", "decision_date", "legal_basis", "severity", "content", "valid_from",
    "valid_to", "remarks", "disclosure_months",
]  # fmt: skip


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, _calendar.monthrange(year, month)[1]))


def disclosure_plan(
    clean: CleanRecord, validator: RecordValidator, calendar, publish_days: int
) -> dict[str, Any]:
    """Whether and until when a new record is published, and its publication deadline.

    A public item is due ``publish_days`` working days after the decision (the decision day not
    counted). Its period runs from the decision date: by severity under the rule then in force
    (minor violations are not published unless the department sets a period), until the end of
    validity, a fixed number of months, or until removed. A record whose period is already over
    when it is recorded is never published."""
    item = clean.item
    plan = {"disclosure": Disclosure.NOT_DISCLOSED, "disclosure_due_on": None, "disclosure_ends_on": None}
    if not item.is_public:
        return plan
    ends = None
    if item.period_kind == CatalogueItem.PeriodKind.SEVERITY:
        rule = validator.rule_for(clean.severity, clean.decision_date)
        months = clean.disclosure_months
        if months is None and rule is not None:
            months = rule.max_months if rule.published_by_default else 0
        if months == 0:
            return plan
        ends = add_months(clean.decision_date, months) if months else None
    elif item.period_kind == CatalogueItem.PeriodKind.VALIDITY:
        ends = clean.valid_to
    elif item.period_kind == CatalogueItem.PeriodKind.FIXED:
        ends = add_months(clean.decision_date, item.fixed_months)
    plan["disclosure_due_on"] = calendar.add_working_days(clean.decision_date, publish_days)
    plan["disclosure_ends_on"] = ends
    plan["disclosure"] = (
        Disclosure.ENDED if ends is not None and ends <= validator.today else Disclosure.PENDING
    )
    return plan


def payload(record: CreditRecord) -> dict[str, Any]:
    """The record as other systems see it (change feed, API): identity numbers masked."""
    return {
        "id": record.pk,
        "item": record.item.code,
        "entity": record.entity.code if "entity" in record._state.fields_cache else None,
        "department": record.department.code if "department" in record._state.fields_cache else None,
        "party_name": record.party_name,
        "decision_number": record.decision_number,
        "decision_date": record.decision_date,
        "legal_basis": record.legal_basis,
        "severity": record.severity,
        "content": record.content,
        "valid_from": record.valid_from,
        "valid_to": record.valid_to,
        "remarks": record.remarks,
        "fields": public_field_values(record.item, record.fields),
        "status": record.status,
        "version": record.version,
        "disclosure": record.disclosure,
        "disclosure_ends_on": record.disclosure_ends_on,
    }


def _fingerprint(values: dict[str, Any], fields: dict[str, Any], item_code: str, entity_id: int) -> tuple:
    """What makes two versions of a decision the same (identity numbers compared by keyed hash,
    since their ciphertexts differ every time)."""
    comparable = {k: (v.get("hash") if isinstance(v, dict) else v) for k, v in fields.items()}
    return (item_code, entity_id, *(values.get(k) for k in CONTENT_FIELDS), tuple(sorted(comparable.items())))


def _record_fingerprint(record: CreditRecord) -> tuple:
    return _fingerprint(
        {k: getattr(record, k) for k in CONTENT_FIELDS}, record.fields, record.item.code, record.entity_id
    )


def _clean_fingerprint(clean: CleanRecord) -> tuple:
    return _fingerprint(
        {k: getattr(clean, k) for k in CONTENT_FIELDS}, clean.fields, clean.item.code, clean.entity_id
    )


def _snapshot(record: CreditRecord) -> dict[str, Any]:
    data = {k: getattr(record, k) for k in CONTENT_FIELDS}
    data.update(item=record.item.code, entity_id=record.entity_id, fields=record.fields, status=record.status)
    return audit._normalise(data)


def _new_record(
    clean: CleanRecord, *, department: Department, provenance: str, status: str, plan: dict
) -> CreditRecord:
    return CreditRecord(
        entity_id=clean.entity_id,
        item=clean.item,
        department=department,
        party_name=clean.party_name,
        party_name_en=clean.entity_name_en,
        decision_number=clean.decision_number,
        decision_date=clean.decision_date,
        legal_basis=clean.legal_basis,
        severity=clean.severity,
        content=clean.content,
        valid_from=clean.valid_from,
        valid_to=clean.valid_to,
        remarks=clean.remarks,
        disclosure_months=clean.disclosure_months,
        fields=clean.fields,
        status=Status.EXPIRED if plan["disclosure"] == Disclosure.ENDED else status,
        provenance=provenance,
        **plan,
    )


def _emit(records: list[CreditRecord], kind: str) -> None:
    """Append change-feed rows. Callers have already written their audit event, so they hold the
    chain's lock: feed ids are assigned in commit order."""
    RecordChange.objects.bulk_create(
        [
            RecordChange(record=r, kind=kind, version=r.version, payload=audit._normalise(payload(r)))
            for r in records
        ]
    )


def _validator(actor: Actor) -> RecordValidator:
    if actor.department is None:
        raise ValidationError({"department": [str(_("Records are written by a department."))]})
    return RecordValidator(department=actor.department, today=timezone.localdate())


def _publish_days(decided: date) -> int:
    return workdays.deadline_days("disclosure.publish", decided)


@transaction.atomic
def record_create(*, actor: Actor, data: RecordInput, provenance: str) -> CreditRecord:
    """Record one decision for the actor's department.

    A staff member without ``records:confirm`` creates a draft for a reviewer; a reviewer, an
    agency system (API) or a file import creates an effective record. Raises ``ValidationError``
    with every field error, or ``Conflict`` when the department already recorded this decision
    number. Side effects: version 1, audit event, change-feed entry."""
    actor.require(Cap.RECORDS_WRITE)
    validator = _validator(actor)
    clean, errors = validator.validate(data)
    if errors:
        raise ValidationError(dict(errors))
    status = Status.EFFECTIVE
    if (
        actor.kind == "staff"
        and not actor.can(Cap.RECORDS_CONFIRM)
        and provenance == CreditRecord.Provenance.FORM
    ):
        status = Status.DRAFT
    plan = disclosure_plan(clean, validator, workdays.get_calendar(), _publish_days(clean.decision_date))
    record = _new_record(clean, department=actor.department, provenance=provenance, status=status, plan=plan)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError as exc:
        if CreditRecord.objects.filter(
            department=actor.department, decision_number=clean.decision_number
        ).exists():
            raise Conflict(
                _("Your department has already recorded this decision number; correct that record instead."),
                field="decision_number",
            ) from exc
        raise
    record.entity = MarketEntity(pk=clean.entity_id, code=clean.code)
    RecordVersion.objects.create(
        record=record,
        version=1,
        status=record.status,
        snapshot=_snapshot(record),
        reason="",
        actor_label=actor.label,
    )
    audit.log(actor=actor, action="records.record.created", target=record, after=payload(record))
    if record.status != Status.DRAFT:  # a draft reaches the feed when a reviewer confirms it
        _emit([record], RecordChange.Kind.CREATED)
    return record


@dataclass
class RowResult:
    row: int
    outcome: str  # "created" | "unchanged" | "rejected"
    errors: dict[str, list[str]]
    record_id: int | None = None


def records_import(*, actor: Actor, rows: list[tuple[int, RecordInput]], provenance: str) -> list[RowResult]:
    """Import a batch of rows for the actor's department, set-based: one query for the entities,
    one for the decisions already recorded, one bulk insert each for records, versions and feed.

    Idempotent on (department, decision number): a row identical to its record changes nothing; a
    different row for a recorded decision number is rejected (corrections are explicit). Good rows
    are kept whatever happens to bad ones."""
    actor.require(Cap.RECORDS_WRITE)
    validator = _validator(actor)
    department = actor.department
    codes = {normalise_uscc(r.code or "") for _, r in rows}
    entities = {
        code: (pk, name, name_en)
        for code, pk, name, name_en in MarketEntity.objects.filter(code__in=codes).values_list(
            "code", "pk", "name_zh", "name_en"
        )
    }
    results: list[RowResult] = []
    cleaned: list[tuple[int, CleanRecord]] = []
    seen: dict[str, int] = {}
    for row, data in rows:
        clean, errors = validator.validate(data, entities=entities, strict=False)
        if clean is not None and clean.decision_number in seen:
            errors.add(
                "decision_number",
                _("The same decision number is already on row %(row)d of this file.")
                % {"row": seen[clean.decision_number]},
            )
            clean = None
        if clean is None:
            results.append(RowResult(row, "rejected", dict(errors)))
            continue
        seen[clean.decision_number] = row
        cleaned.append((row, clean))

    with transaction.atomic():
        existing = {
            r.decision_number: r
            for r in CreditRecord.objects.select_related("item").filter(
                department=department, decision_number__in=[c.decision_number for _, c in cleaned]
            )
        }
        calendar = workdays.get_calendar()
        publish = workdays.DeadlineSchedule("disclosure.publish")
        new: list[tuple[int, CreditRecord]] = []
        for row, clean in cleaned:
            current = existing.get(clean.decision_number)
            if current is not None:
                if _record_fingerprint(current) == _clean_fingerprint(clean):
                    results.append(RowResult(row, "unchanged", {}, current.pk))
                else:
                    results.append(
                        RowResult(
                            row,
                            "rejected",
                            {
                                "decision_number": [
                                    str(
                                        _(
                                            "This decision number is already recorded with different content; correct that record instead."
                                        )
                                    )
                                ]
                            },
                            current.pk,
                        )
                    )
                continue
            plan = disclosure_plan(clean, validator, calendar, publish.days(clean.decision_date))
            new.append(
                (
                    row,
                    _new_record(
                        clean,
                        department=department,
                        provenance=provenance,
                        status=Status.EFFECTIVE,
                        plan=plan,
                    ),
                )
            )
        created = CreditRecord.objects.bulk_create([r for _, r in new])
        RecordVersion.objects.bulk_create(
            [
                RecordVersion(
                    record=r,
                    version=1,
                    status=r.status,
                    snapshot=_snapshot(r),
                    reason="",
                    actor_label=actor.label,
                )
                for r in created
            ]
        )
        if created:
            audit.log(
                actor=actor,
                action="records.record.imported",
                data={"provenance": provenance, "created": [r.pk for r in created], "rows": len(rows)},
            )
            by_code = {pk: code for code, (pk, _name, _name_en) in entities.items()}
            for r in created:
                r.entity = MarketEntity(pk=r.entity_id, code=by_code[r.entity_id])
                r.department = department
            _emit(created, RecordChange.Kind.CREATED)
    results.extend(RowResult(row, "created", {}, r.pk) for row, r in new)
    return sorted(results, key=lambda r: r.row)


def _record_for_department(actor: Actor, record_id: int, capability: str) -> CreditRecord:
    """The record, locked, if the actor's department recorded it (or the actor is the credit
    office); else 404 — other departments' records are not theirs to change."""
    actor.require(capability)
    qs = (
        CreditRecord.objects.select_for_update(of=("self",))
        .select_related("item", "entity", "department")
        .filter(pk=record_id)
    )
    if not actor.can(Cap.ALL_DEPARTMENTS):
        qs = qs.filter(department_id=actor.department_id)
    record = qs.first()
    if record is None:
        raise Http404
    return record


@transaction.atomic
def record_confirm(*, actor: Actor, record_id: int) -> CreditRecord:
    """A reviewer makes a draft effective; from then on the disclosure sweep may publish it."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_CONFIRM)
    if record.status != Status.DRAFT:
        return record
    record.status = Status.EFFECTIVE
    record.save(update_fields=["status", "updated_at"])
    audit.log(
        actor=actor,
        action="records.record.confirmed",
        target=record,
        before={"status": Status.DRAFT},
        after={"status": record.status},
    )
    _emit([record], RecordChange.Kind.CREATED)
    return record


@transaction.atomic
def record_correct(*, actor: Actor, record_id: int, data: RecordInput, reason: str) -> CreditRecord:
    """Correct a record: a new version replaces the content, the public sees the correction at
    once, and every system that received the record gets it through the change feed. The decision
    number identifies the record and stays. Side effects: version, audit event, feed entry."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_WRITE)
    if record.status in (Status.REVOKED, Status.RESTORED):
        raise ValidationError({"status": [str(_("A revoked or restored record cannot be corrected."))]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [str(_("Say why the record is corrected."))]})
    data.decision_number = record.decision_number
    validator = RecordValidator(department=record.department, today=timezone.localdate())
    clean, errors = validator.validate(data)
    if errors:
        raise ValidationError(dict(errors))
    if _clean_fingerprint(clean) == _record_fingerprint(record):
        return record
    before = payload(record)
    plan = disclosure_plan(clean, validator, workdays.get_calendar(), _publish_days(clean.decision_date))
    for name in CONTENT_FIELDS:
        setattr(record, name, getattr(clean, name))
    record.item, record.entity_id, record.fields = clean.item, clean.entity_id, clean.fields
    record.party_name_en = clean.entity_name_en
    record.entity = MarketEntity.objects.get(pk=clean.entity_id)
    record.disclosure_ends_on = plan["disclosure_ends_on"]
    if record.disclosure == Disclosure.NOT_DISCLOSED and plan["disclosure"] == Disclosure.PENDING:
        record.disclosure, record.disclosure_due_on = Disclosure.PENDING, plan["disclosure_due_on"]
    if record.status in (Status.EFFECTIVE, Status.UNDER_OBJECTION):
        record.status = Status.CORRECTED
    record.version += 1
    record.save()
    RecordVersion.objects.create(
        record=record,
        version=record.version,
        status=record.status,
        snapshot=_snapshot(record),
        reason=reason,
        actor_label=actor.label,
    )
    audit.log(
        actor=actor,
        action="records.record.corrected",
        target=record,
        before=before,
        after={**payload(record), "reason": reason},
    )
    _emit([record], RecordChange.Kind.CORRECTED)
    return record


@transaction.atomic
def record_revoke(
    *, actor: Actor, record_id: int, reason: str, revoked_on: date | None = None
) -> CreditRecord:
    """The decision was revoked: the record leaves public view at once (the rule allows 3 working
    days; ``withdrawal_due_on`` keeps that deadline for the board) and the feed tells every system."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_WRITE)
    if record.status == Status.REVOKED:
        return record
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [str(_("Say why the decision was revoked."))]})
    revoked_on = revoked_on or timezone.localdate()
    return _withdraw(
        actor, record, Status.REVOKED, reason, revoked_on, RecordChange.Kind.REVOKED, "records.record.revoked"
    )


def _withdraw(actor, record, status, reason, on, kind, action) -> CreditRecord:
    before = {"status": record.status, "disclosure": record.disclosure}
    record.status = status
    record.withdrawal_due_on = workdays.deadline("disclosure.withdraw", on)
    if record.disclosure in (Disclosure.PUBLISHED, Disclosure.PENDING):
        record.disclosure = Disclosure.WITHDRAWN
        record.withdrawn_at = timezone.now()
    record.save(update_fields=["status", "disclosure", "withdrawal_due_on", "withdrawn_at", "updated_at"])
    audit.log(
        actor=actor,
        action=action,
        target=record,
        before=before,
        after={"status": record.status, "disclosure": record.disclosure, "reason": reason, "on": on},
    )
    _emit([record], kind)
    return record
