"""How pledges are kept (履约), lapse, or come to be checked, and the daily sweep that flags
overdue materials.

A pledge is in force until kept or broken. Materials supplied by the due date keep it (a positive
credit record). The sweep flags a pledge whose materials are overdue (a suspected breach) and tells
the overseeing department; finding a breach is a procedure of its own, with notice to the entity
and a defence window (``pledges.services.breaches``)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.links import Route
from credit_portal.notices import services as notices
from pledges import selectors
from pledges.models import PermitApplication, Pledge
from pledges.services.common import PLEDGE_ITEM, department_writer, one_line, text_into
from records import services as record_services
from records.fields import Errors
from records.models import Severity

PStatus = Pledge.Status
# A minor violation is normally not published: a broken pledge is at least general, or the pledge
# system would have no consequence to show.
BREACH_SEVERITIES = (Severity.GENERAL, Severity.SERIOUS)
UNSETTLED = (PStatus.ACTIVE, PStatus.OVERDUE)
SWEEP_BATCH = 500


def pledge_subject(pledge: Pledge) -> tuple[str, str]:
    """What the pledge was about, in Chinese and English, for records and notices."""
    if pledge.application_id is not None:
        matter = pledge.application.matter
        return f"“{matter.name_zh}”许可申请（{pledge.application.number}）", (
            f"the application {pledge.application.number} for “{matter.name_en or matter.name_zh}”"
        )
    if pledge.kind == Pledge.Kind.ASSOCIATION:
        return "行业协会信用承诺", "an industry association pledge"
    return "向社会公开的信用承诺", "a voluntary public pledge"


def fulfil(*, actor: Actor, pledge: Pledge, writer: Actor, late_reason: str) -> Pledge:
    """Mark the (locked) pledge kept and write the positive record of its performance with
    ``writer``. Called inside a service's transaction."""
    before = pledge.status
    pledge.status = PStatus.FULFILLED
    pledge.settled_at = timezone.now()
    pledge.settled_by = actor.user if actor.kind == "staff" else None
    about_zh, _about_en = pledge_subject(pledge)
    if late_reason:
        content = f"{pledge.entity.name_zh}就{about_zh}作出的信用承诺（{pledge.number}）：容缺材料逾期补齐，经核查予以认可。{late_reason}"
    else:
        content = f"{pledge.entity.name_zh}就{about_zh}作出的信用承诺（{pledge.number}）已按期履行，容缺材料已补齐。"
    # The record is Chinese data and its content says it all: no remarks.
    pledge.performance_record = record_services.workflow_record_create(
        actor=writer,
        item=PLEDGE_ITEM,
        entity_code=pledge.entity.code,
        decision_number=f"{pledge.number}-LY",
        content=content,
    )
    pledge.save(update_fields=["status", "settled_at", "settled_by", "performance_record"])
    audit.log(
        actor=actor,
        action="pledges.pledge.fulfilled",
        target=pledge,
        before={"status": before},
        after={"status": pledge.status, "record": pledge.performance_record_id, "late_reason": late_reason},
    )
    return pledge


def flag_overdue(*, actor: Actor, pledge: Pledge) -> bool:
    """Flag the (locked) pledge as overdue and tell the department's ``pledges:manage`` holders
    (once per pledge, however often this runs). Returns whether it changed."""
    if pledge.status != PStatus.ACTIVE:
        return False
    pledge.status = PStatus.OVERDUE
    pledge.save(update_fields=["status"])
    audit.log(
        actor=actor,
        action="pledges.pledge.overdue",
        target=pledge,
        before={"status": PStatus.ACTIVE},
        after={"status": PStatus.OVERDUE, "materials_due_on": pledge.materials_due_on},
    )
    entity = pledge.entity
    notices.notify_department(
        actor=actor,
        department=pledge.department,
        capability=Cap.PLEDGES_MANAGE,
        kind="pledges.overdue",
        subject_zh=one_line(f"信用承诺 {pledge.number} 容缺材料逾期：请核查"),
        subject_en=one_line(f"Pledge {pledge.number}: materials overdue, please check"),
        body_zh=f"{entity.name_zh}（{entity.code}）承诺于 {pledge.materials_due_on:%Y-%m-%d} 前补齐材料，至今未补齐。核查后确认是否失信。",
        body_en=f"{entity.name_en or entity.name_zh} ({entity.code}) pledged to supply materials by {pledge.materials_due_on:%Y-%m-%d}. Check, then confirm a breach or accept.",
        link=Route("staff:pledge_staff_detail", pledge.number),
        dedupe_key=f"pledges.overdue:{pledge.pk}",
    )
    return True


def settle_by_materials(*, actor: Actor, pledge: Pledge, today: date) -> str:
    """Put a (locked) pledge in force where its materials say it stands — the completeness check
    that supplying the last material runs, run again after something held the pledge back (a
    breach finding dropped): every material in by the due date keeps it (fulfilled, the positive
    record written by the portal for the department); one still missing past the due date, or
    the last one in late, flags it overdue for the department to check (late materials are
    accepted by a person, ``pledge_accept_late``); otherwise it stays in force. Returns the
    status it ends in."""
    if pledge.status != PStatus.ACTIVE or pledge.application_id is None or pledge.materials_due_on is None:
        return pledge.status
    complete, last_on = selectors.materials_outcome(pledge)
    due = pledge.materials_due_on
    if complete and (last_on is None or last_on <= due):
        fulfil(actor=actor, pledge=pledge, writer=department_writer(pledge.department), late_reason="")
    elif complete or today > due:
        flag_overdue(actor=actor, pledge=pledge)
    return pledge.status


def pledges_flag_overdue(*, actor: Actor, today: date | None = None, batch: int = SWEEP_BATCH) -> list[int]:
    """The sweep: flag every pledge in force whose materials were due before ``today`` and are
    still missing. Batches of ``batch`` rows, each in its own transaction, locked with SKIP LOCKED
    so that concurrent runs share the work; running it again changes nothing. The sweep only
    flags: a breach is confirmed by a person. Returns the ids flagged."""
    today = today or timezone.localdate()
    flagged: list[int] = []
    while True:
        with transaction.atomic():
            due = list(
                Pledge.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("entity", "department")
                .filter(status=PStatus.ACTIVE, materials_due_on__isnull=False, materials_due_on__lt=today)
                .exclude(
                    application__status__in=[
                        PermitApplication.Status.REJECTED,
                        PermitApplication.Status.WITHDRAWN,
                    ]
                )
                .order_by("materials_due_on", "id")[:batch]
            )
            for pledge in due:
                if flag_overdue(actor=actor, pledge=pledge):
                    flagged.append(pledge.pk)
        if len(due) < batch:
            return flagged


def lapse(*, actor: Actor, pledge: Pledge, reason: str) -> bool:
    """End a (locked) pledge in force that can no longer be kept or broken: its application was
    rejected or withdrawn, or it was given until a day now past. Neither kept nor broken, so no
    credit record. Returns whether it changed."""
    if pledge.status not in UNSETTLED:
        return False
    before = pledge.status
    pledge.status = PStatus.LAPSED
    pledge.settled_at = timezone.now()
    pledge.save(update_fields=["status", "settled_at"])
    audit.log(
        actor=actor,
        action="pledges.pledge.lapsed",
        target=pledge,
        before={"status": before},
        after={"status": pledge.status, "reason": reason},
    )
    return True


def pledges_lapse_expired(*, actor: Actor, today: date | None = None) -> list[int]:
    """The sweep's second part: voluntary and association pledges given until a day before
    ``today`` lapse. Idempotent. Returns the ids that lapsed."""
    today = today or timezone.localdate()
    with transaction.atomic():
        expired = list(
            Pledge.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                status__in=UNSETTLED, valid_until__lt=today
            )
        )
        return [p.pk for p in expired if lapse(actor=actor, pledge=p, reason="valid_until passed")]


def pledge_to_settle(actor: Actor, number: str) -> Pledge:
    """The pledge, locked, if the actor's own department oversees it; else ``NotFound``."""
    actor.require(Cap.PLEDGES_MANAGE)
    return rows.locked_department_row(
        Pledge.objects.select_related("entity", "department"),
        actor=actor,
        credit_office=False,
        number=str(number).upper(),
    )


@transaction.atomic
def pledge_accept_late(
    *, actor: Actor, number: str, reason: str, validate_only: bool = False
) -> Pledge | None:
    """After checking an overdue pledge whose materials have all come in late, accept it as kept
    (for example when the delay was the department's). Side effects: positive record, audit.
    ``validate_only``: check, write nothing, return None."""
    actor.require(Cap.RECORDS_WRITE)
    pledge = pledge_to_settle(actor, number)
    if pledge.status == PStatus.FULFILLED:
        return pledge
    if pledge.status == PStatus.NOTICED:
        raise ValidationError(
            {
                "status": [
                    str(
                        _(
                            "A breach finding is intended for this pledge: drop it before accepting the pledge as kept."
                        )
                    )
                ]
            }
        )
    if pledge.status != PStatus.OVERDUE:
        raise ValidationError({"status": [str(_("Only a pledge flagged as overdue can be accepted late."))]})
    complete, _last_on = selectors.materials_outcome(pledge)
    if not complete:
        raise ValidationError(
            {
                "status": [
                    str(_("Some materials are still missing: accept the pledge once they have all come in."))
                ]
            }
        )
    errors = Errors()
    reason = text_into(errors, "reason", reason, max_length=2000, required=True)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    return fulfil(actor=actor, pledge=pledge, writer=actor, late_reason=reason)
