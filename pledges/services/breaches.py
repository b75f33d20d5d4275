"""Finding a pledge broken (认定违背信用承诺), with due process.

A finding of a breach is an adverse act: before it, the overseeing department serves the entity
notice of what it intends to find — the grounds, the severity it intends, the provision it relies
on (a law, regulation or normative document and its article) and, apart from it, what the pledge
said breaking it means — and gives it a defence window in working days (陈述申辩; deadline rule
``pledges.breach_defence``) counted from the day of service. Notice is served through the portal
(to the entity's users in ``/my/`` and by email; only when it has some) or by post, in person or
by publication, recorded with the date of service and its reference. The entity may state its
defence in ``/my/`` before the window closes, with an attachment if it wishes. The department then
confirms the finding — only once the window has closed, or earlier when the entity has answered —
or drops it. Confirming writes the negative credit record (item ``pledge_breach``) citing the
entity's answer, and serves with the decision the remedies and the restoration notice
(``pledges.services.remedies``); dropping writes none.

Pledge states: in force or overdue -> noticed (``pledge_breach_notify``) -> broken
(``pledge_confirm_breach``) or, dropped (``pledge_breach_drop``), where its materials say it
stands: kept, overdue or in force — or lapsed if it can no longer be kept."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.links import Route
from credit_portal.notices import services as notices
from credit_portal.workdays import rules
from credit_portal.workdays import services as workdays
from pledges import files
from pledges.access import member_entity_ids
from pledges.models import BreachNotice, PermitApplication, Pledge
from pledges.services.common import BREACH_ITEM, one_line, text_into
from pledges.services.performance import (
    BREACH_SEVERITIES,
    UNSETTLED,
    lapse,
    pledge_subject,
    pledge_to_settle,
    settle_by_materials,
)
from pledges.services.remedies import decision_remedies
from records import services as record_services
from records.fields import Errors, parse_date
from records.models import EntityMembership, Severity

PStatus = Pledge.Status
NStatus = BreachNotice.Status
Channel = BreachNotice.Channel
DEFENCE_RULE = rules.PLEDGE_BREACH_DEFENCE
_SEVERITY_RANK = {Severity.GENERAL: 1, Severity.SERIOUS: 2}
SWEEP_BATCH = 500
# The record's remarks field holds at most this much (records.fields).
REMARKS_MAX = 2000
# How the notices and the record say the service was made (送达方式).
_SERVED_ZH = {
    Channel.PORTAL: "通过本平台送达",
    Channel.POST: "邮寄送达",
    Channel.IN_PERSON: "直接送达",
    Channel.PUBLICATION: "公告送达",
}


def _severity_zh(severity: str) -> str:
    return {Severity.GENERAL: "一般", Severity.SERIOUS: "严重"}.get(severity, severity)


def _severity_en(severity: str) -> str:
    with translation.override("en"):
        return str(Severity(severity).label)


def _channel_en(channel: str) -> str:
    with translation.override("en"):
        return str(Channel(channel).label)


def _squash(text: str) -> str:
    return "".join(str(text).split()).casefold()


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
    """The entity's portal users who can be told (active accounts only)."""
    return [
        m.user
        for m in EntityMembership.objects.select_related("user")
        .filter(entity=pledge.entity, user__is_active=True)
        .order_by("user_id")
    ]


def _notify_entity(
    actor: Actor, pledge: Pledge, *, kind: str, subject_zh, subject_en, body_zh, body_en, key, users=None
) -> int:
    """Tell the entity's portal users (in ``/my/`` and by email). Returns how many were told."""
    link = Route("my:pledge_my_detail", pledge.number)
    users = _entity_users(pledge) if users is None else users
    for user in users:
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
    return len(users)


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


def _service_into(
    errors: Errors, pledge: Pledge, *, channel: str, served_on: Any, reference: Any, users: list, today: date
) -> tuple[date | None, str]:
    """The date of service and its reference, checked for the channel: through the portal the
    notice is served today, and only to an entity with users there; by another channel on the day
    the staff member records (not in the future, not before the pledge), with its reference."""
    reference = text_into(errors, "service_reference", reference, max_length=200)
    try:
        day = parse_date(served_on)
    except ValidationError as exc:
        errors.add("served_on", exc.messages[0])
        return None, reference
    if channel not in Channel.values:
        errors.add("channel", _("Choose how the notice was served."))
        return None, reference
    if channel == Channel.PORTAL:
        if not users:
            errors.add(
                "channel",
                _(
                    "%(entity)s has no account on the portal: a notice served there would reach no one. Serve it by post, in person or by publication, and record the date of service and its reference (e.g. the postal receipt number)."
                )
                % {"entity": pledge.entity.name_zh},
            )
        if day is not None and day != today:
            errors.add(
                "served_on",
                _(
                    "Through the portal the notice is served today: leave the date empty, or choose how it was served."
                ),
            )
        return today, reference
    if day is None:
        errors.add("served_on", _("Enter the date the notice was served."))
    elif day > today:
        errors.add("served_on", _("The date of service cannot be in the future."))
    elif day < timezone.localdate(pledge.signed_at):
        errors.add("served_on", _("The date of service is before the pledge was signed."))
    if not reference and "service_reference" not in errors:
        errors.add(
            "service_reference",
            _(
                "Enter the reference of the service: the postal receipt number, the receipt signed in person, or where and under which number the announcement was published."
            ),
        )
    return day, reference


@transaction.atomic
def pledge_breach_notify(
    *,
    actor: Actor,
    number: str,
    grounds: str,
    legal_basis: str,
    severity: str = Severity.GENERAL,
    channel: str = Channel.PORTAL,
    served_on: Any = None,
    service_reference: str = "",
    validate_only: bool = False,
) -> BreachNotice | None:
    """Serve the entity notice that the department intends to find its pledge (in force or
    overdue) broken: ``grounds``, the ``severity`` intended and ``legal_basis``, the provision
    relied on (required: what the pledge says breaking it means is told apart, and is no basis).
    ``channel`` says how it was served: through the portal (today; refused for an entity with no
    active user there), or by post, in person or by publication, on ``served_on`` with its
    ``service_reference``. The defence window is the working days the rule
    ``pledges.breach_defence`` in force on the date of service gives, counted from that date (not
    itself counted). The same notice sent again is harmless. Side effects: the notice, the pledge
    noticed, audit event, a notice (in ``/my/`` and by email) to every active user of the entity,
    whatever the channel, their number kept with the notice.
    ``validate_only``: check, write nothing, return None."""
    pledge = pledge_to_settle(actor, number)
    today = timezone.localdate()
    errors = Errors()
    grounds = text_into(errors, "reason", grounds, max_length=2000, required=True)
    if severity not in BREACH_SEVERITIES:
        errors.add("severity", _("A broken pledge is a general or a serious breach: choose one."))
    basis = text_into(errors, "legal_basis", legal_basis, max_length=2000)
    consequences = pledge.consequences.strip()
    if "legal_basis" not in errors and not basis:
        errors.add(
            "legal_basis",
            _("Cite the provision relied on: the law, regulation or normative document and its article."),
        )
    elif basis and consequences and _squash(basis) == _squash(consequences):
        errors.add(
            "legal_basis",
            _(
                "What the pledge says breaking it means is not a legal basis: cite the provision relied on (the law, regulation or normative document and its article). The notice quotes the pledge's words on their own line."
            ),
        )
    users = _entity_users(pledge)
    served, reference = _service_into(
        errors,
        pledge,
        channel=channel,
        served_on=served_on,
        reference=service_reference,
        users=users,
        today=today,
    )
    if pledge.status == PStatus.NOTICED:
        notice = _open_notice(pledge)
        if notice is not None and (
            notice.grounds,
            notice.severity,
            notice.legal_basis,
            notice.service_channel,
            notice.served_on,
            notice.service_reference,
        ) == (grounds, severity, basis, channel, served, reference):
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
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    days = workdays.deadline_days(DEFENCE_RULE, served)
    notice = BreachNotice.objects.create(
        pledge=pledge,
        grounds=grounds,
        severity=severity,
        legal_basis=basis,
        pledge_consequences=consequences,
        pledge_status_before=pledge.status,
        served_at=timezone.now(),
        served_by=actor.user,
        service_channel=channel,
        served_on=served,
        service_reference=reference,
        portal_recipients=len(users),
        defence_days=days,
        defence_due_on=workdays.add_working_days(served, days),
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
            "channel": channel,
            "served_on": served,
            "service_reference": reference,
            "portal_recipients": len(users),
            "defence_days": days,
            "defence_due_on": notice.defence_due_on,
            "provisional": notice.defence_due_is_provisional,
        },
    )
    about_zh, about_en = pledge_subject(pledge)
    due_zh, due_en = _due_text(notice)
    department = pledge.department
    service_zh = f"送达方式：{_SERVED_ZH[channel]}；送达日期：{served:%Y-%m-%d}" + (
        f"；送达凭证：{reference}" if reference else ""
    )
    service_en = f"Served: {_channel_en(channel)}, on {served:%Y-%m-%d}" + (
        f" (reference: {reference})" if reference else ""
    )
    consequences_zh = f"\n\n承诺书载明的违诺后果（不作为认定依据）：{consequences}" if consequences else ""
    consequences_en = (
        f"\n\nWhat the pledge said breaking it means (not the legal basis): {consequences}"
        if consequences
        else ""
    )
    _notify_entity(
        actor,
        pledge,
        kind="pledges.breach_notice",
        subject_zh=f"拟认定违背信用承诺告知：{pledge.number}，请于 {due_zh} 前陈述申辩",
        subject_en=f"Intended finding that pledge {pledge.number} was broken: state your defence by {due_en}",
        body_zh=(
            f"{department.name_zh}拟认定贵单位违背就{about_zh}作出的信用承诺（{pledge.number}），"
            f"拟认定的失信程度：{_severity_zh(severity)}。\n\n事实和理由：{grounds}\n\n依据：{basis}"
            f"{consequences_zh}\n\n{service_zh}。\n\n"
            f"贵单位有权陈述、申辩，请于 {due_zh} 前在“我的信用承诺”中提交（期限自送达之日起计算，送达当日不计入）。"
            "期限届满未陈述申辩的，视为放弃陈述、申辩权利。"
        ),
        body_en=(
            f"{department.name_en or department.name_zh} intends to find that your pledge {pledge.number} "
            f"({about_en}) was broken. Intended severity: {_severity_en(severity)}.\n\n"
            f"Grounds: {grounds}\n\nBasis: {basis}{consequences_en}\n\n{service_en}.\n\n"
            f"You may state your defence in My pledges until {due_en} (counted from the day of service, "
            "that day not counted). Once that day has passed without a defence, the finding may be made "
            "without it."
        ),
        key=f"pledges.breach_notice:{notice.pk}",
        users=users,
    )
    return notice


# --- the entity's defence -----------------------------------------------------------------------


def pledge_breach_answer(
    *, actor: Actor, number: str, defence: str, upload: Any = None, validate_only: bool = False
) -> BreachNotice | None:
    """The entity states its defence against the intended finding on its pledge, before the
    window closes, optionally with one attachment (PDF, JPEG or PNG, checked and stored like
    the materials). One defence per notice: the same statement sent again is harmless, another
    is refused. ``validate_only``: check, write nothing, return None. Side effects: the answer
    and its file, audit event, a notice to the department."""
    stored: list[str] = []
    try:
        return _pledge_breach_answer(
            actor=actor,
            number=number,
            defence=defence,
            upload=upload,
            stored=stored,
            validate_only=validate_only,
        )
    except BaseException:
        files.delete_quietly(stored)
        raise


@transaction.atomic
def _pledge_breach_answer(
    *, actor: Actor, number: str, defence: str, upload: Any, stored: list[str], validate_only: bool = False
):
    entity_ids = member_entity_ids(actor)
    pledge = rows.locked_or_not_found(
        Pledge.objects.select_related("entity", "department"),
        number=str(number).upper(),
        entity_id__in=entity_ids,
    )
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
    if validate_only:
        return None
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
        link=Route("staff:pledge_staff_detail", pledge.number),
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
def pledge_confirm_breach(
    *, actor: Actor, number: str, reason: str, severity: str = "", validate_only: bool = False
) -> Pledge | None:
    """Confirm the intended finding that the pledge was broken, once the defence window has
    closed or the entity has answered; before that, without an answer, it is refused (key
    ``deadline``) and nothing changes. ``reason`` gives the decision's reasons, which answer the
    entity's defence; ``severity`` (the notice's by default) may be lowered, never raised
    without a new notice. Confirming again is harmless. Side effects: negative credit record
    written by the confirming staff member for the pledge's department (item ``pledge_breach``,
    provenance ``system``, disclosed and restorable under the period rules) citing the entity's
    answer or its silence, the notice and the pledge decided, audit event, a notice to every user
    of the entity. ``validate_only``: check, write nothing, return None."""
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
    department = pledge.department
    try:
        remedies = decision_remedies(severity=severity, decided_on=today, department=department)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    about_zh, about_en = pledge_subject(pledge)
    entity = pledge.entity
    served = f"{notice.served_on:%Y-%m-%d}"
    if notice.answered_at is not None:
        answered = f"{timezone.localtime(notice.answered_at):%Y-%m-%d}"
        defence_zh = f"当事人于{answered}提出陈述申辩，本部门已予审查。认定理由：{reason}"
        defence_en = f"You stated your defence on {answered}; the department weighed it. Reasons: {reason}"
    else:
        defence_zh = (
            f"当事人在陈述申辩期限（{notice.defence_due_on:%Y-%m-%d}前）内未提出陈述申辩。认定理由：{reason}"
        )
        defence_en = f"You stated no defence by {notice.defence_due_on:%Y-%m-%d}. Reasons: {reason}"
    # The record is Chinese data: its remarks carry the remedies served with the decision (or, if
    # the credit office's wording is too long for the field, where they are and the restoration day).
    remarks = remedies.text_zh
    if len(remarks) > REMARKS_MAX:
        remarks = "救济途径及信用修复告知已随认定决定一并送达当事人。" + (
            f"自{remedies.restoration_from:%Y-%m-%d}起可以申请信用修复。" if remedies.restoration_from else ""
        )
    record = record_services.workflow_record_create(
        actor=actor,
        entity_code=entity.code,
        decision_number=f"{pledge.number}-SX",
        content=(
            f"{entity.name_zh}违反就{about_zh}作出的信用承诺（{pledge.number}）。{notice.grounds}"
            f"本部门已于{served}{_SERVED_ZH[notice.service_channel]}拟认定违背信用承诺告知，"
            f"告知拟认定的事实、理由、依据及陈述申辩权利。{defence_zh}"
        ),
        remarks=remarks,
        legal_basis=notice.legal_basis,
        item=BREACH_ITEM,
        severity=severity,
    )
    now = timezone.now()
    notice.status = NStatus.CONFIRMED
    notice.decided_at = now
    notice.decided_by = actor.user
    notice.decision_reason = reason
    notice.remedies_zh = remedies.text_zh
    notice.remedies_en = remedies.text_en
    notice.restoration_from = remedies.restoration_from
    notice.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "decision_reason",
            "remedies_zh",
            "remedies_en",
            "restoration_from",
        ]
    )
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
            "remedy_rules": remedies.rules,
            "restoration_from": remedies.restoration_from,
        },
    )
    consequences_zh = (
        f"\n\n承诺书载明的违诺后果：{notice.pledge_consequences}" if notice.pledge_consequences else ""
    )
    consequences_en = (
        f"\n\nWhat the pledge said breaking it means: {notice.pledge_consequences}"
        if notice.pledge_consequences
        else ""
    )
    _notify_entity(
        actor,
        pledge,
        kind="pledges.broken",
        subject_zh=f"信用承诺 {pledge.number} 被认定为失信",
        subject_en=f"Pledge {pledge.number} was found broken",
        body_zh=(
            f"{department.name_zh}认定贵单位违背就{about_zh}作出的信用承诺（{pledge.number}），"
            f"失信程度：{_severity_zh(severity)}。\n\n事实和理由：{notice.grounds}\n\n依据：{notice.legal_basis}"
            f"\n\n{defence_zh}{consequences_zh}\n\n{remedies.text_zh}"
        ),
        body_en=(
            f"{department.name_en or department.name_zh} found that your pledge {pledge.number} ({about_en}) "
            f"was broken. Severity: {_severity_en(severity)}.\n\nGrounds: {notice.grounds}\n\n"
            f"Basis: {notice.legal_basis}\n\n{defence_en}{consequences_en}\n\n{remedies.text_en}"
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
def pledge_breach_drop(
    *, actor: Actor, number: str, reason: str, validate_only: bool = False
) -> Pledge | None:
    """Drop the intended finding (the defence convinced, or the check found nothing): no breach
    record. The pledge lapses if it can no longer be kept; otherwise it goes back to where its
    materials say it stands, as if the notice had not held it back: every material in by the due
    date keeps it (the positive record), one missing past the due date or in late flags it overdue
    (as it does when it was overdue before the notice), else it is in force again. Dropping again
    is harmless. Side effects: the notice decided, audit event, maybe the pledge kept or flagged
    (``settle_by_materials``), a notice to every user of the entity.
    ``validate_only``: check, write nothing, return None."""
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
    if validate_only:
        return None
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
    today = timezone.localdate()
    if _moot(pledge, today):
        lapse(actor=actor, pledge=pledge, reason="breach finding dropped; the pledge can no longer be kept")
    else:
        settle_by_materials(actor=actor, pledge=pledge, today=today)
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
                    link=Route("staff:pledge_staff_detail", pledge.number),
                    dedupe_key=f"pledges.breach_window_closed:{notice.pk}",
                )
                if sent:
                    told.append(notice.pk)
        if len(due) < batch:
            return told
        last_id = due[-1].pk
