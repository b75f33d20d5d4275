"""The staff door for credit records: the department's records, recording a decision, review of
drafts, corrections, revocations, and the catalogue."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from credit_portal.accounts.capabilities import Cap
from credit_portal.errors import Conflict
from credit_portal.web.decorators import staff_required
from records import selectors, services, visibility
from records.fields import public_fields
from records.forms import RecordFilterForm, RecordForm, RevokeForm
from records.models import CatalogueItem, CreditRecord

PAGE_SIZE = 50


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
    items = CatalogueItem.objects.filter(is_active=True)
    item = items.filter(code=request.GET.get("item") or request.POST.get("item") or "").first()
    if item is None:
        return render(request, "staff/records/choose_item.html", {"items": items})
    form = RecordForm(request.POST or None, item=item, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.record_create(actor=request.actor, data=form.to_input(), provenance="form")
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        except Conflict as exc:
            form.add_error("decision_number", exc.message)
        else:
            if record.status == CreditRecord.Status.DRAFT:
                messages.success(
                    request, _("Recorded as a draft: a reviewer of your department confirms it.")
                )
            else:
                messages.success(request, _("Recorded."))
            return redirect("staff:record", pk=record.pk)
    return render(request, "staff/records/form.html", {"form": form, "item": item, "creating": True})


@staff_required(Cap.RECORDS_READ)
def record_detail(request, pk: int):
    actor = request.actor
    record = selectors.record_for_staff(actor, pk)
    own = actor.can(Cap.ALL_DEPARTMENTS) or record.department_id == actor.department_id
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
            and record.status not in ("revoked", "restored"),
            "can_confirm": own
            and actor.can(Cap.RECORDS_CONFIRM)
            and record.status == CreditRecord.Status.DRAFT,
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
    if request.method == "POST" and form.is_valid():
        data = form.to_input()
        data.decision_number = record.decision_number
        try:
            services.record_correct(
                actor=request.actor, record_id=record.pk, data=data, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc.message_dict)
        else:
            messages.success(
                request, _("Corrected: the correction is public and sent to every connected system.")
            )
            return redirect("staff:record", pk=record.pk)
    return render(
        request,
        "staff/records/form.html",
        {"form": form, "item": record.item, "record": record, "creating": False},
    )


@staff_required(Cap.RECORDS_WRITE)
@require_POST
def record_revoke(request, pk: int):
    record = _own_record(request, pk)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.record_revoke(
                actor=request.actor,
                record_id=record.pk,
                reason=form.cleaned_data["reason"],
                revoked_on=form.cleaned_data["revoked_on"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Revoked: the record has left public view."))
    else:
        messages.error(request, _("Give the date of revocation and the reason."))
    return redirect("staff:record", pk=record.pk)
