"""Review: what a clerk records, corrects or revokes, a reviewer of the department confirms.

- A clerk's form entry is a draft (``record_create``); a clerk's file import is a batch of drafts
  unless the department's rule says otherwise (``records_import``); a reviewer confirms a draft
  (``record_confirm``) or a whole reviewed import at once (``import_job_confirm``).
- A clerk's correction or revocation of a standing record is a proposal (``record_change_propose``)
  that changes nothing until a reviewer confirms it (``proposal_confirm``) or rejects it
  (``proposal_reject``); the clerk may withdraw it meanwhile (``proposal_withdraw``).
- Reviewers are notified of what waits for them; the queue is ``records.selectors.review_queue``.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit_portal import rows
from credit_portal.accounts.actors import Actor
from credit_portal.accounts.capabilities import Cap
from credit_portal.audit import services as audit
from credit_portal.errors import Conflict
from credit_portal.links import Route
from credit_portal.notices import services as notices
from credit_portal.text import invisible_error
from records.fields import CleanRecord, RecordInput, RecordValidator
from records.models import CatalogueItem, CreditRecord, ImportJob, MarketEntity, RecordChange, RecordProposal
from records.services.credit import (
    _discard,
    _emit,
    _record_for_department,
    apply_correction,
    apply_revocation,
    is_unchanged,
    needs_review,
    validate_correction,
    validate_revocation,
)

Status = CreditRecord.Status
Proposal = RecordProposal
_CLEAN_DATES = ("decision_date", "valid_from", "valid_to")


# --- notices -------------------------------------------------------------------------------------


def _notify(*, actor: Actor, department, kind: str, subject_zh: str, subject_en: str, body_zh, body_en, key):
    notices.notify_department(
        actor=actor,
        department=department,
        capability=Cap.RECORDS_CONFIRM,
        kind=kind,
        subject_zh=subject_zh,
        subject_en=subject_en,
        body_zh=body_zh,
        body_en=body_en,
        link=Route("staff:review_queue"),
        dedupe_key=key,
    )


def notify_reviewers_of_draft(*, actor: Actor, record: CreditRecord) -> None:
    _notify(
        actor=actor,
        department=record.department,
        kind="records.draft",
        subject_zh=f"待审核的信用记录：{record.decision_number}",
        subject_en=f"A credit record awaits review: {record.decision_number}",
        body_zh=f"{actor.label} 录入了 {record.party_name} 的信用记录 {record.decision_number}，请审核确认。",
        body_en=f"{actor.label} recorded {record.decision_number} about {record.party_name}; please review it.",
        key=f"records.draft:{record.pk}",
    )


def notify_reviewers_of_import(*, actor: Actor, job: ImportJob, drafts: int) -> None:
    if not drafts:
        return
    _notify(
        actor=actor,
        department=job.department,
        kind="records.import_drafts",
        subject_zh=f"待审核的导入文件：{job.original_name}（{drafts} 条）",
        subject_en=f"An import awaits review: {job.original_name} ({drafts} rows)",
        body_zh=f"{job.actor_label} 导入的文件 {job.original_name} 产生了 {drafts} 条待审核的信用记录，审核后可一并确认。",
        body_en=f"The file {job.original_name} imported by {job.actor_label} holds {drafts} draft records; "
        "review them and confirm the batch.",
        key=f"records.import_drafts:{job.pk}",
    )


def _notify_of_proposal(actor: Actor, proposal: RecordProposal) -> None:
    record = proposal.record
    if proposal.kind == Proposal.Kind.CORRECTION:
        zh, en = "更正", "correction"
    else:
        zh, en = "撤销", "revocation"
    _notify(
        actor=actor,
        department=proposal.department,
        kind="records.proposal",
        subject_zh=f"待审核的{zh}申请：{record.decision_number}",
        subject_en=f"A proposed {en} awaits review: {record.decision_number}",
        body_zh=f"{proposal.proposed_by_label} 申请{zh}信用记录 {record.decision_number}，理由：{proposal.reason}",
        body_en=f"{proposal.proposed_by_label} proposes the {en} of {record.decision_number}: {proposal.reason}",
        key=f"records.proposal:{proposal.pk}",
    )


# --- import batches --------------------------------------------------------------------------------


@transaction.atomic
def import_job_confirm(*, actor: Actor, job_id: int) -> list[int]:
    """A reviewer confirms every draft a reviewed import produced, in one statement: they become
    effective (the disclosure sweep may publish them) and reach the change feed. Idempotent: a
    second call confirms nothing more. Returns the ids confirmed."""
    actor.require(Cap.RECORDS_CONFIRM)
    job = rows.locked_department_row(ImportJob.objects.all(), actor=actor, pk=job_id)
    if job.status != ImportJob.Status.DONE:
        raise ValidationError(
            {"job": [str(_("The import has not finished yet: confirm it when it is done."))]}
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE records_creditrecord SET updated_at = %s, "
            "status = CASE WHEN disclosure = 'ended' THEN 'expired' ELSE 'effective' END "
            "WHERE import_job_id = %s AND department_id = %s AND status = 'draft' RETURNING id",
            [timezone.now(), job.pk, job.department_id],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    if ids:
        audit.log(
            actor=actor,
            action="records.import.confirmed",
            target=job,
            data={"records": ids, "count": len(ids)},
        )
        confirmed = list(
            CreditRecord.objects.select_related("item", "entity", "department").filter(pk__in=ids)
        )
        _emit(sorted(confirmed, key=lambda r: r.pk), RecordChange.Kind.CREATED)
    return ids


@transaction.atomic
def import_job_reject(*, actor: Actor, job_id: int, reason: str) -> list[int]:
    """A reviewer rejects a reviewed import: every draft it produced is discarded (never effective,
    never published, never sent to connected systems). Returns the ids discarded."""
    actor.require(Cap.RECORDS_CONFIRM)
    job = rows.locked_department_row(ImportJob.objects.all(), actor=actor, pk=job_id)
    drafts = list(
        CreditRecord.objects.select_for_update()
        .filter(import_job=job, department_id=job.department_id, status=Status.DRAFT)
        .order_by("pk")
    )
    if not drafts:
        return []
    _discard(actor, drafts, reason=reason)
    return [r.pk for r in drafts]


# --- proposals -------------------------------------------------------------------------------------


def _serialise(clean: CleanRecord) -> dict:
    values = {
        "item": clean.item.code,
        "entity_id": clean.entity_id,
        "entity_name": clean.entity_name,
        "entity_name_en": clean.entity_name_en,
        "code": clean.code,
        "party_name": clean.party_name,
        "decision_number": clean.decision_number,
        "legal_basis": clean.legal_basis,
        "severity": clean.severity,
        "content": clean.content,
        "remarks": clean.remarks,
        "disclosure_months": clean.disclosure_months,
        "fields": clean.fields,
    }
    for name in _CLEAN_DATES:
        value = getattr(clean, name)
        values[name] = value.isoformat() if value else None
    return values


def _deserialise(values: dict) -> CleanRecord:
    item = CatalogueItem.objects.filter(code=values["item"], is_active=True).first()
    if item is None or not MarketEntity.objects.filter(pk=values["entity_id"]).exists():
        raise ValidationError(
            {"proposal": [str(_("The catalogue item or the entity of this correction no longer exists."))]}
        )
    dates = {name: date.fromisoformat(values[name]) if values.get(name) else None for name in _CLEAN_DATES}
    return CleanRecord(
        item=item,
        entity_id=values["entity_id"],
        entity_name=values["entity_name"],
        entity_name_en=values["entity_name_en"],
        code=values["code"],
        party_name=values["party_name"],
        decision_number=values["decision_number"],
        legal_basis=values["legal_basis"],
        severity=values["severity"],
        content=values["content"],
        remarks=values["remarks"],
        disclosure_months=values["disclosure_months"],
        fields=values["fields"],
        **dates,
    )


@transaction.atomic
def record_change_propose(
    *,
    actor: Actor,
    record_id: int,
    kind: str,
    reason: str,
    data: RecordInput | None = None,
    revoked_on: date | None = None,
    validate_only: bool = False,
) -> RecordProposal | None:
    """A clerk proposes the correction (``data``) or the revocation (``revoked_on``) of a standing
    record of the department: validated now, as the change itself would be, applied only when a
    reviewer confirms. One pending proposal per record. ``validate_only``: check, write nothing,
    return None. Side effects: audit event, notice to the department's reviewers."""
    record = _record_for_department(actor, record_id, Cap.RECORDS_WRITE)
    if kind not in Proposal.Kind.values:
        raise ValueError(f"unknown proposal kind {kind!r}")
    if record.status == Status.REVOKED or (
        kind == Proposal.Kind.CORRECTION and record.status == Status.RESTORED
    ):
        raise ValidationError({"status": [str(_("This record can no longer be changed."))]})
    values: dict = {}
    if kind == Proposal.Kind.CORRECTION:
        if data is None:
            raise ValueError("a correction needs its data")
        clean, reason = validate_correction(record, data, reason)
        if is_unchanged(record, clean):
            raise ValidationError({"__all__": [str(_("The correction changes nothing."))]})
        values = _serialise(clean)
    else:
        reason, revoked_on = validate_revocation(record, reason, revoked_on)
    if validate_only:
        return None
    proposal = RecordProposal(
        record=record,
        department=record.department,
        kind=kind,
        base_version=record.version,
        values=values,
        reason=reason,
        revoked_on=revoked_on if kind == Proposal.Kind.REVOCATION else None,
        proposed_by=actor.user,
        proposed_by_label=actor.label[:200],
    )
    try:
        with transaction.atomic():
            proposal.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            _(
                "A proposed change of this record already awaits review: it is confirmed, rejected or withdrawn first."
            ),
            field="__all__",
        ) from None
    audit.log(
        actor=actor,
        action="records.proposal.made",
        target=record,
        data={"proposal": proposal.pk, "kind": kind, "reason": reason, "base_version": record.version},
    )
    _notify_of_proposal(actor, proposal)
    return proposal


def _pending_proposal(actor: Actor, proposal_id: int, capability: str) -> RecordProposal:
    actor.require(capability)
    return rows.locked_department_row(
        RecordProposal.objects.select_related("record"), actor=actor, pk=proposal_id
    )


def _decide(actor: Actor, proposal: RecordProposal, status: str, note: str) -> None:
    proposal.status = status
    proposal.decided_by_label = actor.label[:200]
    proposal.decided_at = timezone.now()
    proposal.decision_note = note
    proposal.save(update_fields=["status", "decided_by_label", "decided_at", "decision_note"])


@transaction.atomic
def proposal_confirm(*, actor: Actor, proposal_id: int, note: str = "") -> RecordProposal:
    """A reviewer confirms a proposal: the correction or revocation is applied now, as if the
    reviewer had made it, citing the proposal. A proposal made on an older version of the record
    (it was corrected since) is refused: reject it and let the clerk propose again. Idempotent."""
    proposal = _pending_proposal(actor, proposal_id, Cap.RECORDS_CONFIRM)
    if proposal.status == Proposal.Status.CONFIRMED:
        return proposal
    if proposal.status != Proposal.Status.PENDING:
        raise ValidationError({"proposal": [str(_("This proposal was already decided."))]})
    if problem := invisible_error((note or "").strip()):
        raise ValidationError({"note": [problem]})
    record = _record_for_department(actor, proposal.record_id, Cap.RECORDS_CONFIRM)
    if record.version != proposal.base_version:
        raise ValidationError(
            {
                "proposal": [
                    str(
                        _(
                            "The record was changed after this proposal was made (version %(then)d, now %(now)d): reject it and propose again."
                        )
                        % {"then": proposal.base_version, "now": record.version}
                    )
                ]
            }
        )
    cited = {"proposal": proposal.pk, "proposed_by": proposal.proposed_by_label}
    if proposal.kind == Proposal.Kind.CORRECTION:
        if record.status in (Status.REVOKED, Status.RESTORED):
            raise ValidationError({"status": [str(_("A revoked or restored record cannot be corrected."))]})
        clean = _deserialise(proposal.values)
        problems = RecordValidator(
            department=record.department, today=timezone.localdate(), workflow=record.item.workflow_only
        ).recheck(clean)
        if problems:
            raise ValidationError(dict(problems))
        apply_correction(actor=actor, record=record, clean=clean, reason=proposal.reason, audit_data=cited)
    elif record.status != Status.REVOKED:
        # Checked again: the deadline rules may have changed since the proposal was made.
        reason, revoked_on = validate_revocation(record, proposal.reason, proposal.revoked_on)
        apply_revocation(
            actor=actor,
            record=record,
            reason=reason,
            revoked_on=revoked_on,
            audit_data=cited,
        )
    _decide(actor, proposal, Proposal.Status.CONFIRMED, (note or "").strip()[:2000])
    audit.log(actor=actor, action="records.proposal.confirmed", target=record, data={"proposal": proposal.pk})
    return proposal


@transaction.atomic
def proposal_reject(*, actor: Actor, proposal_id: int, note: str) -> RecordProposal:
    """A reviewer rejects a proposal, saying why; the record stays as it is."""
    proposal = _pending_proposal(actor, proposal_id, Cap.RECORDS_CONFIRM)
    if proposal.status == Proposal.Status.REJECTED:
        return proposal
    if proposal.status != Proposal.Status.PENDING:
        raise ValidationError({"proposal": [str(_("This proposal was already decided."))]})
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [str(_("Say why the proposal is rejected."))]})
    if problem := invisible_error(note):
        raise ValidationError({"note": [problem]})
    _decide(actor, proposal, Proposal.Status.REJECTED, note[:2000])
    audit.log(
        actor=actor,
        action="records.proposal.rejected",
        target=proposal.record,
        data={"proposal": proposal.pk, "note": note},
    )
    return proposal


@transaction.atomic
def proposal_withdraw(*, actor: Actor, proposal_id: int) -> RecordProposal:
    """The clerk who made a proposal takes it back before it is decided."""
    proposal = _pending_proposal(actor, proposal_id, Cap.RECORDS_WRITE)
    if proposal.status == Proposal.Status.WITHDRAWN:
        return proposal
    if proposal.proposed_by_id != getattr(actor.user, "pk", None):
        raise PermissionDenied("only the proposer withdraws a proposal")
    if proposal.status != Proposal.Status.PENDING:
        raise ValidationError({"proposal": [str(_("This proposal was already decided."))]})
    _decide(actor, proposal, Proposal.Status.WITHDRAWN, "")
    audit.log(
        actor=actor,
        action="records.proposal.withdrawn",
        target=proposal.record,
        data={"proposal": proposal.pk},
    )
    return proposal


__all__ = [
    "import_job_confirm",
    "import_job_reject",
    "needs_review",
    "notify_reviewers_of_draft",
    "notify_reviewers_of_import",
    "proposal_confirm",
    "proposal_reject",
    "proposal_withdraw",
    "record_change_propose",
]
