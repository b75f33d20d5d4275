from django import forms
from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department
from records.models import CatalogueItem


def _choices() -> tuple[list, list]:
    """The filter choices, cached for five minutes per language: the catalogue and the departments
    change a few times a year, the search page is asked thousands of times a minute."""
    key = f"disclosure:search-choices:{get_language()}"
    cached = cache.get(key)
    if cached is None:
        cached = (
            [(i.code, i.name) for i in CatalogueItem.objects.filter(is_active=True, use_scope="public")],
            [(d.code, d.name) for d in Department.objects.filter(is_active=True).order_by("code")],
        )
        cache.set(key, cached, 300)
    return cached


class PublicSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, unified social credit code or decision number"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    item = forms.ChoiceField(label=_("Kind of information"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    division = forms.RegexField(
        label=_("Administrative division code"), regex=r"^\d{6}$", required=False, max_length=6
    )
    date_from = forms.DateField(
        label=_("Decided from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Decided until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        items, departments = _choices()
        self.fields["item"].choices = [("", _("All")), *items]
        self.fields["department"].choices = [("", _("All")), *departments]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data
