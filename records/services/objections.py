"""Objections (异议) to credit records: submitted by the entity a record concerns (through ``/my/``)
or by a person it affects (the public form), answered by the recording department within the
working-day deadline ``objection.answer``.

While an objection is pending its record is "under objection": it stays published, the public sees
the state, and the change feed tells every agency that the record is contested. An upheld objection
corrects or revokes the record (through ``record_correct``/``record_revoke``, so versions, audit and
feed follow); a rejected or withdrawn one puts the record back as it was."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import numbers, personal_data, rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict, NotFound, raise_errors
from credit_portal.links import Route
from credit_portal.notices import services as notices
from credit_portal.workdays import rules
from credit_portal.workdays import services as workdays
from records.fields import Errors, RecordInput, clean_text
from records.identifiers import mask_identity_number, validate_resident_id
from records.models import CreditRecord, EntityMembership, Objection, RecordChange
from records.selectors import OBJECTABLE, parse_record_id
from records.services.credit import (
    _emit,
    is_unchanged,
    record_correct,
    record_revoke,
    validate_correction,
    validate_revocation,
)

Status = Objection.Status
RecordStatus = CreditRecord.Status

REFERENCE_PREFIX = Objection.REFERENCE_PREFIX
REFERENCE_LENGTH = Objection.REFERENCE_LENGTH

_NOT_OBJECTABLE = {
    RecordStatus.DRAFT: _(
        "This record is still awaiting review; it can be objected to once it is effective."
    ),
    RecordStatus.REVOKED: _("This record has been revoked; there is nothing left to object to."),
    RecordStatus.EXPIRED: _(
        "The disclosure period of this record has ended; it can no longer be objected to."
    ),
    RecordStatus.RESTORED: _("Credit has been restored for this record; it can no longer be objected to."),
    RecordStatus.UNDER_OBJECTION: _("This record is already under objection."),
}
PENDING_OBJECTION = _("This record already has an objection awaiting the department's answer.")


# --- small shared helpers (complaints use them too) ---------------------------------------------


def random_code(prefix: str, length: int) -> str:
    """``prefix`` and ``length`` readable random characters (``credit_portal.numbers``)."""
    return prefix + numbers.random_characters(length)


def clean_into(
    errors: Errors,
    key: str,
    value: Any,
    *,
    max_length: int,
    required: bool = False,
    single_line: bool = False,
) -> str:
    """``clean_text`` collecting its error under ``key`` instead of raising."""
    try:
        return clean_text(value, max_length=max_length, required=required, single_line=single_line)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add(key, message)
        return ""


_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")
_validate_email = EmailValidator()


@dataclass(frozen=True)
class Contact:
    cipher: str
    masked: str


def clean_contact(value: Any, *, required: bool) -> Contact:
    """A phone number or an email address, returned encrypted and masked (never kept in clear)."""
    text = clean_text(value, max_length=254, required=required, single_line=True)
    if not text:
        return Contact("", "")
    if "@" in text:
        try:
            _validate_email(text)
        except ValidationError:
            raise ValidationError(_("This is not a valid email address.")) from None
        local, domain = text.rsplit("@", 1)
        masked = f"{local[0]}***@{domain}"
        if len(masked) > 80:
            masked = masked[:79] + "…"
    else:
        phone = re.sub(r"[\s()（）]", "", text)
        if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
            raise ValidationError(
                _(
                    "Give a mobile or telephone number (e.g. 13812345678 or 0755-12345678) or an email address."
                )
            )
        masked = phone[:3] + "*" * max(4, len(phone) - 7) + phone[-4:]
    return Contact(personal_data.encrypt(text), masked)


def contact_into(errors: Errors, key: str, value: Any, *, required: bool) -> Contact:
    try:
        return clean_contact(value, required=required)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add(key, message)
        return Contact("", "")


def one_line(text: str, limit: int = 200) -> str:
    """Notice subjects are single lines of at most 200 characters."""
    return " ".join(str(text).split())[:limit]


# --- writes -------------------------------------------------------------------------------------


def correction_input(record: CreditRecord, **changes: Any) -> RecordInput:
    """The record as a ``RecordInput`` (structured fields included, identity numbers decrypted for
    re-validation only), with ``changes`` applied: the starting point of a correction."""
    definitions = {d["key"]: d for d in record.item.fields}
    fields: dict[str, Any] = {}
    for key, value in (record.fields or {}).items():
        if definitions.get(key, {}).get("type") == "identity" and isinstance(value, dict):
            fields[key] = personal_data.decrypt(value["cipher"])
        else:
            fields[key] = value
    data = RecordInput(
        item=record.item.code,
        code=record.entity.code,
        decision_number=record.decision_number,
        decision_date=record.decision_date,
        party_name=record.party_name,
        legal_basis=record.legal_basis,
        severity=record.severity,
        content=record.content,
        valid_from=record.valid_from,
        valid_to=record.valid_to,
        remarks=record.remarks,
        disclosure_months=record.disclosure_months,
        fields=fields,
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def _locked_record(**filters) -> CreditRecord | None:
    return (
        CreditRecord.objects.select_for_update(of=("self",))
        .select_related("item", "entity", "department")
        .filter(**filters)
        .first()
    )


def _notify_received(actor: Actor, objection: Objection, record: CreditRecord) -> None:
    number = one_line(record.decision_number, 120)
    notices.notify_department(
        actor=actor,
        department=record.department,
        capability=Cap.OBJECTIONS_ANSWER,
        kind="objections.received",
        subject_zh=one_line(f"新的异议申请：{number}"),
        subject_en=one_line(f"New objection to record {number}"),
        body_zh=f"异议编号 {objection.reference}，请于 {objection.answer_due_on:%Y-%m-%d} 前处理并答复。",
        body_en=f"Objection {objection.reference}: answer by {objection.answer_due_on:%Y-%m-%d}.",
        link=Route("staff:objection_detail", objection.pk),
        dedupe_key=f"objection.received:{objection.pk}",
    )


@transaction.atomic
def objection_submit(
    *,
    actor: Actor,
    record_id: Any,
    grounds: str,
    name: str = "",
    id_number: str = "",
    contact: str = "",
    validate_only: bool = False,
) -> Objection | None:
    """Object to a record.

    An entity user (``my:entity``) objects for an entity they act for (another record: ``NotFound``); the
    public objects to a published record as a named person with a resident identity number (kept
    as keyed hash and masked) and a contact (encrypted and masked). Only an effective or corrected
    record can be objected to, and only one objection per record may be pending (``Conflict`` when
    that is the only error; among the others otherwise). ``validate_only``: check, write nothing,
    return None. Side effects: the record is under objection, audit event, change-feed entry
    ``status``, notice to the recording department's staff who answer objections."""
    errors = Errors()
    if actor.kind == "entity":
        actor.require(Cap.OWN_ENTITY)
        pk = parse_record_id(record_id)
        entities = EntityMembership.objects.filter(user=actor.user).values("entity_id")
        record = _locked_record(pk=pk, entity_id__in=entities) if pk else None
        if record is None:
            raise NotFound
        objector = one_line(actor.user.full_name or actor.user.username, 100)
        id_hash = id_masked = ""
        reached = Contact("", "")
    elif actor.kind == "public":
        pk = parse_record_id(record_id)
        record = _locked_record(pk=pk, disclosure=CreditRecord.Disclosure.PUBLISHED) if pk else None
        if record is None:
            errors.add(
                "record", _("No published record has this number. Check the number on the record's page.")
            )
        objector = clean_into(errors, "name", name, max_length=100, required=True, single_line=True)
        id_hash = id_masked = ""
        try:
            number = validate_resident_id(
                clean_text(id_number, max_length=40, required=True, single_line=True)
            )
        except ValidationError as exc:
            for message in exc.messages:
                errors.add("id_number", message)
        else:
            id_hash, id_masked = personal_data.lookup_hash(number), mask_identity_number(number)
        reached = contact_into(errors, "contact", contact, required=True)
    else:
        raise PermissionDenied(Cap.OWN_ENTITY)
    grounds = clean_into(errors, "grounds", grounds, max_length=4000, required=True)
    pending = None
    if record is not None:
        if Objection.objects.filter(record=record, status=Status.PENDING).exists():
            pending = Conflict(PENDING_OBJECTION, field="record")
        elif record.status not in OBJECTABLE:
            errors.add("record", _NOT_OBJECTABLE[record.status])
    raise_errors(errors, pending)
    if validate_only:
        return None

    objection = Objection(
        record=record,
        submitted_by=actor.user if actor.kind == "entity" else None,
        objector_name=objector,
        objector_id_masked=id_masked,
        objector_id_hash=id_hash,
        contact_cipher=reached.cipher,
        contact_masked=reached.masked,
        grounds=grounds,
        status=Status.PENDING,
        record_status_before=record.status,
        answer_due_on=workdays.deadline(rules.OBJECTION_ANSWER, timezone.localdate()),
    )

    def pending_meanwhile() -> None:
        if Objection.objects.filter(record=record, status=Status.PENDING).exists():
            raise Conflict(PENDING_OBJECTION, field="record")

    numbers.insert_numbered(
        objection,
        field="reference",
        new_number=lambda: random_code(REFERENCE_PREFIX, REFERENCE_LENGTH),
        on_conflict=pending_meanwhile,
    )

    record.status = RecordStatus.UNDER_OBJECTION
    record.save(update_fields=["status", "updated_at"])
    audit.log(
        actor=actor,
        action="records.objection.submitted",
        target=objection,
        after={
            "record": record.pk,
            "by": actor.kind,
            "record_status_before": objection.record_status_before,
            "answer_due_on": objection.answer_due_on,
        },
    )
    _emit([record], RecordChange.Kind.STATUS)
    _notify_received(actor, objection, record)
    return objection


def _answerable(actor: Actor, objection_id: int) -> Objection:
    """The objection, locked, if the actor answers objections for its record's department (or is
    the credit office); else ``NotFound``."""
    actor.require(Cap.OBJECTIONS_ANSWER)
    return rows.locked_department_row(
        Objection.objects.all(), actor=actor, field="record__department_id", pk=objection_id
    )


def _restore(objection: Objection, record: CreditRecord) -> bool:
    """Put a record that is still under objection back to its status before. A record the sweep
    or the department changed meanwhile (expired, corrected, revoked) keeps its new status."""
    if record.status != RecordStatus.UNDER_OBJECTION:
        return False
    record.status = objection.record_status_before
    record.save(update_fields=["status", "updated_at"])
    return True


SAME_VALUES = _(
    "The corrected values are the same as the record's: change what is wrong, or reject the objection."
)


def _check_change(
    errors: Errors, record: CreditRecord, answer: str, *, correction: RecordInput | None
) -> None:
    """The errors of the correction (``correction``) or revocation an upheld objection makes, with
    the answer as its reason (the answer's own errors are said once, under ``answer``)."""
    try:
        if correction is None:
            validate_revocation(record, answer, None)
        else:
            clean, _reason = validate_correction(record, correction, answer)
            if is_unchanged(record, clean):
                errors.add("correction", SAME_VALUES)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            if key == "reason":
                if "answer" in errors:
                    continue
                key = "answer"
            for message in messages:
                errors.add(key, message)


@transaction.atomic
def objection_answer(
    *,
    actor: Actor,
    objection_id: int,
    upheld: bool,
    answer: str,
    correction: RecordInput | None = None,
    revoke: bool = False,
    validate_only: bool = False,
) -> Objection | None:
    """Answer a pending objection, for the record's department (or the credit office; others 404).

    Upheld: the record is corrected with ``correction`` (the answer is the reason; a new version and
    a ``corrected`` feed entry) or revoked (``revoke``; withdrawn from public view). Rejected: the
    record returns to its status before the objection (feed entry ``status``). The answer is
    required, and an objection is answered once. The objector is told: an entity user by a notice,
    a person on the tracking page. All in one transaction: a correction that fails validation
    leaves the objection pending and the record untouched. Every error at once: the answer's, the
    outcome's and the corrected values' (or the revocation's). ``validate_only``: check, write
    nothing, return None."""
    objection = _answerable(actor, objection_id)
    if objection.status != Status.PENDING:
        raise ValidationError({"status": [str(_("This objection has already been answered or withdrawn."))]})
    errors = Errors()
    answer = clean_into(errors, "answer", answer, max_length=4000, required=True)
    if upheld and revoke and correction is not None:
        errors.add("outcome", _("Either correct the record or revoke it, not both."))
    elif upheld and not revoke and correction is None:
        errors.add("outcome", _("Say how the record changes: correct it or revoke it."))
    elif not upheld and (revoke or correction is not None):
        errors.add("outcome", _("A rejected objection leaves the record as it is."))
    record = _locked_record(pk=objection.record_id)
    if upheld and "outcome" not in errors:
        _check_change(errors, record, answer, correction=None if revoke else correction)
    raise_errors(errors)
    if validate_only:
        return None

    restored = False
    if upheld and revoke:
        record = record_revoke(actor=actor, record_id=record.pk, reason=answer)
        outcome = Objection.Outcome.REVOKED
    elif upheld:
        version = record.version
        try:
            record = record_correct(actor=actor, record_id=record.pk, data=correction, reason=answer)
        except ValidationError as exc:
            raise ValidationError(
                {("answer" if k == "reason" else k): v for k, v in exc.message_dict.items()}
            ) from exc
        if record.version == version:
            raise ValidationError({"correction": [str(SAME_VALUES)]})
        outcome = Objection.Outcome.CORRECTED
    else:
        restored = _restore(objection, record)
        outcome = Objection.Outcome.NONE

    objection.status = Status.UPHELD if upheld else Status.REJECTED
    objection.outcome = outcome
    objection.answer = answer
    objection.answered_at = timezone.now()
    objection.answered_by = actor.user
    objection.save(update_fields=["status", "outcome", "answer", "answered_at", "answered_by"])
    audit.log(
        actor=actor,
        action="records.objection.upheld" if upheld else "records.objection.rejected",
        target=objection,
        before={"status": Status.PENDING},
        after={
            "status": objection.status,
            "outcome": outcome,
            "record": record.pk,
            "record_status": record.status,
            "record_version": record.version,
            "answer": answer,
        },
    )
    if restored:
        _emit([record], RecordChange.Kind.STATUS)
    if objection.submitted_by_id is not None:
        verdict_zh, verdict_en = ("成立", "upheld") if upheld else ("不成立", "rejected")
        notices.notify_user(
            actor=actor,
            user=objection.submitted_by,
            kind="objections.answered",
            subject_zh=one_line(f"异议 {objection.reference} 已答复：{verdict_zh}"),
            subject_en=one_line(f"Objection {objection.reference} answered: {verdict_en}"),
            body_zh=answer,
            body_en=answer,
            link=Route("my:objection_list"),
            dedupe_key=f"objection.answered:{objection.pk}",
        )
    return objection


@transaction.atomic
def objection_withdraw(*, actor: Actor, objection_id: int) -> Objection:
    """The entity withdraws its pending objection (any user acting for the entity may); the record
    returns to its status before. Withdrawing twice is harmless. Side effects: audit, feed entry."""
    actor.require(Cap.OWN_ENTITY)
    entities = EntityMembership.objects.filter(user=actor.user).values("entity_id")
    objection = rows.locked_or_not_found(
        Objection.objects.all(), pk=objection_id, submitted_by__isnull=False, record__entity_id__in=entities
    )
    if objection.status == Status.WITHDRAWN:
        return objection
    if objection.status != Status.PENDING:
        raise ValidationError({"status": [str(_("Only an objection awaiting an answer can be withdrawn."))]})
    record = _locked_record(pk=objection.record_id)
    objection.status = Status.WITHDRAWN
    objection.save(update_fields=["status"])
    restored = _restore(objection, record)
    audit.log(
        actor=actor,
        action="records.objection.withdrawn",
        target=objection,
        before={"status": Status.PENDING},
        after={"status": objection.status, "record": record.pk, "record_status": record.status},
    )
    if restored:
        _emit([record], RecordChange.Kind.STATUS)
    return objection


@transaction.atomic
def objection_contact_reveal(*, actor: Actor, objection_id: int) -> str:
    """The objector's contact in clear, for the staff answering (audited); '' when none was given."""
    objection = _answerable(actor, objection_id)
    if not objection.contact_cipher:
        return ""
    audit.log(actor=actor, action="records.objection.contact_revealed", target=objection)
    return personal_data.decrypt(objection.contact_cipher)


# --- escalation ---------------------------------------------------------------------------------


def escalate_answer_deadlines(
    *,
    actor: Actor,
    items: list,
    today: date,
    capability: str,
    department_of: Callable[[Any], Any],
    content_for: Callable[[Any, bool], dict],
) -> dict[str, int]:
    """Shared by objections and complaints: for each item overdue or due within one working day,
    notify its department's staff holding ``capability`` and its administrators, once per item per
    day (the dedupe key carries the date). ``content_for(item, overdue)`` gives the notice's text
    and link. Returns counts (due soon, overdue, notices sent)."""
    counts = {"due_soon": 0, "overdue": 0, "notices": 0}
    for item in items:
        overdue = item.answer_due_on < today
        counts["overdue" if overdue else "due_soon"] += 1
        content = content_for(item, overdue)
        with transaction.atomic():
            for cap in (capability, Cap.TOKENS_MANAGE):
                sent = notices.notify_department(
                    actor=actor, department=department_of(item), capability=cap, **content
                )
                counts["notices"] += len(sent)
    return counts


def objections_escalate(*, actor: Actor, today: date) -> dict[str, int]:
    """Remind the recording department's staff who answer objections, and its administrators, of
    every pending objection overdue or due within one working day: once per objection per day,
    however often the sweep runs. Returns counts (objections due soon, overdue, notices sent)."""
    soon = workdays.add_working_days(today, 1)
    due = list(
        Objection.objects.filter(status=Status.PENDING, answer_due_on__lte=soon)
        .select_related("record", "record__department")
        .order_by("answer_due_on", "pk")
    )

    def content_for(objection: Objection, overdue: bool) -> dict:
        number = one_line(objection.record.decision_number, 120)
        due_on = f"{objection.answer_due_on:%Y-%m-%d}"
        if overdue:
            subject_zh, subject_en = f"异议答复已超期：{number}", f"Objection answer overdue: {number}"
        else:
            subject_zh, subject_en = f"异议答复即将到期：{number}", f"Objection answer due soon: {number}"
        return {
            "kind": "objections.escalated",
            "subject_zh": one_line(subject_zh),
            "subject_en": one_line(subject_en),
            "body_zh": f"异议编号 {objection.reference}，答复期限 {due_on}。",
            "body_en": f"Objection {objection.reference}, to be answered by {due_on}.",
            "link": Route("staff:objection_detail", objection.pk),
            "dedupe_key": f"objection.escalated:{objection.pk}:{today.isoformat()}",
        }

    return escalate_answer_deadlines(
        actor=actor,
        items=due,
        today=today,
        capability=Cap.OBJECTIONS_ANSWER,
        department_of=lambda o: o.record.department,
        content_for=content_for,
    )
