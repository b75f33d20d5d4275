"""The staff door: the entity registry and the review of entity claims."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from credit_portal.accounts.capabilities import Cap
from credit_portal.web.decorators import staff_required
from credit_portal.web.submission import submit
from records import selectors, services
from records.access import can_edit_entity, entity_for_edit
from records.forms import ClaimDecisionForm, EntityForm, PersonForm, SearchForm
from records.models import EntityClaim

PAGE_SIZE = 50


@staff_required(Cap.ENTITIES_READ)
def registry(request):
    form = SearchForm(request.GET or None)
    q = division = ""
    if form.is_valid():
        q, division = form.cleaned_data["q"], form.cleaned_data["division"]
    mine = request.GET.get("mine") == "1"
    qs = selectors.registry_for_staff(request.actor, q, mine=mine, division=division)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "staff/registry.html", {"form": form, "page_obj": page, "mine": mine})


@staff_required(Cap.ENTITIES_WRITE)
@require_http_methods(["GET", "POST"])
def entity_create(request):
    form = EntityForm(request.POST or None)
    if request.method == "POST":
        outcome = submit(
            form,
            lambda validate_only: services.entity_register(
                actor=request.actor, data=form.to_input(), validate_only=validate_only
            ),
        )
        if outcome.ok:
            messages.success(request, _("Entity registered."))
            return redirect("staff:entity", code=outcome.result.code)
    return render(request, "staff/entity_form.html", {"form": form, "creating": True})


@staff_required(Cap.ENTITIES_READ)
def entity_detail(request, code: str):
    entity = selectors.entity_public_profile(code)
    if entity is None:
        raise Http404
    return _entity_page(request, entity)


def _entity_page(request, entity, revealed: dict | None = None, person_form: PersonForm | None = None):
    actor = request.actor
    editable = can_edit_entity(actor, entity)
    return render(
        request,
        "staff/entity.html",
        {
            "entity": entity,
            "editable": editable,
            "can_reveal": actor.can(Cap.PERSONS_IDENTITY) and editable,
            "can_record": actor.can(Cap.RECORDS_WRITE),
            "revealed": revealed,
            "person_form": person_form or (PersonForm() if editable else None),
        },
        status=400 if person_form is not None and person_form.errors else 200,
    )


@staff_required(Cap.ENTITIES_WRITE)
@require_POST
def person_add(request, code: str):
    entity = entity_for_edit(request.actor, code)
    form = PersonForm(request.POST)
    outcome = submit(
        form,
        lambda validate_only: services.entity_person_add(
            actor=request.actor, code=entity.code, person=form.to_input(), validate_only=validate_only
        ),
    )
    if outcome.ok:
        messages.success(request, _("Person linked to the entity."))
        return redirect("staff:entity", code=entity.code)
    return _entity_page(request, selectors.entity_public_profile(entity.code), person_form=form)


@staff_required(Cap.ENTITIES_WRITE)
@require_POST
def person_end(request, code: str, link_id: int):
    services.entity_person_end(actor=request.actor, code=code, link_id=link_id)
    messages.success(request, _("The person's role in the entity has ended."))
    return redirect("staff:entity", code=code.upper())


@staff_required(Cap.ENTITIES_WRITE)
@require_http_methods(["GET", "POST"])
def entity_edit(request, code: str):
    entity = entity_for_edit(request.actor, code)
    form = EntityForm(request.POST or None, initial=EntityForm.initial_for(entity), editing=True)
    if (
        request.method == "POST"
        and submit(
            form,
            lambda validate_only: services.entity_update(
                actor=request.actor, code=entity.code, data=form.to_input(), validate_only=validate_only
            ),
        ).ok
    ):
        messages.success(request, _("Entity updated."))
        return redirect("staff:entity", code=entity.code)
    return render(request, "staff/entity_form.html", {"form": form, "creating": False, "entity": entity})


@staff_required(Cap.PERSONS_IDENTITY)
@require_POST
def person_reveal(request, code: str, person_id: int):
    entity = selectors.entity_public_profile(code)
    if entity is None:
        raise Http404
    person, number = services.person_identity_reveal(actor=request.actor, entity=entity, person_id=person_id)
    # Shown in this response only: never stored (not even in the session), never put in a URL.
    response = _entity_page(request, entity, revealed={"person_id": person.pk, "number": number})
    response["Cache-Control"] = "no-store"
    return response


@staff_required(Cap.CLAIMS_REVIEW)
def claims(request):
    status = request.GET.get("status", EntityClaim.Status.PENDING)
    if status not in EntityClaim.Status.values:
        status = EntityClaim.Status.PENDING
    qs = selectors.claims_for_review(request.actor, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/claims.html",
        {"page_obj": page, "status": status, "statuses": EntityClaim.Status.choices},
    )


@staff_required(Cap.CLAIMS_REVIEW)
@require_http_methods(["GET", "POST"])
def claim_decide(request, pk: int):
    claim = get_object_or_404(
        selectors.claims_for_review(request.actor, status=EntityClaim.Status.PENDING), pk=pk
    )
    form = ClaimDecisionForm(request.POST or None)
    if (
        request.method == "POST"
        and submit(
            form,
            lambda validate_only: services.claim_decide(
                actor=request.actor,
                claim_id=claim.pk,
                # Until a decision is chosen, nothing is asked of the reason.
                approve=form.cleaned_data["decision"] != "reject",
                reason=form.cleaned_data["reason"],
                validate_only=validate_only,
            ),
        ).ok
    ):
        messages.success(request, _("Claim decided."))
        return redirect("staff:claims")
    return render(request, "staff/claim_decide.html", {"claim": claim, "form": form})
