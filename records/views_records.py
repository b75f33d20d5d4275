"""The staff door for credit records: the department's records, recording a decision, review of
drafts, corrections, revocations, and the catalogue."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from credit_portal.accounts.capabilities import Cap
from credit_portal.web.decorators import staff_required
from credit_portal.web.submission import error_lines, submit
from records import selectors, services, visibility
from records.fields import public_fields
from records.forms import RecordFilterForm, RecordForm, RevokeForm
from records.models import CatalogueItem, CreditRecord, RecordProposal
from records.services import review

PAGE_SIZE = 50
REVIEW_LIMIT = 100


@staff_required(Cap.RECORDS_READ)
def record_list(request):
    form = RecordFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.records_for_staff(request.actor, **{k: v for k, v in filters.items() if v})
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "staff/records/list.html", {"form": form, "page_obj": page})


@staff_required(Cap.RECORDS_WRITE)
@require_http_methods(["GET", "POST"])
def record_create(request):
    # Only what the department may record: the chooser offers nothing the service would refuse,
    # and an item asked for that the department may not record is refused with the reason.
    items = selectors.recordable_items(request.actor)
    code = request.GET.get("item") or request.POST.get("item") or ""
    item = items.filter(code=code).first() if "\x00" not in code else None
    if item is None:
        refused = (
            CatalogueItem.objects.filter(is_active=True, code=code).first()
            if code and "\x00" not in code
            else None
        )
        context = {"items": items, "refusal": _refusal(refused) if refused is not None else ""}
        return render(
            request, "staff/records/choose_item.html", context, status=403 if refused is not None else 200
        )
    form = RecordForm(request.POST or None, item=item, initial={"code": request.GET.get("code", "")})
    if request.method == "POST":
        outcome = submit(
            form,
            lambda validate_only: services.record_create(
                actor=request.actor, data=form.to_input(), provenance="form", validate_only=validate_only
            ),
        )
        if outcome.ok:
            if outcome.result.status == CreditRecord.Status.DRAFT:
                messages.success(
                    request, _("Recorded as a draft: a reviewer of your department confirms it.")
                )
            else:
                messages.success(request, _("Recorded."))
            return redirect("staff:record", pk=outcome.result.pk)
    return render(request, "staff/records/form.html", {"form": form, "item": item, "creating": True})


def _refusal(item: CatalogueItem) -> str:
    """Why the actor's department may not record ``item`` through the form (the messages of the
    records' validation, ``records.fields``)."""
    if item.workflow_only:
        return _(
            "“%(item)s” is recorded only by its own procedure (with its notice and defence window), not through the record form, a file or the records API."
        ) % {"item": item.name}
    return _("Your department may not record this catalogue item.")


@staff_required(Cap.RECORDS_READ)
def record_detail(request, pk: int):
    actor = request.actor
    record = selectors.record_for_staff(actor, pk)
    own = actor.can(Cap.ALL_DEPARTMENTS) or record.department_id == actor.department_id
    proposal = selectors.pending_proposal(record) if own else None
    # Another department's staff see what became of a record that no longer stands, not its content.
    withheld = visibility.content_withheld(actor, status=record.status, department_id=record.department_id)
    return render(
        request,
        "staff/records/detail.html",
        {
            "record": record,
            "content_withheld": withheld,
            "structured": [] if withheld else public_fields(record.item, record.fields),
            "history": selectors.record_history(record),
            "can_write": own
            and actor.can(Cap.RECORDS_WRITE)
            and record.status not in ("revoked", "restored")
            and proposal is None,
            "can_confirm": own
            and actor.can(Cap.RECORDS_CONFIRM)
            and record.status == CreditRecord.Status.DRAFT,
            # A clerk's change of a standing record is a proposal for a reviewer.
            "proposes": review.needs_review(actor) and record.status != CreditRecord.Status.DRAFT,
            "proposal": proposal,
            "proposal_changes": selectors.proposal_changes(proposal) if proposal else [],
            "can_decide_proposal": proposal is not None and actor.can(Cap.RECORDS_CONFIRM),
            "can_withdraw_proposal": proposal is not None and proposal.proposed_by_id == request.user.pk,
            "revoke_form": RevokeForm(),
        },
    )


@staff_required(Cap.RECORDS_CONFIRM)
@require_POST
def record_confirm(request, pk: int):
    services.record_confirm(actor=request.actor, record_id=pk)
    messages.success(
        request, _("Confirmed: the record is effective and will be published by the disclosure sweep.")
    )
    return redirect("staff:record", pk=pk)


def _own_record(request, pk: int) -> CreditRecord:
    record = selectors.record_for_staff(request.actor, pk)
    if not (request.actor.can(Cap.ALL_DEPARTMENTS) or record.department_id == request.actor.department_id):
        raise Http404
    return record


@staff_required(Cap.RECORDS_WRITE)
@require_http_methods(["GET", "POST"])
def record_correct(request, pk: int):
    record = _own_record(request, pk)
    form = RecordForm(
        request.POST or None, item=record.item, correcting=True, initial=RecordForm.initial_for(record)
    )
    proposes = review.needs_review(request.actor) and record.status != CreditRecord.Status.DRAFT

    def correct(validate_only: bool):
        data = form.to_input()
        data.decision_number = record.decision_number
        if proposes:
            return review.record_change_propose(
                actor=request.actor,
                record_id=record.pk,
                kind=RecordProposal.Kind.CORRECTION,
                data=data,
                reason=form.cleaned_data["reason"],
                validate_only=validate_only,
            )
        return services.record_correct(
            actor=request.actor,
            record_id=record.pk,
            data=data,
            reason=form.cleaned_data["reason"],
            validate_only=validate_only,
        )

    if request.method == "POST" and submit(form, correct).ok:
        if proposes:
            messages.success(
                request,
                _("Proposed: a reviewer of your department confirms the correction before it applies."),
            )
        else:
            messages.success(
                request, _("Corrected: the correction is public and sent to every connected system.")
            )
        return redirect("staff:record", pk=record.pk)
    return render(
        request,
        "staff/records/form.html",
        {"form": form, "item": record.item, "record": record, "creating": False, "proposes": proposes},
    )


@staff_required(Cap.RECORDS_WRITE)
@require_POST
def record_revoke(request, pk: int):
    record = _own_record(request, pk)
    form = RevokeForm(request.POST)
    proposes = review.needs_review(request.actor) and record.status != CreditRecord.Status.DRAFT

    def revoke(validate_only: bool):
        data = form.cleaned_data
        if proposes:
            return review.record_change_propose(
                actor=request.actor,
                record_id=record.pk,
                kind=RecordProposal.Kind.REVOCATION,
                reason=data["reason"],
                revoked_on=data["revoked_on"],
                validate_only=validate_only,
            )
        return services.record_revoke(
            actor=request.actor,
            record_id=record.pk,
            reason=data["reason"],
            revoked_on=data["revoked_on"],
            validate_only=validate_only,
        )

    if submit(form, revoke).ok:
        if proposes:
            messages.success(
                request,
                _("Proposed: a reviewer of your department confirms the revocation before it applies."),
            )
        else:
            messages.success(request, _("Revoked: the record has left public view."))
    else:
        # The form sits on the record's page: every error of it, at once, above the page.
        messages.error(request, " ".join(error_lines(form)))
    return redirect("staff:record", pk=record.pk)


# --- review ----------------------------------------------------------------------------------------


@staff_required(Cap.RECORDS_CONFIRM)
def review_queue(request):
    """Drafts, imported batches and proposed changes waiting for a reviewer of the department."""
    queue = selectors.review_queue(request.actor)
    return render(
        request,
        "staff/records/review.html",
        {
            "drafts": queue["drafts"][:REVIEW_LIMIT],
            "batches": queue["batches"][:REVIEW_LIMIT],
            "proposals": queue["proposals"][:REVIEW_LIMIT],
            "counts": selectors.review_counts(request.actor),
            "limit": REVIEW_LIMIT,
        },
    )


@staff_required(Cap.RECORDS_CONFIRM)
@require_POST
def import_confirm(request, pk: int):
    try:
        ids = review.import_job_confirm(actor=request.actor, job_id=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            ngettext(
                "Confirmed %(n)d imported record: the disclosure sweep publishes it when due.",
                "Confirmed %(n)d imported records: the disclosure sweep publishes them when due.",
                len(ids),
            )
            % {"n": len(ids)},
        )
    return redirect("staff:import_detail", pk=pk)


@staff_required(Cap.RECORDS_CONFIRM)
@require_POST
def import_reject(request, pk: int):
    try:
        ids = review.import_job_reject(
            actor=request.actor, job_id=pk, reason=request.POST.get("reason", "")[:2000]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            ngettext(
                "Rejected: %(n)d imported draft was discarded.",
                "Rejected: %(n)d imported drafts were discarded.",
                len(ids),
            )
            % {"n": len(ids)},
        )
    return redirect("staff:import_detail", pk=pk)


@staff_required(Cap.RECORDS_CONFIRM)
@require_POST
def proposal_decide(request, pk: int):
    note = (request.POST.get("note") or "")[:2000]
    record_id = None
    try:
        if request.POST.get("decision") == "confirm":
            proposal = review.proposal_confirm(actor=request.actor, proposal_id=pk, note=note)
            messages.success(request, _("Confirmed: the proposed change now applies."))
        elif request.POST.get("decision") == "reject":
            proposal = review.proposal_reject(actor=request.actor, proposal_id=pk, note=note)
            messages.success(request, _("Rejected: the record stays as it was."))
        else:
            raise Http404
        record_id = proposal.record_id
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if record_id is None:
        record_id = selectors.proposal_record_id(request.actor, pk)
    return redirect("staff:record", pk=record_id)


@staff_required(Cap.RECORDS_WRITE)
@require_POST
def proposal_withdraw(request, pk: int):
    try:
        proposal = review.proposal_withdraw(actor=request.actor, proposal_id=pk)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("staff:record", pk=selectors.proposal_record_id(request.actor, pk))
    messages.success(request, _("Withdrawn: the record stays as it was."))
    return redirect("staff:record", pk=proposal.record_id)
