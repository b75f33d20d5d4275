"""The catalogue and the disclosure-period rules in the staff door: everyone on staff reads them,
the credit office edits them."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from credit_portal.accounts.capabilities import Cap
from credit_portal.accounts.models import Department
from credit_portal.web.decorators import staff_required
from credit_portal.web.rendering import required_if
from credit_portal.web.submission import submit
from records.models import CatalogueItem, DisclosurePeriodRule, Severity
from records.services import catalogue as catalogue_services


class CatalogueItemForm(forms.Form):
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=200)
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=200)
    polarity = forms.ChoiceField(label=gettext_lazy("Polarity"), choices=CatalogueItem.Polarity.choices)
    use_scope = forms.ChoiceField(label=gettext_lazy("Use scope"), choices=CatalogueItem.UseScope.choices)
    period_kind = forms.ChoiceField(
        label=gettext_lazy("Disclosure period"), choices=CatalogueItem.PeriodKind.choices
    )
    fixed_months = required_if(
        forms.IntegerField(
            label=gettext_lazy("Months (fixed period)"), min_value=1, max_value=600, required=False
        ),
        gettext_lazy("A fixed period needs its number of months."),
    )
    recording_departments = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Departments that may record it"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every department may."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False)
    fields = forms.CharField(
        label=gettext_lazy("Structured fields (JSON)"),
        widget=forms.Textarea(attrs={"rows": 16, "class": "code", "spellcheck": "false"}),
        help_text=gettext_lazy(
            'A list of {"key", "label_zh", "label_en", "type", "required", "max_length", "choices", "headers"}; '
            "types: text, longtext, date, decimal, choice, identity."
        ),
    )

    def clean_fields(self):
        try:
            return json.loads(self.cleaned_data["fields"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from None


class PeriodRuleForm(forms.Form):
    effective_from = forms.DateField(
        label=gettext_lazy("In force from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=Severity.choices)
    min_months = forms.IntegerField(label=gettext_lazy("Minimum period (months)"), min_value=0, max_value=600)
    max_months = forms.IntegerField(label=gettext_lazy("Maximum period (months)"), min_value=0, max_value=600)
    published_by_default = forms.BooleanField(
        label=gettext_lazy("Published by default"), required=False, initial=True
    )
    restorable = forms.BooleanField(label=gettext_lazy("Restorable"), required=False, initial=True)
    basis_zh = forms.CharField(label=gettext_lazy("Basis (Chinese)"), max_length=300)
    basis_en = forms.CharField(label=gettext_lazy("Basis (English)"), max_length=300)


@staff_required(Cap.RECORDS_READ)
@require_http_methods(["GET", "POST"])
def catalogue(request):
    actor = request.actor
    rule_form = PeriodRuleForm(request.POST or None)
    if request.method == "POST":
        actor.require(Cap.CATALOGUE_MANAGE)
        if submit(
            rule_form,
            lambda validate_only: catalogue_services.period_rule_add(
                actor=actor, **rule_form.cleaned_data, validate_only=validate_only
            ),
        ).ok:
            messages.success(request, _("Disclosure-period rule added."))
            return redirect("staff:catalogue")
    return render(
        request,
        "staff/catalogue/list.html",
        {
            "items": CatalogueItem.objects.prefetch_related("recording_departments"),
            "rules": DisclosurePeriodRule.objects.all(),
            "rule_form": rule_form,
            "can_edit": actor.can(Cap.CATALOGUE_MANAGE),
        },
    )


@staff_required(Cap.CATALOGUE_MANAGE)
@require_http_methods(["GET", "POST"])
def catalogue_item(request, code: str):
    item = get_object_or_404(CatalogueItem, code=code)
    initial = {
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "polarity": item.polarity,
        "use_scope": item.use_scope,
        "period_kind": item.period_kind,
        "fixed_months": item.fixed_months,
        "recording_departments": item.recording_departments.all(),
        "is_active": item.is_active,
        "fields": json.dumps(item.fields, ensure_ascii=False, indent=2),
    }
    form = CatalogueItemForm(request.POST or None, initial=initial)

    def save(validate_only: bool):
        # A field that did not parse is left as the item has it.
        data = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
        departments = data.pop("recording_departments", None)
        return catalogue_services.catalogue_item_update(
            actor=request.actor,
            code=item.code,
            changes=data,
            recording_departments=None if departments is None else list(departments),
            validate_only=validate_only,
        )

    if request.method == "POST" and submit(form, save).ok:
        messages.success(request, _("Catalogue item saved."))
        return redirect("staff:catalogue")
    return render(request, "staff/catalogue/item.html", {"item": item, "form": form})
