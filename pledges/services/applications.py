"""Permit applications with or without a pledge (告知承诺制), materials supplied later against a
pledge (容缺受理), and the department's decision.

Outcomes of an application: pledge signed and nothing missing -> accepted on the spot; pledge
signed with materials missing -> accepted with materials to follow, due ``materials_due_days``
working days after acceptance; no pledge -> submitted for normal review (every material needed).
Pre-permit education is never consulted here: reading it is free and never a condition."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict
from credit_portal.links import Route
from credit_portal.notices import services as notices
from credit_portal.workdays import services as workdays
from pledges import files
from pledges.access import member_entity_ids
from pledges.models import MaterialSubmission, Matter, PermitApplication, Pledge, PledgeTemplate
from pledges.services.common import (
    APPLICATION_PREFIX,
    PLEDGE_ITEM,
    PLEDGE_PREFIX,
    Signature,
    department_writer,
    insert_numbered,
    one_line,
    signature_into,
    text_into,
)
from pledges.services.performance import lapse, settle_by_materials
from pledges.services.permits import PermitInput, permit_into, write_permit_record
from records import services as record_services
from records.access import entity_for_member
from records.fields import Errors

Status = PermitApplication.Status
OPEN = (Status.SUBMITTED, Status.ACCEPTED, Status.ACCEPTED_PENDING_MATERIALS)


@dataclass(frozen=True)
class PledgeSigning:
    """The applicant signs the matter's pledge as shown: ``template_version`` is the version the
    page displayed, so a text changed meanwhile is never signed unseen."""

    template_version: Any
    signature: Signature


def signed_text(zh: str, en: str) -> str:
    """The words as the signer saw them: the Chinese text, with its English version when there is one."""
    return f"{zh}\n\n{en}" if en else zh


def _material_key(material_id: int) -> str:
    return f"material_{material_id}"


def _template_for_signing(errors: Errors, matter: Matter, signing: PledgeSigning) -> PledgeTemplate | None:
    if not matter.pledge_allowed:
        errors.add("pledge", _("This matter does not accept a pledge: every material is needed for review."))
        return None
    template = matter.current_template()
    if template is None:
        errors.add("pledge", _("This matter has no pledge text yet; apply without a pledge."))
        return None
    if str(signing.template_version) != str(template.version):
        errors.add(
            "pledge",
            _("The pledge text was changed while you were reading it. Read the new text and sign again."),
        )
        return None
    return template


def _make_permit_pledge(
    *,
    actor: Actor,
    application: PermitApplication,
    template: PledgeTemplate,
    signer_name: str,
    due_on,
) -> Pledge:
    matter = application.matter
    pledge = Pledge(
        kind=Pledge.Kind.PERMIT,
        entity=application.entity,
        application=application,
        template=template,
        department=matter.department,
        text_signed=signed_text(template.text_zh, template.text_en),
        consequences=signed_text(template.consequences_zh, template.consequences_en),
        signer=actor.user,
        signer_name=signer_name,
        signed_at=timezone.now(),
        materials_due_on=due_on,
    )

    def already_signed() -> None:
        if Pledge.objects.filter(application=application).exists():
            raise Conflict(_("This application already has a signed pledge."), field="pledge")

    insert_numbered(pledge, PLEDGE_PREFIX, on_conflict=already_signed)
    missing = [m.name_zh for m in application.missing_materials.all()]
    content = (
        f"{application.entity.name_zh}就“{matter.name_zh}”（申请编号{application.number}）作出信用承诺。"
    )
    if missing:
        content += f"容缺材料：{'、'.join(missing)}，承诺于{due_on:%Y-%m-%d}前补齐。"
    # The record is Chinese data and its content says it all: no remarks.
    pledge.record = record_services.workflow_record_create(
        actor=department_writer(matter.department),
        item=PLEDGE_ITEM,
        entity_code=application.entity.code,
        decision_number=pledge.number,
        content=content,
    )
    pledge.save(update_fields=["record"])
    audit.log(
        actor=actor,
        action="pledges.pledge.signed",
        target=pledge,
        after={
            "kind": pledge.kind,
            "application": application.number,
            "template_version": template.version,
            "signer_name": signer_name,
            "materials_due_on": due_on,
            "record": pledge.record_id,
        },
    )
    return pledge


def application_submit(
    *,
    actor: Actor,
    matter_id: int,
    entity_code: str,
    uploads: dict[int, Any],
    missing: list[int],
    pledge: PledgeSigning | None = None,
    submission_key: uuid.UUID | None = None,
    validate_only: bool = False,
) -> PermitApplication | None:
    """Apply for a published matter for one of the actor's entities, with the materials uploaded
    now (``uploads``: material id -> file) and, with a pledge, those marked ``missing`` (only the
    ones a pledge may stand in for). Raises ``ValidationError`` with every error at once (keys
    ``material_<id>``, ``pledge``, ``signer_name``, ``confirmed``) and writes nothing then: files
    stored before a failure are removed. Side effects: application, materials, pledge and its
    neutral credit record, audit events, a notice to the department.

    ``submission_key`` makes the call idempotent: the same key from the same person (the form
    sent twice, even at the same moment) gives back the application it made the first time and
    writes nothing more; a key already used for another matter or entity is a ``Conflict``.
    ``validate_only``: check, write nothing, return None."""
    stored: list[str] = []
    try:
        return _application_submit(
            actor=actor,
            matter_id=matter_id,
            entity_code=entity_code,
            uploads=uploads,
            missing=missing,
            pledge=pledge,
            submission_key=submission_key,
            stored=stored,
            validate_only=validate_only,
        )
    except _AlreadySubmitted:
        files.delete_quietly(stored)
        # The other request committed it: this transaction was rolled back, so ask once more.
        return _application_submit(
            actor=actor,
            matter_id=matter_id,
            entity_code=entity_code,
            uploads={},
            missing=[],
            pledge=None,
            submission_key=submission_key,
            stored=[],
        )
    except BaseException:
        files.delete_quietly(stored)
        raise


class _AlreadySubmitted(Exception):
    """Another request with the same submission key inserted its application first."""


def _earlier_submission(
    actor: Actor, matter: Matter, entity, key: uuid.UUID | None
) -> PermitApplication | None:
    if key is None:
        return None
    earlier = PermitApplication.objects.filter(applicant=actor.user, submission_key=key).first()
    if earlier is not None and (earlier.matter_id, earlier.entity_id) != (matter.pk, entity.pk):
        raise Conflict(_("This form was already used for another application: open the form again."))
    return earlier


@transaction.atomic
def _application_submit(
    *,
    actor: Actor,
    matter_id: int,
    entity_code: str,
    uploads: dict[int, Any],
    missing: list[int],
    pledge: PledgeSigning | None,
    submission_key: uuid.UUID | None,
    stored: list[str],
    validate_only: bool = False,
) -> PermitApplication | None:
    entity, _membership = entity_for_member(actor, entity_code)
    matter = rows.one_or_not_found(
        Matter.objects.select_related("department"), pk=matter_id, is_published=True
    )
    earlier = _earlier_submission(actor, matter, entity, submission_key)
    if earlier is not None:
        return None if validate_only else earlier
    errors = Errors()
    materials = list(matter.materials.all())
    template = None
    signer_name = ""
    if pledge is not None:
        template = _template_for_signing(errors, matter, pledge)
        signer_name = signature_into(errors, actor, pledge.signature)
    missing_ids = {int(m) for m in missing}
    checked: dict[int, files.CheckedFile] = {}
    for material in materials:
        key = _material_key(material.pk)
        upload = uploads.get(material.pk)
        if material.pk in missing_ids:
            if upload is not None:
                errors.add(key, _("Either upload this material or mark it to follow, not both."))
            elif not (matter.pledge_allowed and material.pledge_may_replace):
                errors.add(key, _("A pledge cannot stand in for this material: upload it."))
            elif pledge is None:
                errors.add(
                    key, _("Only a signed pledge lets a material follow later: sign the pledge or upload it.")
                )
            continue
        if upload is None:
            if matter.pledge_allowed and material.pledge_may_replace:
                errors.add(key, _("Upload this material, or mark it to follow and sign the pledge."))
            else:
                errors.add(key, _("Upload this material."))
            continue
        try:
            checked[material.pk] = files.check_upload(upload)
        except ValidationError as exc:
            for message in exc.messages:
                errors.add(key, message)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None

    now = timezone.now()
    today = timezone.localdate(now)
    missing_materials = [m for m in materials if m.pk in missing_ids]
    if pledge is None:
        status, accepted_at, due_on = Status.SUBMITTED, None, None
    elif missing_materials:
        status, accepted_at = Status.ACCEPTED_PENDING_MATERIALS, now
        due_on = workdays.add_working_days(today, matter.materials_due_days)
    else:
        status, accepted_at, due_on = Status.ACCEPTED, now, None

    def submitted_meanwhile() -> None:
        if (
            submission_key is not None
            and PermitApplication.objects.filter(applicant=actor.user, submission_key=submission_key).exists()
        ):
            raise _AlreadySubmitted

    application = insert_numbered(
        PermitApplication(
            matter=matter,
            entity=entity,
            applicant=actor.user,
            status=status,
            submitted_at=now,
            accepted_at=accepted_at,
            submission_key=submission_key,
        ),
        APPLICATION_PREFIX,
        on_conflict=submitted_meanwhile,
    )
    application.missing_materials.set(missing_materials)
    for material_id, checked_file in checked.items():
        _store(actor, application, material_id, checked_file, stored, now)
    audit.log(
        actor=actor,
        action="pledges.application.submitted",
        target=application,
        after={
            "matter": matter.pk,
            "entity": entity.code,
            "status": status,
            "materials": sorted(checked),
            "missing": sorted(m.pk for m in missing_materials),
        },
    )
    if template is not None:
        _make_permit_pledge(
            actor=actor, application=application, template=template, signer_name=signer_name, due_on=due_on
        )
    _notify_department(actor, application)
    return application


def _store(actor: Actor, application, material_id: int, checked, stored: list[str], at) -> MaterialSubmission:
    submission = MaterialSubmission(
        application=application,
        material_id=material_id,
        original_name=checked.original_name,
        submitted_at=at,
        submitted_by=actor.user,
    )
    submission.file.save(files.stored_name(checked), checked.upload, save=False)
    stored.append(submission.file.name)
    submission.save(force_insert=True)
    return submission


def _notify_department(actor: Actor, application: PermitApplication) -> None:
    matter = application.matter
    notices.notify_department(
        actor=actor,
        department=matter.department,
        capability=Cap.PLEDGES_MANAGE,
        kind="pledges.application_received",
        subject_zh=one_line(f"新的许可申请 {application.number}：{matter.name_zh}"),
        subject_en=one_line(
            f"New permit application {application.number}: {matter.name_en or matter.name_zh}"
        ),
        body_zh=f"{application.entity.name_zh}（{application.entity.code}），状态：{application.get_status_display()}",
        body_en=f"{application.entity.name_en or application.entity.name_zh} ({application.entity.code})",
        link=Route("staff:application_staff_detail", application.number),
        dedupe_key=f"pledges.application:{application.pk}",
    )


def _member_application(actor: Actor, number: str) -> PermitApplication:
    """The application, locked, if the actor acts for its entity; else ``NotFound``."""
    entity_ids = member_entity_ids(actor)
    return rows.locked_or_not_found(
        PermitApplication.objects.select_related("matter", "matter__department", "entity"),
        number=str(number).upper(),
        entity_id__in=entity_ids,
    )


@transaction.atomic
def application_pledge_sign(
    *, actor: Actor, number: str, signing: PledgeSigning, validate_only: bool = False
) -> Pledge | None:
    """Sign the matter's pledge for an application submitted without one: it is accepted on the
    spot (its materials are all there). One application has one pledge: a second signing is
    refused with ``Conflict``. ``validate_only``: check, write nothing, return None. Side
    effects: pledge, its neutral record, audit events."""
    application = _member_application(actor, number)
    if Pledge.objects.filter(application=application).exists():
        raise Conflict(_("This application already has a signed pledge."), field="pledge")
    if application.status != Status.SUBMITTED:
        raise ValidationError(
            {"pledge": [str(_("A pledge can only be signed before the application is decided."))]}
        )
    errors = Errors()
    template = _template_for_signing(errors, application.matter, signing)
    signer_name = signature_into(errors, actor, signing.signature)
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    pledge = _make_permit_pledge(
        actor=actor, application=application, template=template, signer_name=signer_name, due_on=None
    )
    application.status = Status.ACCEPTED
    application.accepted_at = pledge.signed_at
    application.save(update_fields=["status", "accepted_at"])
    audit.log(
        actor=actor,
        action="pledges.application.accepted",
        target=application,
        before={"status": Status.SUBMITTED},
        after={"status": application.status, "pledge": pledge.number},
    )
    return pledge


def material_supply(
    *, actor: Actor, number: str, material_id: int, upload: Any, validate_only: bool = False
) -> MaterialSubmission | None:
    """Supply a material that followed under the pledge. When it is the last one and the due date
    has not passed, the pledge is kept (a positive credit record); past the due date the pledge is
    flagged for the department to check. Refused once a breach was confirmed. ``validate_only``:
    check, write nothing, return None. Side effects: file, audit event, maybe the pledge's
    fulfilment or flag."""
    stored: list[str] = []
    try:
        return _material_supply(
            actor=actor,
            number=number,
            material_id=material_id,
            upload=upload,
            stored=stored,
            validate_only=validate_only,
        )
    except BaseException:
        files.delete_quietly(stored)
        raise


@transaction.atomic
def _material_supply(
    *,
    actor: Actor,
    number: str,
    material_id: int,
    upload: Any,
    stored: list[str],
    validate_only: bool = False,
):
    application = _member_application(actor, number)
    pledge = Pledge.objects.select_for_update().filter(application=application).first()
    key = "file"
    if pledge is not None and pledge.status == Pledge.Status.BROKEN:
        raise ValidationError(
            {
                key: [
                    str(
                        _(
                            "The department confirmed on %(date)s that this pledge was broken: materials are no longer accepted for this application."
                        )
                        % {"date": timezone.localdate(pledge.settled_at).isoformat()}
                    )
                ]
            }
        )
    if application.status in (Status.REJECTED, Status.WITHDRAWN):
        raise ValidationError(
            {key: [str(_("This application is closed: materials are no longer accepted."))]}
        )
    missing = {m.pk: m for m in application.missing_materials.all()}
    if material_id not in missing:
        raise ValidationError({"material": [str(_("This material is not one that was to follow."))]})
    if MaterialSubmission.objects.filter(application=application, material_id=material_id).exists():
        raise ValidationError({"material": [str(_("This material has already been supplied."))]})
    if upload is None:
        raise ValidationError({key: [str(_("Choose the file to upload."))]})
    try:
        checked = files.check_upload(upload)
    except ValidationError as exc:
        raise ValidationError({key: exc.messages}) from None
    if validate_only:
        return None
    now = timezone.now()
    submission = _store(actor, application, material_id, checked, stored, now)
    audit.log(
        actor=actor,
        action="pledges.material.supplied",
        target=application,
        after={"material": material_id, "submission": submission.pk},
    )
    supplied = set(
        MaterialSubmission.objects.filter(application=application, material_id__in=list(missing)).values_list(
            "material_id", flat=True
        )
    )
    if supplied >= set(missing):
        if application.status == Status.ACCEPTED_PENDING_MATERIALS:
            application.status = Status.ACCEPTED
            application.save(update_fields=["status"])
            audit.log(
                actor=actor,
                action="pledges.application.materials_complete",
                target=application,
                before={"status": Status.ACCEPTED_PENDING_MATERIALS},
                after={"status": Status.ACCEPTED},
            )
        if pledge is not None:
            settle_by_materials(actor=actor, pledge=pledge, today=timezone.localdate(now))
    return submission


@transaction.atomic
def material_download(*, actor: Actor, submission: MaterialSubmission) -> None:
    """Record that the actor (the applicant's user or the deciding staff) opened an uploaded
    material: these files hold personal documents. The caller has checked access."""
    audit.log(
        actor=actor,
        action="pledges.material.downloaded",
        target=submission.application,
        data={"submission": submission.pk, "material": submission.material_id},
    )


@transaction.atomic
def application_decide(
    *,
    actor: Actor,
    number: str,
    approve: bool,
    reason: str = "",
    permit: PermitInput | None = None,
    validate_only: bool = False,
) -> PermitApplication | None:
    """Approve or reject an open application of the actor's department, with reasons (required to
    reject). Approving grants the permit: ``permit`` carries what the permit decision says
    (decision number and title, category, certificate, content, validity), and the permit record
    (catalogue item ``admin_permit``) is written for the department by the deciding reviewer, in
    this transaction, and disclosed by the publication deadline like any permit. Every error is raised
    at once (keys ``reason`` and those of ``PERMIT_KEYS``), and nothing is written then. The
    working days from submission to decision are recorded (the day of submission not counted).
    Deciding again the same way is harmless and writes nothing. Side effects: audit event, the
    permit record (approval), the pledge's lapse (rejection), a notice to the applicant that
    repeats what breaking the pledge means. ``validate_only``: check, write nothing, return None."""
    actor.require(Cap.PLEDGES_MANAGE)
    if approve:
        actor.require(Cap.RECORDS_WRITE)
    application = rows.locked_department_row(
        PermitApplication.objects.select_related("matter", "matter__department", "entity"),
        actor=actor,
        field="matter__department_id",
        credit_office=False,
        number=str(number).upper(),
    )
    target = Status.APPROVED if approve else Status.REJECTED
    if application.status == target:
        return None if validate_only else application
    if application.status not in OPEN:
        raise ValidationError({"status": [str(_("This application has already been decided."))]})
    now = timezone.now()
    today = timezone.localdate(now)
    errors = Errors()
    reason = text_into(errors, "reason", reason, max_length=4000, required=not approve)
    clean_permit = (
        permit_into(errors, permit, department=application.matter.department, today=today)
        if approve
        else None
    )
    if errors:
        raise ValidationError(dict(errors))
    if validate_only:
        return None
    before = application.status
    pledge = Pledge.objects.select_for_update().filter(application=application).first()
    application.status = target
    application.decided_at = now
    application.decided_by = actor.user
    application.decision_reason = reason
    application.processing_days = workdays.working_days_between(
        timezone.localdate(application.submitted_at), today
    )
    if clean_permit is not None:
        application.permit_record = write_permit_record(
            actor=actor,
            application=application,
            permit=clean_permit,
            decided_on=today,
            pledged=pledge is not None,
        )
    application.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "decision_reason",
            "processing_days",
            "permit_record",
        ]
    )
    audit.log(
        actor=actor,
        action="pledges.application.approved" if approve else "pledges.application.rejected",
        target=application,
        before={"status": before},
        after={
            "status": target,
            "reason": reason,
            "processing_days": application.processing_days,
            "permit_record": application.permit_record_id,
            "decision_number": clean_permit.decision_number if clean_permit else "",
        },
    )
    if pledge is not None and not approve:
        lapse(actor=actor, pledge=pledge, reason="application rejected")
    verdict_zh, verdict_en = ("准予许可", "approved") if approve else ("不予许可", "rejected")
    body_zh, body_en = reason, reason
    if clean_permit is not None:
        body_zh = (
            f"{clean_permit.decision_doc_name}（{clean_permit.decision_number}），"
            f"有效期 {clean_permit.valid_from:%Y-%m-%d} 至 {clean_permit.valid_to:%Y-%m-%d}。\n{reason}"
        )
        body_en = (
            f"Permit decision {clean_permit.decision_number}, valid from {clean_permit.valid_from:%Y-%m-%d} "
            f"to {clean_permit.valid_to:%Y-%m-%d}.\n{reason}"
        )
    if pledge is not None and pledge.consequences:
        body_zh += f"\n\n违反信用承诺的后果：\n{pledge.consequences}"
        body_en += f"\n\nWhat breaking your pledge means:\n{pledge.consequences}"
    notices.notify_user(
        actor=actor,
        user=application.applicant,
        kind="pledges.application_decided",
        subject_zh=one_line(f"许可申请 {application.number} 已决定：{verdict_zh}"),
        subject_en=one_line(f"Permit application {application.number} {verdict_en}"),
        body_zh=body_zh.strip(),
        body_en=body_en.strip(),
        link=Route("my:application_my_detail", application.number),
        dedupe_key=f"pledges.decided:{application.pk}",
    )
    return application
