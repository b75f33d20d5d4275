"""Finding a pledge broken (认定违背信用承诺), with due process.

A finding of a breach is an adverse act: before it, the overseeing department tells the entity
what it intends to find (the grounds, the severity it intends, the basis and what the pledge said
breaking it means) and gives it a defence window in working days (陈述申辩; deadline rule
``pledges.breach_defence``). The entity may state its defence in ``/my/`` before the window
closes, with an attachment if it wishes. The department then confirms the finding — only once the
window has closed, or earlier when the entity has answered — or drops it. Confirming writes the
negative credit record (item ``pledge_breach``) citing the entity's answer; dropping writes none.

Pledge states: in force or overdue -> noticed (``pledge_breach_notify``) -> broken
(``pledge_confirm_breach``) or back to in force / overdue (``pledge_breach_drop``; a pledge that
meanwhile can no longer be kept lapses instead)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.notices import services as notices
from credit_portal.workdays import services as workdays
from pledges import files
from pledges.access import member_entity_ids
from pledges.models import BreachNotice, PermitApplication, Pledge
from pledges.services.common import BREACH_ITEM, one_line, text_into, write_pledge_record
from pledges.services.performance import (
    BREACH_SEVERITIES,
    UNSETTLED,
    lapse,
    pledge_subject,
    pledge_to_settle,
)
from records.fields import Errors
from records.models import EntityMembership, Severity

PStatus = Pledge.Status
NStatus = BreachNotice.Status
DEFENCE_RULE = "pledges.breach_defence"
_SEVERITY_RANK = {Severity.GENERAL: 1, Severity.SERIOUS: 2}
SWEEP_BATCH = 500


def _severity_zh(severity: str) -> str:
    return {Severity.GENERAL: "一般", Severity.SERIOUS: "严重"}.get(severity, severity)


def _due_text(notice: BreachNotice) -> tuple[str, str]:
    """The deadline as the notices say it, marked provisional where the calendar says so."""
    due = f"{notice.defence_due_on:%Y-%m-%d}"
    if notice.defence_due_is_provisional:
        return (
            f"{due}（暂定：该年度法定节假日安排尚未录入）",
            f"{due} (provisional: that year's holidays are not entered yet)",
        )
    return due, due


def _entity_users(pledge: Pledge):
    return [
        m.user
        for m in EntityMembership.objects.select_related("user")
        .filter(entity=pledge.entity)
        .order_by("user_id")
    ]


def _notify_entity(actor: Actor, pledge: Pledge, *, kind: str, subject_zh, subject_en, body_zh, body_en, key):
    link = reverse("my:pledge_my_detail", args=[pledge.number])
    for user in _entity_users(pledge):
        notices.notify_user(
            actor=actor,
            user=user,
            kind=kind,
            subject_zh=one_line(subject_zh),
            subject_en=one_line(subject_en),
            body_zh=body_zh.strip(),
            body_en=body_en.strip(),
            link=link,
            dedupe_key=key,
        )


def _open_notice(pledge: Pledge) -> BreachNotice | None:
    return (
        BreachNotice.objects.select_for_update()
        .filter(pledge=pledge, status__in=BreachNotice.OPEN)
        .order_by("-served_at", "-id")
        .first()
    )


def _not_open_error(pledge: Pledge) -> ValidationError:
    if pledge.status == PStatus.BROKEN:
        message = _("This pledge has already been found broken.")
    elif pledge.status == PStatus.FULFILLED:
        message = _("This pledge was kept; it can no longer be declared broken.")
    elif pledge.status == PStatus.LAPSED:
        message = _("This pledge has lapsed; it can no longer be declared broken.")
    else:
        message = _("No breach finding is intended for this pledge.")
    return ValidationError({"status": [str(message)]})


# --- the notice ---------------------------------------------------------------------------------


@transaction.atomic
def pledge_breach_notify(
    *, actor: Actor, number: str, grounds: str, severity: str = Severity.GENERAL, legal_basis: str = ""
) -> BreachNotice:
    """Give the entity notice that the department intends to find its pledge (in force or
    overdue) broken: ``grounds``, the ``severity`` intended and the ``legal_basis`` (by default
    what the pledge itself said breaking it means), with a defence window of the working days the
    rule ``pledges.breach_defence`` in force today gives (today not counted). The same notice
    sent again is harmless. Side effects: the notice, the pledge noticed, audit event, a notice
    (in ``/my/`` and by email) to every user of the entity."""
    pledge = pledge_to_settle(actor, number)
    errors = Errors()
    grounds = text_into(errors, "reason", grounds, max_length=2000, required=True)
    if severity not in BREACH_SEVERITIES:
        errors.add("severity", _("A broken pledge is a general or a serious breach: choose one."))
    basis = text_into(errors, "legal_basis", legal_basis, max_length=4000) or pledge.consequences.strip()
    if pledge.status == PStatus.NOTICED:
        notice = _open_notice(pledge)
        if notice is not None and (notice.grounds, notice.severity) == (grounds, severity):
            return notice  # the same notice sent again
        raise ValidationError(
            {
                "status": [
                    str(
                        _(
                            "A notice of an intended finding is already open (defence due by %(date)s): confirm or drop it first."
                        )
                        % {"date": f"{notice.defence_due_on:%Y-%m-%d}" if notice else "—"}
                    )
                ]
            }
        )
    if pledge.status not in UNSETTLED:
        raise _not_open_error(pledge)
    if not basis and "legal_basis" not in errors:
        errors.add(
            "legal_basis", _("State the basis of the intended finding: this pledge says nothing of it.")
        )
    if errors:
        raise ValidationError(dict(errors))
    today = timezone.localdate()
    days = workdays.deadline_days(DEFENCE_RULE, today)
    notice = BreachNotice.objects.create(
        pledge=pledge,
        grounds=grounds,
        severity=severity,
        legal_basis=basis,
        pledge_status_before=pledge.status,
        served_at=timezone.now(),
        served_by=actor.user,
        defence_days=days,
        defence_due_on=workdays.add_working_days(today, days),
    )
    before = pledge.status
    pledge.status = PStatus.NOTICED
    pledge.save(update_fields=["status"])
    audit.log(
        actor=actor,
        action="pledges.breach.noticed",
        target=pledge,
        before={"status": before},
        after={
            "status": pledge.status,
            "notice": notice.pk,
            "grounds": grounds,
            "severity": severity,
            "legal_basis": basis,
            "defence_days": days,
            "defence_due_on": notice.defence_due_on,
            "provisional": notice.defence_due_is_provisional,
        },
    )
    about_zh, about_en = pledge_subject(pledge)
    due_zh, due_en = _due_text(notice)
    department = pledge.department
    _notify_entity(
        actor,
        pledge,
        kind="pledges.breach_notice",
        subject_zh=f"拟认定违背信用承诺告知：{pledge.number}，请于 {due_zh} 前陈述申辩",
        subject_en=f"Intended finding that pledge {pledge.number} was broken: state your defence by {due_en}",
        body_zh=(
            f"{department.name_zh}拟认定贵单位违背就{about_zh}作出的信用承诺（{pledge.number}），"
            f"拟认定的失信程度：{_severity_zh(severity)}。\n\n事实和理由：{grounds}\n\n依据：{basis}\n\n"
            f"贵单位有权陈述、申辩，请于 {due_zh} 前在“我的信用承诺”中提交。期限届满未陈述申辩的，"
            "视为放弃陈述、申辩权利。"
        ),
        body_en=(
            f"{department.name_en or department.name_zh} intends to find that your pledge {pledge.number} "
            f"({about_en}) was broken, as a {severity} breach.\n\n"
            f"Grounds: {grounds}\n\nBasis: {basis}\n\nYou may state your defence in My pledges until "
            f"{due_en}. Once that day has passed without a defence, the finding may be made without it."
        ),
        key=f"pledges.breach_notice:{notice.pk}",
    )
    return notice


# --- the entity's defence -----------------------------------------------------------------------


def pledge_breach_answer(*, actor: Actor, number: str, defence: str, upload: Any = None) -> BreachNotice:
    """The entity states its defence against the intended finding on its pledge, before the
    window closes, optionally with one attachment (PDF, JPEG or PNG, checked and stored like
    the materials). One defence per notice: the same statement sent again is harmless, another
    is refused. Side effects: the answer and its file, audit event, a notice to the department."""
    stored: list[str] = []
    try:
        return _pledge_breach_answer(
            actor=actor, number=number, defence=defence, upload=upload, stored=stored
        )
    except BaseException:
        files.delete_quietly(stored)
        raise


@transaction.atomic
def _pledge_breach_answer(*, actor: Actor, number: str, defence: str, upload: Any, stored: list[str]):
    entity_ids = member_entity_ids(actor)
    pledge = (
        Pledge.objects.select_for_update(of=("self",))
        .select_related("entity", "department")
        .filter(number=str(number).upper(), entity_id__in=entity_ids)
        .first()
    )
    if pledge is None:
        raise Http404
    errors = Errors()
    text = text_into(errors, "defence", defence, max_length=4000, required=True)
    latest = (
        BreachNotice.objects.select_for_update().filter(pledge=pledge).order_by("-served_at", "-id").first()
    )
    if latest is not None and latest.answered_at is not None:
        if text and text == latest.defence:
            return latest  # the same defence sent again
        raise ValidationError(
            {
                "defence": [
                    str(
                        _("Your defence was received on %(date)s; it can no longer be changed.")
                        % {"date": f"{timezone.localtime(latest.answered_at):%Y-%m-%d %H:%M}"}
                    )
                ]
            }
        )
    if latest is None or not latest.is_open:
        raise ValidationError({"status": [str(_("No intended finding on this pledge awaits your defence."))]})
    today = timezone.localdate()
    if not latest.defence_window_open(today):
        raise ValidationError(
            {
                "defence": [
                    str(
                        _("The time to state a defence ended on %(date)s.")
                        % {"date": f"{latest.effective_defence_due_on:%Y-%m-%d}"}
                    )
                ]
            }
        )
    checked = None
    if upload is not None:
        try:
            checked = files.check_upload(upload)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add("file", message)
    if errors:
        raise ValidationError(dict(errors))
    latest.defence = text
    latest.answered_at = timezone.now()
    latest.answered_by = actor.user
    latest.status = NStatus.ANSWERED
    if checked is not None:
        latest.defence_file.save(files.stored_name(checked), checked.upload, save=False)
        stored.append(latest.defence_file.name)
        latest.defence_file_name = checked.original_name
    latest.save(
        update_fields=["defence", "answered_at", "answered_by", "status", "defence_file", "defence_file_name"]
    )
    audit.log(
        actor=actor,
        action="pledges.breach.answered",
        target=pledge,
        after={"notice": latest.pk, "defence": text, "file": latest.defence_file_name},
    )
    entity = pledge.entity
    notices.notify_department(
        actor=actor,
        department=pledge.department,
        capability=Cap.PLEDGES_MANAGE,
        kind="pledges.breach_answered",
        subject_zh=one_line(f"信用承诺 {pledge.number}：当事人已陈述申辩"),
        subject_en=one_line(f"Pledge {pledge.number}: the entity stated its defence"),
        body_zh=f"{entity.name_zh}（{entity.code}）对拟认定违背信用承诺提出陈述申辩。请审查后作出决定。",
        body_en=f"{entity.name_en or entity.name_zh} ({entity.code}) answered the intended breach finding. Review it and decide.",
        link=reverse("staff:pledge_staff_detail", args=[pledge.number]),
        dedupe_key=f"pledges.breach_answered:{latest.pk}",
    )
    return latest


@transaction.atomic
def breach_defence_download(*, actor: Actor, notice: BreachNotice) -> None:
    """Record that the actor (the entity's user or the department's staff) opened the defence's
    attachment. The caller has checked access."""
    audit.log(
        actor=actor,
        action="pledges.breach.defence_downloaded",
        target=notice.pledge,
        data={"notice": notice.pk},
    )


# --- the decision -------------------------------------------------------------------------------


@transaction.atomic
def pledge_confirm_breach(*, actor: Actor, number: str, reason: str, severity: str = "") -> Pledge:
    """Confirm the intended finding that the pledge was broken, once the defence window has
    closed or the entity has answered; before that, without an answer, it is refused (key
    ``deadline``) and nothing changes. ``reason`` gives the decision's reasons, which answer the
    entity's defence; ``severity`` (the notice's by default) may be lowered, never raised
    without a new notice. Confirming again is harmless. Side effects: negative credit record
    written by the confirming staff member for the pledge's department (item ``pledge_breach``,
    provenance ``system``, disclosed and restorable under the period rules) citing the entity's
    answer or its silence, the notice and the pledge decided, audit event, a notice to every user
    of the entity."""
    actor.require(Cap.RECORDS_WRITE)
    pledge = pledge_to_settle(actor, number)
    if pledge.status == PStatus.BROKEN:
        return pledge
    if pledge.status in UNSETTLED:
        raise ValidationError(
            {
                "status": [
                    str(
                        _(
                            "Give the entity notice of the intended finding first: it may state its defence before a breach is confirmed."
                        )
                    )
                ]
            }
        )
    notice = _open_notice(pledge) if pledge.status == PStatus.NOTICED else None
    if notice is None:
        raise _not_open_error(pledge)
    today = timezone.localdate()
    if notice.answered_at is None and notice.defence_window_open(today):
        due = f"{notice.effective_defence_due_on:%Y-%m-%d}"
        if notice.defence_due_is_provisional:
            due = _("%(date)s (provisional)") % {"date": due}
        raise ValidationError(
            {
                "deadline": [
                    str(
                        _(
                            "The entity may state its defence until %(date)s: confirm the breach after that day, or once it has answered."
                        )
                        % {"date": due}
                    )
                ]
            }
        )
    errors = Errors()
    reason = text_into(errors, "reason", reason, max_length=2000, required=True)
    severity = severity or notice.severity
    if severity not in BREACH_SEVERITIES:
        errors.add("severity", _("A broken pledge is a general or a serious breach: choose one."))
    elif _SEVERITY_RANK[severity] > _SEVERITY_RANK.get(notice.severity, 0):
        errors.add(
            "severity",
            _("The notice announced a %(intended)s breach: a more serious finding needs a new notice.")
            % {"intended": Severity(notice.severity).label.lower()},
        )
    if errors:
        raise ValidationError(dict(errors))
    about_zh, about_en = pledge_subject(pledge)
    entity = pledge.entity
    served = f"{timezone.localtime(notice.served_at):%Y-%m-%d}"
    if notice.answered_at is not None:
        answered = f"{timezone.localtime(notice.answered_at):%Y-%m-%d}"
        defence_zh = f"当事人于{answered}提出陈述申辩，本部门已予审查。认定理由：{reason}"
        defence_en = f"The entity stated its defence on {answered}; the department answered it."
    else:
        defence_zh = (
            f"当事人在陈述申辩期限（{notice.defence_due_on:%Y-%m-%d}前）内未提出陈述申辩。认定理由：{reason}"
        )
        defence_en = f"The entity stated no defence by {notice.defence_due_on:%Y-%m-%d}."
    record = write_pledge_record(
        actor=actor,
        entity_code=entity.code,
        decision_number=f"{pledge.number}-SX",
        content=(
            f"{entity.name_zh}违反就{about_zh}作出的信用承诺（{pledge.number}）。{notice.grounds}"
            f"本部门已于{served}告知拟认定的事实、理由和依据。{defence_zh}"
        ),
        remarks=(
            f"Pledge {pledge.number} ({about_en}) broken, confirmed by the department after notice on "
            f"{served}. {defence_en}"
        ),
        legal_basis=notice.legal_basis,
        item=BREACH_ITEM,
        severity=severity,
    )
    now = timezone.now()
    notice.status = NStatus.CONFIRMED
    notice.decided_at = now
    notice.decided_by = actor.user
    notice.decision_reason = reason
    notice.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    pledge.status = PStatus.BROKEN
    pledge.settled_at = now
    pledge.settled_by = actor.user
    pledge.breach_reason = notice.grounds
    pledge.performance_record = record
    pledge.save(update_fields=["status", "settled_at", "settled_by", "breach_reason", "performance_record"])
    audit.log(
        actor=actor,
        action="pledges.pledge.broken",
        target=pledge,
        before={"status": PStatus.NOTICED},
        after={
            "status": pledge.status,
            "notice": notice.pk,
            "reason": reason,
            "severity": severity,
            "answered": notice.answered_at is not None,
            "defence": notice.defence,
            "record": record.pk,
        },
    )
    department = pledge.department
    _notify_entity(
        actor,
        pledge,
        kind="pledges.broken",
        subject_zh=f"信用承诺 {pledge.number} 被认定为失信",
        subject_en=f"Pledge {pledge.number} was found broken",
        body_zh=f"{department.name_zh}认定：{notice.grounds}\n\n{defence_zh}\n\n{pledge.consequences}",
        body_en=(
            f"{department.name_en or department.name_zh}: {notice.grounds}\n\n{defence_en} {reason}\n\n"
            f"{pledge.consequences}"
        ),
        key=f"pledges.broken:{pledge.pk}",
    )
    return pledge


def _moot(pledge: Pledge, today: date) -> bool:
    """Whether the pledge can no longer be kept: its application closed, or its day past."""
    if pledge.valid_until is not None and pledge.valid_until < today:
        return True
    return pledge.application_id is not None and pledge.application.status in (
        PermitApplication.Status.REJECTED,
        PermitApplication.Status.WITHDRAWN,
    )


@transaction.atomic
def pledge_breach_drop(*, actor: Actor, number: str, reason: str) -> Pledge:
    """Drop the intended finding (the defence convinced, or the check found nothing): no record.
    The pledge goes back to what it was before the notice (in force, or overdue), or lapses if it
    can no longer be kept. Dropping again is harmless. Side effects: the notice decided, audit
    event, a notice to every user of the entity."""
    pledge = pledge_to_settle(actor, number)
    if pledge.status != PStatus.NOTICED:
        latest = BreachNotice.objects.filter(pledge=pledge).order_by("-served_at", "-id").first()
        if latest is not None and latest.status == NStatus.DROPPED:
            return pledge
        raise _not_open_error(pledge)
    notice = _open_notice(pledge)
    errors = Errors()
    reason = text_into(errors, "reason", reason, max_length=2000, required=True)
    if errors:
        raise ValidationError(dict(errors))
    notice.status = NStatus.DROPPED
    notice.decided_at = timezone.now()
    notice.decided_by = actor.user
    notice.decision_reason = reason
    notice.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    pledge.status = notice.pledge_status_before
    pledge.save(update_fields=["status"])
    audit.log(
        actor=actor,
        action="pledges.breach.dropped",
        target=pledge,
        before={"status": PStatus.NOTICED},
        after={"status": pledge.status, "notice": notice.pk, "reason": reason},
    )
    if _moot(pledge, timezone.localdate()):
        lapse(actor=actor, pledge=pledge, reason="breach finding dropped; the pledge can no longer be kept")
    department = pledge.department
    _notify_entity(
        actor,
        pledge,
        kind="pledges.breach_dropped",
        subject_zh=f"信用承诺 {pledge.number}：不予认定违背承诺",
        subject_en=f"Pledge {pledge.number}: no breach is found",
        body_zh=f"{department.name_zh}经审查，不予认定贵单位违背信用承诺。{reason}",
        body_en=f"{department.name_en or department.name_zh} found no breach of your pledge. {reason}",
        key=f"pledges.breach_dropped:{notice.pk}",
    )
    return pledge


# --- the sweep ----------------------------------------------------------------------------------


def breach_windows_closed(*, actor: Actor, today: date | None = None, batch: int = SWEEP_BATCH) -> list[int]:
    """Tell the department of every notice whose defence window closed before ``today`` without
    an answer: the finding may now be confirmed or dropped. Once per notice, however often it
    runs. Returns the ids of the notices this run told of."""
    today = today or timezone.localdate()
    told: list[int] = []
    last_id = 0
    while True:
        with transaction.atomic():
            due = list(
                BreachNotice.objects.select_related("pledge", "pledge__entity", "pledge__department")
                .filter(status=NStatus.SERVED, defence_due_on__lt=today, pk__gt=last_id)
                .order_by("pk")[:batch]
            )
            for notice in due:
                pledge, entity = notice.pledge, notice.pledge.entity
                sent = notices.notify_department(
                    actor=actor,
                    department=pledge.department,
                    capability=Cap.PLEDGES_MANAGE,
                    kind="pledges.breach_window_closed",
                    subject_zh=one_line(f"信用承诺 {pledge.number}：陈述申辩期限已届满，请作出决定"),
                    subject_en=one_line(
                        f"Pledge {pledge.number}: the defence window has closed, please decide"
                    ),
                    body_zh=f"{entity.name_zh}（{entity.code}）未在 {notice.defence_due_on:%Y-%m-%d} 前陈述申辩。请确认或撤回拟认定。",
                    body_en=f"{entity.name_en or entity.name_zh} ({entity.code}) stated no defence by {notice.defence_due_on:%Y-%m-%d}. Confirm or drop the intended finding.",
                    link=reverse("staff:pledge_staff_detail", args=[pledge.number]),
                    dedupe_key=f"pledges.breach_window_closed:{notice.pk}",
                )
                if sent:
                    told.append(notice.pk)
        if len(due) < batch:
            return told
        last_id = due[-1].pk
