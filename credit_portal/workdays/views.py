"""The deadline rules page. The rules are shown on the calendar page too (``{% deadline_rules_section
%}``); this view is where the credit office's form posts, and where it comes back with errors."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit_portal.accounts.capabilities import Cap
from credit_portal.web.decorators import staff_required
from credit_portal.web.submission import submit
from credit_portal.workdays import services as workdays
from credit_portal.workdays.forms import DeadlineRuleForm


@staff_required()
@require_http_methods(["GET", "POST"])
def deadline_rules(request):
    """Anyone on staff may look; the credit office enters and corrects rules."""
    actor = request.actor
    form = DeadlineRuleForm(prefix="rule")
    if request.method == "POST":
        actor.require(Cap.CALENDAR_MANAGE)
        form = DeadlineRuleForm(request.POST, prefix="rule")
        if submit(
            form,
            lambda validate_only: workdays.deadline_rule_set(
                actor=actor, **form.cleaned_data, validate_only=validate_only
            ),
        ).ok:
            messages.success(request, _("Deadline rule saved."))
            return redirect(reverse("staff:calendar") + "#deadline-rules")
    return render(request, "workdays/deadline_rules.html", {"form": form})
