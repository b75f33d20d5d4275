"""The credit office's page for industry associations: register an entity as an association with
its pledge system, and keep its member list (services in ``records.services.organisations``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit_portal.accounts.capabilities import Cap
from credit_portal.web.decorators import staff_required
from credit_portal.web.submission import add_service_errors, submit
from pledges.forms import AssociationRegisterForm, AssociationUpdateForm, MemberForm
from records.models import IndustryAssociation
from records.services import organisations

MANAGE = Cap.ORGANISATIONS_MANAGE


@staff_required(MANAGE)
@require_http_methods(["GET", "POST"])
def association_list(request):
    form = AssociationRegisterForm(request.POST or None)
    if request.method == "POST":
        outcome = submit(
            form,
            lambda validate_only: organisations.association_register(
                actor=request.actor, **form.cleaned_data, validate_only=validate_only
            ),
        )
        if outcome.ok:
            messages.success(request, _("Industry association registered."))
            return redirect("staff:association_detail", pk=outcome.result.pk)
    associations = (
        IndustryAssociation.objects.select_related("entity")
        .annotate(member_count=Count("members"))
        .order_by("entity__code")
    )
    return render(
        request,
        "pledges/staff/associations.html",
        {"form": form, "associations": associations},
        status=400 if request.method == "POST" else 200,
    )


@staff_required(MANAGE)
@require_http_methods(["GET", "POST"])
def association_detail(request, pk: int):
    association = IndustryAssociation.objects.select_related("entity").filter(pk=pk).first()
    if association is None:
        raise Http404
    action = request.POST.get("action", "")
    update_form = AssociationUpdateForm(
        request.POST if action == "update" else None,
        initial={
            "pledge_system_zh": association.pledge_system_zh,
            "pledge_system_en": association.pledge_system_en,
        },
    )
    member_form = MemberForm(request.POST if action == "add" else None)
    status = 200
    if request.method == "POST":
        if action == "update" and (
            submit(
                update_form,
                lambda validate_only: organisations.association_update(
                    actor=request.actor,
                    association_id=pk,
                    **update_form.cleaned_data,
                    validate_only=validate_only,
                ),
            ).ok
        ):
            messages.success(request, _("Pledge system saved."))
            return redirect("staff:association_detail", pk=pk)
        try:
            if action == "add" and member_form.is_valid():
                organisations.association_member_add(
                    actor=request.actor, association_id=pk, code=member_form.cleaned_data["code"]
                )
                messages.success(request, _("Member added."))
                return redirect("staff:association_detail", pk=pk)
            if action == "remove":
                organisations.association_member_remove(
                    actor=request.actor, association_id=pk, code=request.POST.get("code", "")
                )
                messages.success(request, _("Member removed."))
                return redirect("staff:association_detail", pk=pk)
        except ValidationError as exc:
            add_service_errors(update_form if action == "update" else member_form, exc.message_dict)
        status = 400
    return render(
        request,
        "pledges/staff/association.html",
        {
            "association": association,
            "members": association.members.order_by("code"),
            "update_form": update_form,
            "member_form": member_form,
        },
        status=status,
    )
