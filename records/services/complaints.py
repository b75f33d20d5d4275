"""Complaints and tip-offs (投诉举报) about an entity's conduct, from the public website or from a
hotline system through the API.

A complaint goes to the department that registered the entity when its unified social credit code
matches a registered entity, else to the department the submitter chose. It is answered within the
working-day deadline ``complaint.answer`` (``credit_portal.workdays.rules``) (a transfer to another department keeps the deadline)
and followed by its tracking number, which shows its progress but never its content."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import numbers, personal_data, rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.audit import services as audit
from credit_portal.links import Route
from credit_portal.notices import services as notices
from credit_portal.workdays import rules
from credit_portal.workdays import services as workdays
from records.fields import Errors
from records.identifiers import normalise_uscc, validate_uscc
from records.models import Complaint, MarketEntity
from records.selectors import active_departments
from records.services.objections import (
    clean_into,
    contact_into,
    escalate_answer_deadlines,
    one_line,
    random_code,
)

Status = Complaint.Status
Channel = Complaint.Channel

TRACKING_PREFIX = Complaint.TRACKING_PREFIX
TRACKING_LENGTH = Complaint.TRACKING_LENGTH
SUBMITTED = "records.complaint.submitted"


# --- writes -------------------------------------------------------------------------------------


def _notify(actor: Actor, complaint: Complaint, department: Department, *, transferred: bool) -> None:
    kind_zh = "举报" if complaint.kind == Complaint.Kind.TIP_OFF else "投诉"
    kind_en = "tip-off" if complaint.kind == Complaint.Kind.TIP_OFF else "complaint"
    name = one_line(complaint.entity_name, 120)
    due_on = f"{complaint.answer_due_on:%Y-%m-%d}"
    if transferred:
        subject_zh, subject_en = f"转来的{kind_zh}：{name}", f"A {kind_en} transferred to you: {name}"
        key = f"complaint.transferred:{complaint.pk}:{department.code}"
    else:
        subject_zh, subject_en = f"新的{kind_zh}：{name}", f"New {kind_en}: {name}"
        key = f"complaint.received:{complaint.pk}"
    notices.notify_department(
        actor=actor,
        department=department,
        capability=Cap.COMPLAINTS_HANDLE,
        kind="complaints.transferred" if transferred else "complaints.received",
        subject_zh=one_line(subject_zh),
        subject_en=one_line(subject_en),
        body_zh=f"请于 {due_on} 前答复。",
        body_en=f"To be answered by {due_on}.",
        link=Route("staff:complaint_detail", complaint.pk),
        dedupe_key=key,
    )


@transaction.atomic
def complaint_submit(
    *,
    actor: Actor,
    kind: str,
    entity_name: str,
    description: str,
    code: str = "",
    department: str = "",
    submitter_name: str = "",
    contact: str = "",
    external_reference: str = "",
    validate_only: bool = False,
) -> tuple[Complaint | None, bool]:
    """Record a complaint or tip-off; returns ``(complaint, created)``.

    The public (channel web; anonymous allowed: name and contact are optional, the contact is kept
    encrypted and masked) or a hotline system's token with ``complaints:write`` (channel API, with
    ``external_reference``, the hotline's ticket id). Posting a ticket id again returns the
    complaint already recorded for it (``created`` False) and changes nothing.

    Routing: the department that registered the entity when ``code`` matches a registered entity;
    otherwise ``department`` (the code of an active department), which is then required.
    ``validate_only``: check, write nothing, return ``(None, False)``. Side effects: audit event,
    notice to the department's staff who handle complaints."""
    errors = Errors()
    if actor.kind == "public":
        channel, external_reference = Channel.WEB, ""
    else:
        actor.require(Cap.COMPLAINTS_SUBMIT)
        channel = Channel.API
        external_reference = clean_into(
            errors, "external_reference", external_reference, max_length=64, required=True, single_line=True
        )
        if external_reference:
            existing = Complaint.objects.filter(
                channel=channel, submitted_by_id=actor.department_id, external_reference=external_reference
            ).first()
            if existing is not None:
                return existing, False

    if kind not in Complaint.Kind.values:
        errors.add("kind", _("Choose complaint or tip-off."))
    entity_name = clean_into(
        errors, "entity_name", entity_name, max_length=200, required=True, single_line=True
    )
    description = clean_into(errors, "description", description, max_length=5000, required=True)
    submitter_name = clean_into(errors, "submitter_name", submitter_name, max_length=100, single_line=True)
    reached = contact_into(errors, "contact", contact, required=False)

    entity = None
    code = normalise_uscc(clean_into(errors, "code", code, max_length=40, single_line=True))
    if code:
        try:
            validate_uscc(code)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add("code", message)
        else:
            entity = MarketEntity.objects.select_related("registering_department").filter(code=code).first()
    responsible = None
    if entity is not None and entity.registering_department.is_active:
        responsible = entity.registering_department
    elif "code" not in errors:
        chosen = clean_into(errors, "department", department, max_length=32, single_line=True)
        if chosen:
            responsible = active_departments().filter(code=chosen).first()
            if responsible is None:
                errors.add("department", _("Not an active department; choose one from the list."))
        elif "department" not in errors:
            errors.add(
                "department",
                _("No registered entity has this code: choose the department that should handle this.")
                if code
                else _("Give the entity's unified social credit code, or choose the department."),
            )
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None, False

    complaint = Complaint(
        kind=kind,
        channel=channel,
        external_reference=external_reference,
        submitted_by=actor.department if channel == Channel.API else None,
        entity=entity,
        entity_name=entity_name,
        description=description,
        submitter_name=submitter_name,
        contact_cipher=reached.cipher,
        contact_masked=reached.masked,
        department=responsible,
        status=Status.RECEIVED,
        answer_due_on=workdays.deadline(rules.COMPLAINT_ANSWER, timezone.localdate()),
    )

    def posted_meanwhile() -> Complaint | None:
        if not external_reference:
            return None
        # The same ticket posted twice at once: the other request recorded it.
        return Complaint.objects.filter(
            channel=channel, submitted_by_id=actor.department_id, external_reference=external_reference
        ).first()

    saved = numbers.insert_numbered(
        complaint,
        field="tracking_number",
        new_number=lambda: random_code(TRACKING_PREFIX, TRACKING_LENGTH),
        on_conflict=posted_meanwhile,
    )
    if saved is not complaint:
        return saved, False
    audit.log(
        actor=actor,
        action=SUBMITTED,
        target=complaint,
        after={
            "kind": kind,
            "channel": channel,
            "external_reference": external_reference,
            "entity": entity.code if entity is not None else None,
            "department": responsible.code,
            "routed_by": "registry"
            if entity is not None and responsible == entity.registering_department
            else "choice",
            "answer_due_on": complaint.answer_due_on,
        },
    )
    _notify(actor, complaint, responsible, transferred=False)
    return complaint, True


def _handleable(actor: Actor, complaint_id: int) -> Complaint:
    """The complaint, locked, if the actor's department is responsible for it (or the actor is the
    credit office); else ``NotFound``."""
    actor.require(Cap.COMPLAINTS_HANDLE)
    return rows.locked_department_row(
        Complaint.objects.select_related("department"), actor=actor, pk=complaint_id
    )


def _still_open(complaint: Complaint) -> None:
    if complaint.status != Status.RECEIVED:
        raise ValidationError({"status": [str(_("This complaint has already been answered."))]})


@transaction.atomic
def complaint_answer(
    *, actor: Actor, complaint_id: int, answer: str, validate_only: bool = False
) -> Complaint | None:
    """Answer a complaint (once); the submitter reads the answer on the tracking page, a hotline
    system through the API. ``validate_only``: check, write nothing, return None. Side effect:
    audit event."""
    complaint = _handleable(actor, complaint_id)
    _still_open(complaint)
    errors = Errors()
    answer = clean_into(errors, "answer", answer, max_length=5000, required=True)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    complaint.status = Status.ANSWERED
    complaint.answer = answer
    complaint.answered_at = timezone.now()
    complaint.answered_by = actor.user
    complaint.save(update_fields=["status", "answer", "answered_at", "answered_by"])
    audit.log(
        actor=actor,
        action="records.complaint.answered",
        target=complaint,
        before={"status": Status.RECEIVED},
        after={"status": complaint.status, "answer": answer},
    )
    return complaint


@transaction.atomic
def complaint_transfer(
    *, actor: Actor, complaint_id: int, department: str, reason: str, validate_only: bool = False
) -> Complaint | None:
    """Hand an open complaint to another active department, saying why. The deadline stands.
    ``validate_only``: check, write nothing, return None. Side effects: audit event, notice to the
    new department's staff who handle complaints."""
    complaint = _handleable(actor, complaint_id)
    _still_open(complaint)
    errors = Errors()
    reason = clean_into(errors, "reason", reason, max_length=2000, required=True)
    target = active_departments().filter(code=str(department or "").strip()).first()
    if target is None:
        errors.add("department", _("Choose an active department from the list."))
    elif target.pk == complaint.department_id:
        errors.add("department", _("The complaint is already with this department."))
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    before = complaint.department.code
    complaint.department = target
    complaint.save(update_fields=["department"])
    audit.log(
        actor=actor,
        action="records.complaint.transferred",
        target=complaint,
        before={"department": before},
        after={"department": target.code, "reason": reason},
    )
    _notify(actor, complaint, target, transferred=True)
    return complaint


@transaction.atomic
def complaint_contact_reveal(*, actor: Actor, complaint_id: int) -> str:
    """The submitter's contact in clear, for the responsible staff (audited); '' when none given."""
    complaint = _handleable(actor, complaint_id)
    if not complaint.contact_cipher:
        return ""
    audit.log(actor=actor, action="records.complaint.contact_revealed", target=complaint)
    return personal_data.decrypt(complaint.contact_cipher)


# --- escalation ---------------------------------------------------------------------------------


def complaints_escalate(*, actor: Actor, today: date) -> dict[str, int]:
    """Remind the responsible department's staff who handle complaints, and its administrators, of
    every open complaint overdue or due within one working day: once per complaint per day, however
    often the sweep runs. Returns counts (complaints due soon, overdue, notices sent)."""
    soon = workdays.add_working_days(today, 1)
    due = list(
        Complaint.objects.filter(status=Status.RECEIVED, answer_due_on__lte=soon)
        .select_related("department")
        .order_by("answer_due_on", "pk")
    )

    def content_for(complaint: Complaint, overdue: bool) -> dict:
        name = one_line(complaint.entity_name, 120)
        due_on = f"{complaint.answer_due_on:%Y-%m-%d}"
        if overdue:
            subject_zh, subject_en = f"投诉举报答复已超期：{name}", f"Complaint answer overdue: {name}"
        else:
            subject_zh, subject_en = f"投诉举报答复即将到期：{name}", f"Complaint answer due soon: {name}"
        return {
            "kind": "complaints.escalated",
            "subject_zh": one_line(subject_zh),
            "subject_en": one_line(subject_en),
            "body_zh": f"答复期限 {due_on}。",
            "body_en": f"To be answered by {due_on}.",
            "link": Route("staff:complaint_detail", complaint.pk),
            "dedupe_key": f"complaint.escalated:{complaint.pk}:{today.isoformat()}",
        }

    return escalate_answer_deadlines(
        actor=actor,
        items=due,
        today=today,
        capability=Cap.COMPLAINTS_HANDLE,
        department_of=lambda c: c.department,
        content_for=content_for,
    )
