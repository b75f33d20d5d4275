"""Writing credit records: one at a time (staff form, API) or a file's rows at once (set-based),
reviewing drafts, correcting and revoking (the ends that other procedures decide, credit restored
and a designation ended, are ``records.services.endings``). Every write has its version row, its audit event and,
where other systems must follow, its change-feed entry."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict, raise_errors
from credit_portal.i18n import interpolate
from credit_portal.text import invisible_error
from credit_portal.workdays import services as workdays
from records.fields import CleanRecord, Errors, RecordInput, RecordValidator, public_field_values
from records.identifiers import normalise_uscc
from records.models import CreditRecord, ImportJob, MarketEntity, RecordChange, RecordVersion
from records.services import planning
from records.services.planning import PUBLISH_RULE, WITHDRAW_RULE, add_months

__all__ = ["add_months"]  # re-exported: the date arithmetic of disclosure periods

logger = logging.getLogger(__name__)

Status = CreditRecord.Status
Disclosure = CreditRecord.Disclosure
UNPLANNABLE = _(
    "No disclosure deadline can be planned for this decision date under the rules in force: check the date."
)

SEVERITY_RANK = {"minor": 1, "general": 2, "serious": 3}
CONTENT_FIELDS = [
    "party_name", "decision_number", "decision_date", "legal_basis", "severity", "content", "valid_from",
    "valid_to", "remarks", "disclosure_months",
]  # fmt: skip


def disclosure_plan(
    clean: CleanRecord, validator: RecordValidator, calendar, publish_days: int
) -> dict[str, Any]:
    """Whether and until when a new record is published, and its publication deadline (see
    ``records.services.planning.plan``), as model field values."""
    return planning.plan_for_clean(clean, validator, calendar, publish_days).as_fields()


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
        # A record whose period is already over stands expired — once confirmed, for a draft.
        status=Status.EXPIRED
        if plan["disclosure"] == Disclosure.ENDED and status != Status.DRAFT
        else status,
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


def _validator(actor: Actor, *, workflow: bool = False) -> RecordValidator:
    if actor.department is None:
        raise ValidationError({"department": [str(_("Records are written by a department."))]})
    return RecordValidator(department=actor.department, today=timezone.localdate(), workflow=workflow)


def needs_review(actor: Actor) -> bool:
    """A staff member who may not confirm records (a clerk) writes proposals: drafts, and
    corrections or revocations that a reviewer of the department confirms."""
    return actor.kind == "staff" and not actor.can(Cap.RECORDS_CONFIRM)


def _publish_days(decided: date) -> int:
    return workdays.deadline_days(PUBLISH_RULE, decided)


DUPLICATE_NUMBER = _(
    "Your department has already recorded this decision number; correct that record instead."
)


def _already_recorded(actor: Actor, data: RecordInput) -> Conflict | None:
    number = str(data.decision_number or "").strip()
    if number and CreditRecord.objects.filter(department=actor.department, decision_number=number).exists():
        return Conflict(DUPLICATE_NUMBER, field="decision_number")
    return None


@transaction.atomic
def record_create(
    *, actor: Actor, data: RecordInput, provenance: str, validate_only: bool = False
) -> CreditRecord | None:
    """Record one decision for the actor's department.

    A staff member without ``records:confirm`` creates a draft for a reviewer; a reviewer, an
    agency system (API) or a file import creates an effective record. Raises ``ValidationError``
    with every field error (a decision number already recorded among them), or ``Conflict`` when
    that is the only error. ``validate_only``: check, write nothing, return None. Side effects:
    version 1, audit event, change-feed entry."""
    actor.require(Cap.RECORDS_WRITE)
    validator = _validator(actor, workflow=provenance == CreditRecord.Provenance.SYSTEM)
    clean, errors = validator.validate(data)
    raise_errors(errors, _already_recorded(actor, data))
    if validate_only:
        return None
    status = Status.EFFECTIVE
    if needs_review(actor) and provenance == CreditRecord.Provenance.FORM:
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
            raise Conflict(DUPLICATE_NUMBER, field="decision_number") from exc
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
    else:
        from records.services import review

        review.notify_reviewers_of_draft(actor=actor, record=record)
    return record


@dataclass
class RowResult:
    row: int
    outcome: str  # "created" | "unchanged" | "rejected"
    errors: dict[str, list[str]]  # an ``Errors`` for a rejected row: its messages in every language too
    record_id: int | None = None


def records_import(
    *,
    actor: Actor,
    rows: list[tuple[int, RecordInput]],
    provenance: str,
    import_job: ImportJob | None = None,
) -> list[RowResult]:
    """Import a batch of rows for the actor's department, set-based: one query for the entities,
    one for the decisions already recorded, one bulk insert each for records, versions and feed.

    Idempotent on (department, decision number): a row identical to its record changes nothing; a
    different row for a recorded decision number is rejected (corrections are explicit). Good rows
    are kept whatever happens to bad ones. A clerk's rows are drafts for a reviewer, unless the
    department's rule (``Department.clerk_imports_reviewed``) says otherwise; drafts reach the change
    feed when confirmed (``records.services.review.import_job_confirm``)."""
    actor.require(Cap.RECORDS_WRITE)
    validator = _validator(actor)
    department = actor.department
    status = Status.EFFECTIVE
    if (
        provenance == CreditRecord.Provenance.FILE
        and needs_review(actor)
        and department.clerk_imports_reviewed
    ):
        status = Status.DRAFT
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
                interpolate(
                    _("The same decision number is already on row %(row)d of this file."),
                    {"row": seen[clean.decision_number]},
                ),
            )
            clean = None
        if clean is None:
            results.append(RowResult(row, "rejected", errors))
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
        publish = validator.publish
        new: list[tuple[int, CreditRecord]] = []
        for row, clean in cleaned:
            current = existing.get(clean.decision_number)
            if current is not None:
                if _record_fingerprint(current) == _clean_fingerprint(clean):
                    results.append(RowResult(row, "unchanged", {}, current.pk))
                else:
                    errors = Errors()
                    errors.add(
                        "decision_number",
                        _(
                            "This decision number is already recorded with different content; correct that record instead."
                        ),
                    )
                    results.append(RowResult(row, "rejected", errors, current.pk))
                continue
            try:
                plan = disclosure_plan(clean, validator, calendar, publish.days(clean.decision_date))
            except (LookupError, ValueError, OverflowError) as exc:
                # A row the validator let through but no rule can plan (a rule edited since the
                # validator loaded, a date at the end of the calendar): that row is refused, the
                # others are imported.
                logger.warning("import row %s not planned: %s", row, exc)
                errors = Errors()
                errors.add("decision_date", UNPLANNABLE)
                results.append(RowResult(row, "rejected", errors))
                continue
            record = _new_record(
                clean, department=department, provenance=provenance, status=status, plan=plan
            )
            record.import_job = import_job
            new.append((row, record))
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
                data={
                    "provenance": provenance,
                    "created": [r.pk for r in created],
                    "rows": len(rows),
                    "status": status,
                    "job": import_job.pk if import_job else None,
                },
            )
            by_code = {pk: code for code, (pk, _name, _name_en) in entities.items()}
            for r in created:
                r.entity = MarketEntity(pk=r.entity_id, code=by_code[r.entity_id])
                r.department = department
            standing = [r for r in created if r.status != Status.DRAFT]
            if standing:
                _emit(standing, RecordChange.Kind.CREATED)
    results.extend(RowResult(row, "created", {}, r.pk) for row, r in new)
    return sorted(results, key=lambda r: r.row)


def _record_for_department(actor: Actor, record_id: int, capability: str) -> CreditRecord:
    """The record, locked, if the actor's department recorded it (or the actor is the credit
    office); else ``NotFound`` — other departments' records are not theirs to change."""
    actor.require(capability)
    return rows.locked_department_row(
        CreditRecord.objects.select_related("item", "entity", "department"), actor=actor, pk=record_id
    )


@transaction.atomic
def record_confirm(*, actor: Actor, record_id: int) -> CreditRecord:
    """A reviewer makes a draft effective; from then on the disclosure sweep may publish it."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_CONFIRM)
    if record.status != Status.DRAFT:
        return record
    record.status = Status.EXPIRED if record.disclosure == Disclosure.ENDED else Status.EFFECTIVE
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


def validate_correction(record: CreditRecord, data: RecordInput, reason: str) -> tuple[CleanRecord, str]:
    """The corrected values of ``record`` and the reason, validated as for a new record (the
    decision number identifies the record and stays); raises ``ValidationError`` with every error."""
    errors: dict[str, list[str]] = {}
    if record.status in (Status.REVOKED, Status.RESTORED):
        errors["status"] = [str(_("A revoked or restored record cannot be corrected."))]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [str(_("Say why the record is corrected."))]
    elif problem := invisible_error(reason):
        errors["reason"] = [problem]
    data.decision_number = record.decision_number
    # A record of a workflow-only item (a designation, a pledge breach) may be corrected in its
    # facts — an upheld objection does that — but not turned into another item, and no other record
    # may be turned into one; nor may its severity be raised without the procedure's notice.
    validator = RecordValidator(
        department=record.department, today=timezone.localdate(), workflow=record.item.workflow_only
    )
    clean, field_errors = validator.validate(data)
    errors.update(field_errors)
    if clean is not None and record.item.workflow_only:
        if clean.item.pk != record.item.pk:
            errors["item"] = [
                str(
                    _("A record of “%(item)s” stays under its item: its own procedure decides it.")
                    % {"item": record.item.name}
                )
            ]
        elif SEVERITY_RANK.get(clean.severity, 0) > SEVERITY_RANK.get(record.severity, 0):
            errors["severity"] = [
                str(
                    _(
                        "The severity of this record is raised only through its own procedure, with a new notice."
                    )
                )
            ]
    if errors:
        raise ValidationError(errors)
    return clean, reason


def is_unchanged(record: CreditRecord, clean: CleanRecord) -> bool:
    return _clean_fingerprint(clean) == _record_fingerprint(record)


@transaction.atomic
def record_correct(
    *, actor: Actor, record_id: int, data: RecordInput, reason: str, validate_only: bool = False
) -> CreditRecord | None:
    """Correct a record: a new version replaces the content, its disclosure is re-planned from the
    corrected values exactly as if it had been recorded that way (a record that may no longer be
    public leaves public view at once), the public sees the correction at once, and every system
    that received the record gets it through the change feed. Side effects: version, audit event,
    feed entry.

    A clerk corrects a draft directly; a clerk's correction of a standing record is a proposal
    (``records.services.review.record_change_propose``), refused here. ``validate_only``: check,
    write nothing, return None."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_WRITE)
    _require_direct_change(actor, record)
    clean, reason = validate_correction(record, data, reason)
    if validate_only:
        return None
    if is_unchanged(record, clean):
        return record
    return apply_correction(actor=actor, record=record, clean=clean, reason=reason)


class ReviewRequired(PermissionDenied):
    """A clerk's correction or revocation of a standing record is a proposal for a reviewer
    (``records.services.review.record_change_propose``), not a change."""


def _require_direct_change(actor: Actor, record: CreditRecord) -> None:
    if record.status != Status.DRAFT and needs_review(actor):
        raise ReviewRequired(Cap.RECORDS_CONFIRM)


def apply_correction(
    *, actor: Actor, record: CreditRecord, clean: CleanRecord, reason: str, audit_data: dict | None = None
) -> CreditRecord:
    """Write validated corrected values into a locked record (``record_correct`` and a confirmed
    proposal both end here)."""
    before = payload(record)
    validator = RecordValidator(department=record.department, today=timezone.localdate(), workflow=True)
    calendar = workdays.get_calendar()
    new_plan = planning.plan_for_clean(clean, validator, calendar, _publish_days(clean.decision_date))
    for name in CONTENT_FIELDS:
        setattr(record, name, getattr(clean, name))
    record.item, record.entity_id, record.fields = clean.item, clean.entity_id, clean.fields
    record.party_name_en = clean.entity_name_en
    record.entity = MarketEntity.objects.get(pk=clean.entity_id)
    if record.status in (Status.EFFECTIVE, Status.UNDER_OBJECTION):
        record.status = Status.CORRECTED
    planning.apply(record, new_plan, calendar=calendar, today=validator.today, now=timezone.now())
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
        after={**payload(record), "reason": reason, **(audit_data or {})},
    )
    _emit([record], RecordChange.Kind.CORRECTED)
    return record


@dataclass(frozen=True)
class EndingTexts:
    """What a record's ending says when its reason or date is refused (``%(date)s`` in the last two)."""

    reason_required: Any
    future: Any
    before_decision: Any
    before_rule: Any


REVOCATION_TEXTS = EndingTexts(
    reason_required=_("Say why the decision was revoked."),
    future=_("The date of revocation cannot be in the future."),
    before_decision=_("The decision cannot be revoked before it was taken (%(date)s)."),
    before_rule=_(
        "Revocations dated before %(date)s cannot be recorded: no withdrawal deadline rule covers them."
    ),
)


def validate_ending(
    record: CreditRecord,
    reason: str,
    on: date | None,
    *,
    date_field: str,
    texts: EndingTexts,
    withdrawal_rule: bool = True,
) -> tuple[str, date]:
    """The reason and date of a record's ending (a revocation, a restoration, a designation ended):
    a reason is required; the date, today when not given, is neither in the future nor before the
    decision and — when the withdrawal deadline is counted from it, under the rule in force on that
    day — covered by the withdrawal deadline rule. Raises ``ValidationError`` with every error."""
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [str(texts.reason_required)]
    elif problem := invisible_error(reason):
        errors["reason"] = [problem]
    today = timezone.localdate()
    on = on or today
    earliest = workdays.earliest_rule_date(WITHDRAW_RULE) if withdrawal_rule else record.decision_date
    if on > today:
        errors[date_field] = [str(texts.future)]
    elif on < record.decision_date:
        errors[date_field] = [str(texts.before_decision % {"date": record.decision_date.isoformat()})]
    elif earliest is None or on < earliest:
        errors[date_field] = [str(texts.before_rule % {"date": (earliest or today).isoformat()})]
    if errors:
        raise ValidationError(errors)
    return reason, on


def validate_revocation(record: CreditRecord, reason: str, revoked_on: date | None) -> tuple[str, date]:
    """The reason and date of a revocation (``validate_ending``)."""
    return validate_ending(record, reason, revoked_on, date_field="revoked_on", texts=REVOCATION_TEXTS)


@transaction.atomic
def record_revoke(
    *,
    actor: Actor,
    record_id: int,
    reason: str,
    revoked_on: date | None = None,
    validate_only: bool = False,
) -> CreditRecord | None:
    """The decision was revoked: the record leaves public view at once (the rule allows 3 working
    days; ``withdrawal_due_on`` keeps that deadline for the board) and the feed tells every system.
    A clerk revokes a draft directly; a clerk's revocation of a standing record is a proposal.
    ``validate_only``: check, write nothing, return None."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_WRITE)
    if record.status == Status.REVOKED:
        return None if validate_only else record
    _require_direct_change(actor, record)
    if record.status == Status.DRAFT:
        if validate_only:
            _discard_reason(reason)
            return None
        return _discard(actor, [record], reason=reason)[0]
    reason, revoked_on = validate_revocation(record, reason, revoked_on)
    if validate_only:
        return None
    return apply_revocation(actor=actor, record=record, reason=reason, revoked_on=revoked_on)


def _discard_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [str(_("Say why the draft is discarded."))]})
    return reason


def _discard(actor: Actor, drafts: list[CreditRecord], *, reason: str) -> list[CreditRecord]:
    """Drafts taken back before anyone confirmed them: they never stood, were never published nor
    sent to connected systems, so they leave the disclosure track without a revocation or a feed
    entry (and no department is charged with their deadline). Status revoked, not disclosed."""
    reason = _discard_reason(reason)
    for record in drafts:
        record.status = Status.REVOKED
        record.disclosure = Disclosure.NOT_DISCLOSED
        record.disclosure_due_on = None
        record.save(update_fields=["status", "disclosure", "disclosure_due_on", "updated_at"])
    audit.log(
        actor=actor,
        action="records.record.discarded",
        target=drafts[0] if len(drafts) == 1 else None,
        data={"records": [r.pk for r in drafts], "reason": reason},
    )
    return drafts


def apply_revocation(
    *, actor: Actor, record: CreditRecord, reason: str, revoked_on: date, audit_data: dict | None = None
) -> CreditRecord:
    return _withdraw(
        actor,
        record,
        Status.REVOKED,
        reason,
        revoked_on,
        RecordChange.Kind.REVOKED,
        "records.record.revoked",
        audit_data,
    )


def _withdraw(actor, record, status, reason, on, kind, action, audit_data=None) -> CreditRecord:
    before = {"status": record.status, "disclosure": record.disclosure}
    record.status = status
    record.withdrawal_due_on = workdays.deadline(WITHDRAW_RULE, on)
    if record.disclosure in (Disclosure.PUBLISHED, Disclosure.PENDING):
        record.disclosure = Disclosure.WITHDRAWN
        record.withdrawn_at = timezone.now()
    record.save(update_fields=["status", "disclosure", "withdrawal_due_on", "withdrawn_at", "updated_at"])
    audit.log(
        actor=actor,
        action=action,
        target=record,
        before=before,
        after={
            "status": record.status,
            "disclosure": record.disclosure,
            "reason": reason,
            "on": on,
            **(audit_data or {}),
        },
    )
    _emit([record], kind)
    return record
