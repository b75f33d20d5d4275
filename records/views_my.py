"""The self-service door: claim an entity, see it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from credit_portal.web.decorators import entity_user_required
from credit_portal.web.submission import submit
from records import selectors, services
from records.access import entity_for_member
from records.forms import ClaimForm


@entity_user_required
def home(request):
    return render(
        request,
        "my/home.html",
        {
            "memberships": selectors.my_memberships(request.actor),
            "claims": selectors.my_claims(request.actor)[:20],
        },
    )


@entity_user_required
@require_http_methods(["GET", "POST"])
def claim(request):
    form = ClaimForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if (
        request.method == "POST"
        and submit(
            form,
            lambda validate_only: services.claim_submit(
                actor=request.actor, **form.cleaned_data, validate_only=validate_only
            ),
        ).ok
    ):
        messages.success(
            request, _("Your claim was sent. A reviewer of the registering department will decide it.")
        )
        return redirect("my:home")
    return render(request, "my/claim.html", {"form": form})


@entity_user_required
@require_POST
def claim_withdraw(request, pk: int):
    try:
        services.claim_withdraw(actor=request.actor, claim_id=pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Claim withdrawn."))
    return redirect("my:home")


@entity_user_required
def entity(request, code: str):
    entity, membership = entity_for_member(request.actor, code)
    profile = selectors.entity_public_profile(entity.code)
    return render(request, "my/entity.html", {"entity": profile, "membership": membership})
