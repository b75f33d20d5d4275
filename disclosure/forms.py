from django import forms
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from credit_portal.accounts.models import Department
from credit_portal.memo import per_process
from credit_portal.web.markup import markup, markup_join
from records.models import CatalogueItem


@per_process(seconds=300)
def _choices() -> tuple[list, list]:
    """The filter choices, kept five minutes per process and language: the catalogue and the
    departments change a few times a year, the search page is asked thousands of times a minute."""
    return (
        [(i.code, i.name) for i in CatalogueItem.objects.filter(is_active=True, use_scope="public")],
        [(d.code, d.name) for d in Department.objects.filter(is_active=True).order_by("code")],
    )


def _item_choices() -> list:
    return [("", _("All")), *_choices()[0]]


def _department_choices() -> list:
    return [("", _("All")), *_choices()[1]]


@per_process(seconds=300)
def _options() -> dict[str, list[tuple[str, SafeString, SafeString]]]:
    """Each filter's ``<option>`` elements, written once per process and language: (value, the
    option, the option selected)."""
    items, departments = _choices()
    out = {}
    for name, choices in (("item", items), ("department", departments)):
        out[name] = [
            (value, markup('<option value="{}">{}</option>', value, label),
             markup('<option value="{}" selected>{}</option>', value, label))
            for value, label in [("", str(_("All"))), *choices]
        ]  # fmt: skip
    return out


class PublicSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name, unified social credit code or decision number"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    # Choices read when a value is checked (an empty one is not), not copied into every form.
    item = forms.ChoiceField(label=_("Kind of information"), required=False, choices=_item_choices)
    department = forms.ChoiceField(label=_("Department"), required=False, choices=_department_choices)
    division = forms.RegexField(
        label=_("Administrative division code"), regex=r"^\d{6}$", required=False, max_length=6
    )
    date_from = forms.DateField(
        label=_("Decided from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Decided until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data

    # --- rendering -----------------------------------------------------------------------------
    # The search page is the portal's busiest: its inputs are written here in one pass each, not
    # through Django's widget templates (a template per input and per option cost more than the
    # search). Same names, ids and attributes as the widgets would give.

    def _value(self, name: str) -> str:
        value = self.data.get(name, "") if self.is_bound else self.initial.get(name, "")
        return "" if value is None else str(value)

    def _invalid(self, name: str) -> SafeString:
        return SafeString(' aria-invalid="true"') if self.is_bound and name in self.errors else SafeString("")

    def text_input(self, name: str) -> SafeString:
        widget = self.fields[name].widget  # its attrs hold maxlength and the like; its type apart
        extra = markup_join("", ' {}="{}"', sorted(widget.attrs.items()))
        return markup(
            '<input type="{}" name="{}" id="id_{}" value="{}"{}{}>',
            widget.input_type, name, name, self._value(name), extra, self._invalid(name),
        )  # fmt: skip

    def select(self, name: str) -> SafeString:
        chosen = self._value(name)
        options = SafeString(
            "".join(selected if value == chosen else plain for value, plain, selected in _options()[name])
        )
        return markup('<select name="{}" id="id_{}"{}>{}</select>', name, name, self._invalid(name), options)

    def text_input_q(self) -> SafeString:
        return self.text_input("q")

    def filters_used(self) -> bool:
        return any(self._value(name) for name in ("item", "department", "division", "date_from", "date_to"))

    def filter_fields(self) -> list[tuple[str, str, SafeString]]:
        """(id, label, input) of each filter, in order."""
        out = []
        for name in ("item", "department", "division", "date_from", "date_to"):
            html = self.select(name) if name in ("item", "department") else self.text_input(name)
            out.append((f"id_{name}", self.fields[name].label, html))
        return out
